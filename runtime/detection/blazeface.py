"""The BlazeFace models, and the engine that runs them on our own backend with numpy post-processing."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from runtime.backends import Backend, Device, open_backend
from runtime.detection import blazeface_math as bm
from runtime.results import Box, Detection


@dataclass(frozen=True)
class BlazeFaceModel:
    """One BlazeFace variant: its file and the decoding options MediaPipe's graph gives it.

    Attributes:
        name: "short" or "full".
        file_name: the file in the model folder.
        anchors: the SSD anchor options; their ``input_size`` is the model's (height, width).
    """

    name: str
    file_name: str
    anchors: bm.AnchorOptions

    @property
    def input_size(self) -> tuple[int, int]:
        return self.anchors.input_size


MODELS: dict[str, BlazeFaceModel] = {
    "short": BlazeFaceModel("short", "face_detection_short_range.tflite", bm.SHORT_RANGE_ANCHORS),
    "full": BlazeFaceModel("full", "face_detection_full_range_sparse.tflite", bm.FULL_RANGE_ANCHORS),
}


def model_for_input(input_size: tuple[int, int]) -> BlazeFaceModel:
    """The variant whose input is ``(height, width)``: BlazeFace files carry no decoding metadata.

    Raises:
        ValueError: no variant has this input size.
    """
    for model in MODELS.values():
        if model.input_size == tuple(input_size):
            return model
    known = {name: model.input_size for name, model in MODELS.items()}
    raise ValueError(f"not a BlazeFace model: input {input_size}, expected one of {known}")


def to_input(bgr: np.ndarray, letterbox: bm.Letterbox) -> np.ndarray:
    """A BGR uint8 frame -> the float32 RGB model input (1, H, W, 3) in [-1, 1], letterboxed with zeros
    (black, so -1) as MediaPipe does, bilinear like its CPU converter. The colour order is swapped after the
    warp, on the small input rather than the whole frame (the warp treats channels alike, so the result is equal)."""
    height, width = letterbox.input_size
    warped = cv2.warpAffine(bgr, letterbox.affine(), (width, height), flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))
    rgb = cv2.cvtColor(warped, cv2.COLOR_BGR2RGB)
    return (rgb.astype(np.float32) * np.float32(2.0 / 255.0) - np.float32(1.0))[None]


class LiteRTBlazeFace:
    """BlazeFace on ``runtime.backends`` (TFLite via ai-edge-litert), decoded in numpy like MediaPipe."""

    def __init__(self, path: Path, min_score: float, threads: int | None, device: Device) -> None:
        self._backend: Backend = open_backend(path, device=device, threads=threads)
        input_size = tuple(self._backend.input_shape[1:3])
        try:
            self.model = model_for_input(input_size)
        except ValueError:
            self._backend.close()
            raise
        self._anchors = bm.ssd_anchors(self.model.anchors)
        self._min_score = min_score
        self.provider = self._backend.provider

    def detect(self, bgr: np.ndarray) -> list[Detection]:
        """Faces in a BGR uint8 frame, in frame pixels (not clipped), best score first."""
        letterbox = bm.letterbox(bgr.shape[:2], self.model.input_size)
        outputs = self._backend.run_all(to_input(bgr, letterbox))
        regressors, logits = self._split(outputs)
        scores = bm.sigmoid_scores(logits)
        likely = np.flatnonzero(scores >= self._min_score)  # decode only these: the same result, less work
        height, width = self.model.input_size
        boxes, keypoints = bm.decode(regressors[likely], self._anchors[likely], scale=(width, height))
        valid = bm.valid_boxes(boxes)
        boxes, scores, keypoints = bm.weighted_nms(boxes[valid], scores[likely][valid], keypoints[valid])
        corners = letterbox.to_frame(boxes.reshape(-1, 2, 2)).reshape(-1, 4)
        points = letterbox.to_frame(keypoints)
        return [
            Detection(
                box=Box(float(x0), float(y0), float(x1 - x0), float(y1 - y0)),
                score=float(score),
                keypoints=tuple((float(x), float(y)) for x, y in kps),
            )
            for (x0, y0, x1, y1), score, kps in zip(corners, scores, points)
        ]

    def _split(self, outputs: tuple[np.ndarray, ...]) -> tuple[np.ndarray, np.ndarray]:
        """(regressors (N, 16), logits (N,)), told apart by their last axis; tensor names differ between files."""
        by_width = {out.shape[-1]: out for out in outputs}
        count = len(self._anchors)
        regressors, logits = by_width.get(bm.NUM_COORDS), by_width.get(1)
        expected = regressors is not None and logits is not None and logits.size == count
        if len(outputs) != 2 or not expected or regressors.size != count * bm.NUM_COORDS:
            shapes = [out.shape for out in outputs]
            raise RuntimeError(f"{self._backend.path.name}: expected outputs (1, {count}, {bm.NUM_COORDS}) and "
                               f"(1, {count}, 1), got {shapes}")
        return regressors.reshape(count, bm.NUM_COORDS), logits.reshape(count)

    def close(self) -> None:
        self._backend.close()

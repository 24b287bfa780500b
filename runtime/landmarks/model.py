"""MediaPipe's face-mesh landmark model on our own TFLite backend: preprocess (rotated crop), forward, postprocess."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from runtime.backends import Backend, Device, open_backend
from runtime.landmarks import geometry as geo
from runtime.paths import face_landmark_model

NUM_LANDMARKS = 468
# MediaPipe's face-mesh graphs drop a face whose presence score is under 0.5 (ThresholdingCalculator; the Tasks
# FaceLandmarker's min_face_presence_confidence and min_tracking_confidence default to 0.5 too).
MIN_PRESENCE = 0.5


@dataclass(frozen=True)
class Landmarks:
    """One face's mesh: ``points`` (468, 3) in frame pixels (x, y; z at the scale of x, smaller is nearer the
    camera), the face-presence probability ``score`` and the ``roi`` the model saw."""

    points: np.ndarray
    score: float
    roi: geo.Roi


class FaceLandmarker:
    """Runs ``face_landmark.tflite`` (192x192 RGB in [0, 1]; outputs 1404 coordinates and a presence logit).

    Raises (on construction): FileNotFoundError for a missing file, RuntimeError for a file that is not this model.
    """

    def __init__(self, path: Path | None = None, threads: int | None = 1, device: Device | str = Device.CPU) -> None:
        self._backend: Backend = open_backend(path or face_landmark_model(), device=device, threads=threads)
        shape = tuple(self._backend.input_shape[1:])
        if len(shape) != 3 or shape[0] != shape[1] or shape[2] != 3:
            self._backend.close()
            raise RuntimeError(f"{self._backend.path.name}: expected a square RGB input, got {shape}")
        self.size = int(shape[0])
        self.provider = self._backend.provider

    def crop(self, bgr: np.ndarray, roi: geo.Roi) -> np.ndarray:
        """The model input (1, size, size, 3) float32 RGB in [0, 1]: the rotated ROI, edges replicated (MediaPipe's
        default border), bilinear."""
        warped = cv2.warpAffine(bgr, geo.crop_matrix(roi, self.size), (self.size, self.size),
                                flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        return (cv2.cvtColor(warped, cv2.COLOR_BGR2RGB).astype(np.float32) * np.float32(1.0 / 255.0))[None]

    def landmarks(self, bgr: np.ndarray, roi: geo.Roi) -> Landmarks:
        """The mesh of the face in ``roi`` of a BGR uint8 frame.

        Raises:
            RuntimeError: the model is closed, or gave outputs of an unexpected shape or non-finite values.
        """
        outputs = self._backend.run_all(self.crop(bgr, roi))
        by_size = {out.size: out for out in outputs}
        coords, logit = by_size.get(NUM_LANDMARKS * 3), by_size.get(1)
        if len(outputs) != 2 or coords is None or logit is None:
            raise RuntimeError(f"{self._backend.path.name}: expected outputs of {NUM_LANDMARKS * 3} and 1 values, got "
                               f"{[out.shape for out in outputs]}")
        points = geo.to_frame(coords.reshape(NUM_LANDMARKS, 3), roi, self.size)
        if not np.isfinite(points).all() or not np.isfinite(logit).all():
            raise RuntimeError(f"{self._backend.path.name} produced NaN or infinite landmarks")
        return Landmarks(points, geo.sigmoid(float(logit.ravel()[0])), roi)

    def close(self) -> None:
        self._backend.close()

    def __enter__(self) -> FaceLandmarker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

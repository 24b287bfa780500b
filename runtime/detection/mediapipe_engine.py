"""The same BlazeFace files run by MediaPipe Tasks' ``FaceDetector``: the reference our numpy engine matches.

mediapipe is an optional extra, imported only when this engine is opened. Note that mediapipe's Tasks
package imports TensorFlow when TensorFlow is installed in the same environment
(``mediapipe/tasks/python/core/optional_dependencies.py``); a runtime-only install has none.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from runtime.backends import Device
from runtime.detection.blazeface_math import MIN_SUPPRESSION_THRESHOLD
from runtime.results import Box, Detection

log = logging.getLogger(__name__)

INSTALL_HINT = ("pip install 'fer-edge[parity]' and then pip install --no-deps mediapipe==1.2.2 (without its "
                "opencv-contrib-python, which would replace opencv-python-headless)")


def _mediapipe() -> tuple[Any, Any, Any]:
    """The mediapipe package, its Tasks ``vision`` module and ``BaseOptions``."""
    try:
        import mediapipe
        from mediapipe.tasks.python import vision
        from mediapipe.tasks.python.core.base_options import BaseOptions
    except ImportError as exc:
        raise ImportError(f"the mediapipe engine needs mediapipe ({exc}): {INSTALL_HINT}") from None
    return mediapipe, vision, BaseOptions


class MediaPipeBlazeFace:
    """A MediaPipe Tasks ``FaceDetector`` in IMAGE mode, reading the model from a file.

    Tasks has no thread-count option, so ``threads`` is not honoured; the GPU delegate is tried for ``gpu``
    (an error if it fails) and ``auto`` (a logged warning and the CPU if it fails).
    """

    def __init__(self, path: Path, min_score: float, threads: int | None, device: Device) -> None:
        if not path.is_file():
            raise FileNotFoundError(f"model file not found: {path}")
        self._mp, vision, base_options = _mediapipe()
        if threads not in (None, 1):
            log.info("MediaPipe Tasks picks its own threads; threads=%s is not applied", threads)
        self._vision, self._base_options = vision, base_options
        if device is Device.CPU:
            self._detector = self._create(path, min_score, base_options.Delegate.CPU)
        else:
            try:
                self._detector = self._create(path, min_score, base_options.Delegate.GPU)
            except RuntimeError as exc:
                if device is Device.GPU:
                    raise RuntimeError(f"GPU requested but not available: {exc}") from exc
                log.warning("device=auto: %s; running on the CPU", exc)
                self._detector = self._create(path, min_score, base_options.Delegate.CPU)

    def _create(self, path: Path, min_score: float, delegate: Any) -> Any:
        options = self._vision.FaceDetectorOptions(
            base_options=self._base_options(model_asset_path=str(path), delegate=delegate),
            running_mode=self._vision.RunningMode.IMAGE,
            min_detection_confidence=min_score,
            min_suppression_threshold=MIN_SUPPRESSION_THRESHOLD,
        )
        try:
            detector = self._vision.FaceDetector.create_from_options(options)
        except (RuntimeError, ValueError, OSError) as exc:  # mediapipe's C++ status arrives as one of these
            raise RuntimeError(f"MediaPipe cannot open {path.name} ({delegate.name} delegate): {exc}") from exc
        self.provider = f"mediapipe-{getattr(self._mp, '__version__', '?')}+{delegate.name.lower()}"
        return detector

    def detect(self, bgr: np.ndarray) -> list[Detection]:
        """Faces in a BGR uint8 frame, in frame pixels, in MediaPipe's order."""
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        height, width = rgb.shape[:2]
        image = self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb))
        try:
            result = self._detector.detect(image)
        except (RuntimeError, ValueError) as exc:
            raise RuntimeError(f"MediaPipe face detection failed: {exc}") from exc
        detections = []
        for found in result.detections:
            box = found.bounding_box
            detections.append(Detection(
                box=Box(float(box.origin_x), float(box.origin_y), float(box.width), float(box.height)),
                score=float(found.categories[0].score) if found.categories else 0.0,
                keypoints=tuple((kp.x * width, kp.y * height) for kp in found.keypoints or ()),
            ))
        return detections

    def close(self) -> None:
        self._detector.close()

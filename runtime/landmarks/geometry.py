"""Face-mesh geometry in numpy, reproducing MediaPipe's face-landmark graph: no model and no OpenCV needed.

Each step mirrors one MediaPipe calculator with the options its face-mesh graphs give it
(``mediapipe/modules/face_landmark/face_detection_front_detection_to_roi.pbtxt``,
``face_landmark_landmarks_to_roi.pbtxt``, ``face_landmark_cpu.pbtxt``):

- ``roi_from_detection``: ``DetectionsToRectsCalculator`` (box centre and size, rotation from keypoint 0, the
  right eye, to keypoint 1, the left eye, target angle 0) then ``RectTransformationCalculator`` (``scale_x`` =
  ``scale_y`` = 1.5, ``square_long``);
- ``roi_from_landmarks``: the same two calculators on the landmarks' bounding box, rotation from landmark 33 to
  263 (the outer eye corners): how MediaPipe tracks a face from one frame's landmarks to the next frame's crop;
- ``crop_matrix``: ``ImageToTensorCalculator``'s rotated sub-rectangle warp
  (``GetRotatedSubRectToRectTransformMatrix``);
- ``to_frame``: ``LandmarkProjectionCalculator`` (and ``TensorsToLandmarksCalculator``'s division by the input size).

A region of interest (``Roi``) is a square in frame pixels: centre, side and rotation. Its rotation ``angle`` (radians)
turns the crop's x axis onto the frame direction ``(cos angle, sin angle)`` (y pointing down), so that a face whose
eyes slope down to the right (the image's right) has a positive angle and is upright in the crop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

ROI_SCALE = 1.5  # RectTransformationCalculator's scale_x/scale_y in both face-mesh ROI graphs
RIGHT_EYE_KEYPOINT, LEFT_EYE_KEYPOINT = 0, 1  # BlazeFace's keypoints (the person's right eye is on the image's left)
RIGHT_EYE_OUTER, LEFT_EYE_OUTER = 33, 263  # face-mesh landmarks used for the tracked ROI's rotation


@dataclass(frozen=True)
class Roi:
    """A square region of a frame, in pixels: centre ``(cx, cy)``, ``side``, rotation ``angle`` in radians."""

    cx: float
    cy: float
    side: float
    angle: float = 0.0


def normalize_radians(angle: float) -> float:
    """The angle in [-pi, pi), as MediaPipe's ``NormalizeRadians``."""
    return angle - 2.0 * math.pi * math.floor((angle + math.pi) / (2.0 * math.pi))


def rotation(start: tuple[float, float], end: tuple[float, float], target: float = 0.0) -> float:
    """The ROI rotation that turns the vector ``start -> end`` (frame pixels) to the target angle (MediaPipe's
    ``DetectionsToRectsCalculator::ComputeRotation``)."""
    return normalize_radians(target - math.atan2(-(end[1] - start[1]), end[0] - start[0]))


def _square(cx: float, cy: float, width: float, height: float, angle: float, scale: float) -> Roi:
    """``RectTransformationCalculator`` with ``square_long``: the longer side, scaled (no shift in these graphs)."""
    return Roi(float(cx), float(cy), float(max(width, height) * scale), float(angle))


def roi_from_detection(box: tuple[float, float, float, float], keypoints: tuple[tuple[float, float], ...],
                       scale: float = ROI_SCALE) -> Roi:
    """The landmark model's crop for a BlazeFace detection: box ``(x, y, w, h)`` and its keypoints, in pixels.

    Raises:
        ValueError: fewer than two keypoints (the eyes), or a box that is not positive and finite.
    """
    x, y, w, h = (float(v) for v in box)
    if len(keypoints) <= LEFT_EYE_KEYPOINT:
        raise ValueError(f"a detection needs its eye keypoints for the landmark crop, got {len(keypoints)} keypoints")
    if not (math.isfinite(x + y + w + h) and w > 0 and h > 0):
        raise ValueError(f"the box must be finite with a positive size, got {box}")
    angle = rotation(keypoints[RIGHT_EYE_KEYPOINT], keypoints[LEFT_EYE_KEYPOINT])
    return _square(x + w / 2, y + h / 2, w, h, angle, scale)


def roi_from_landmarks(points: np.ndarray, scale: float = ROI_SCALE) -> Roi:
    """The next frame's crop from this frame's landmarks ``(468, 2+)`` in pixels: their axis-aligned bounding box,
    rotated by the outer eye corners (MediaPipe's ``face_landmark_landmarks_to_roi``)."""
    xy = np.asarray(points, dtype=np.float64)[:, :2]
    (x0, y0), (x1, y1) = xy.min(axis=0), xy.max(axis=0)
    angle = rotation(tuple(xy[RIGHT_EYE_OUTER]), tuple(xy[LEFT_EYE_OUTER]))
    return _square((x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0, angle, scale)


def crop_matrix(roi: Roi, size: int) -> np.ndarray:
    """The 2x3 affine matrix taking frame pixels to the ``size`` x ``size`` crop of the ROI (for ``cv2.warpAffine``).

    Crop pixel centres ``u + 0.5`` map to ``c + side * R(angle) @ ((u + 0.5) / size - 0.5)``; this is its inverse.

    Raises:
        ValueError: a ROI without a positive, finite side (degenerate landmarks), which would divide by zero.
    """
    if not (math.isfinite(roi.side) and roi.side > 0):
        raise ValueError(f"the landmark crop needs a positive, finite side, got {roi}")
    cos, sin = math.cos(roi.angle), math.sin(roi.angle)
    k = size / roi.side
    # inverse of p = c + side * R @ (q/size - 1/2), with q in continuous crop coordinates (pixel u covers [u, u+1))
    linear = k * np.array([[cos, sin], [-sin, cos]])
    offset = np.array([size / 2.0, size / 2.0]) - linear @ np.array([roi.cx, roi.cy])
    return np.hstack([linear, offset[:, None]])


def to_frame(points: np.ndarray, roi: Roi, size: int) -> np.ndarray:
    """Landmarks ``(N, 3)`` in crop pixels (x, y, z as the model gives them) -> frame pixels: x and y through the
    ROI's rotation and scale, z scaled like x (MediaPipe's ``z * roi.width``)."""
    points = np.asarray(points, dtype=np.float64)
    cos, sin = math.cos(roi.angle), math.sin(roi.angle)
    rel = points[:, :2] / size - 0.5
    x = (cos * rel[:, 0] - sin * rel[:, 1]) * roi.side + roi.cx
    y = (sin * rel[:, 0] + cos * rel[:, 1]) * roi.side + roi.cy
    return np.stack([x, y, points[:, 2] / size * roi.side], axis=1)


def sigmoid(logit: float) -> float:
    """The face-presence probability from its logit (``TensorsToFloatsCalculator`` with ``SIGMOID``)."""
    return float(1.0 / (1.0 + math.exp(-max(-100.0, min(100.0, float(logit))))))


def bounding_box(points: np.ndarray) -> tuple[float, float, float, float]:
    """The axis-aligned box ``(x, y, w, h)`` of points ``(N, 2+)``."""
    xy = np.asarray(points, dtype=np.float64)[:, :2]
    (x0, y0), (x1, y1) = xy.min(axis=0), xy.max(axis=0)
    return float(x0), float(y0), float(x1 - x0), float(y1 - y0)

"""Face tracking in videos, as MediaPipe's face-mesh pipeline does it: once a face has landmarks, the next frame's
landmark crop comes from this frame's landmarks, and the detector runs again only when a face's presence score
drops, every ``redetect_every`` frames (new faces), or on a scene cut.

A tracked face keeps a box of the detector's framing (the emotion crop's padding was chosen on detector boxes):
the box of its last detection, moved and scaled with the landmarks' centroid and spread.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from runtime.landmarks import Roi, roi_from_landmarks
from runtime.results import Box

DEFAULT_REDETECT_EVERY = 30  # frames: about a second of 30 fps video between detector runs, to pick up new faces
# A cut changes most of the picture: the mean absolute difference of 32x32 gray thumbnails (0-255) between
# consecutive analyzed frames. Head movement and lighting flicker in a webcam recording stay far below it.
SCENE_CUT_DIFFERENCE = 40.0
THUMBNAIL = (32, 32)
NEW_FACE_IOU = 0.3  # a detection overlapping a tracked face's box less than this is a new face
DETECT, FOLLOW, FOLLOW_AND_DETECT = "detect", "follow", "follow+detect"


@dataclass(frozen=True)
class Track:
    """One tracked face: the next frame's landmark crop, the detector box relative to the landmarks (centre offset
    and size in units of their spread), and the score of the detection it started from."""

    roi: Roi
    box_offset: tuple[float, float, float, float]
    detection_score: float

    @classmethod
    def start(cls, box: Box, detection_score: float, points: np.ndarray) -> Track:
        centre, spread = _centre_spread(points)
        offset = ((box.x + box.width / 2 - centre[0]) / spread, (box.y + box.height / 2 - centre[1]) / spread,
                  box.width / spread, box.height / spread)
        return cls(roi_from_landmarks(points), offset, detection_score)

    def follow(self, points: np.ndarray) -> tuple[Box, Track]:
        """The box for this frame's landmarks, and the track for the next frame."""
        centre, spread = _centre_spread(points)
        dx, dy, w, h = (v * spread for v in self.box_offset)
        box = Box(float(centre[0] + dx - w / 2), float(centre[1] + dy - h / 2), float(w), float(h))
        return box, Track(roi_from_landmarks(points), self.box_offset, self.detection_score)


def _centre_spread(points: np.ndarray) -> tuple[np.ndarray, float]:
    xy = np.asarray(points, dtype=np.float64)[:, :2]
    centre = xy.mean(axis=0)
    return centre, float(np.sqrt(((xy - centre) ** 2).sum(axis=1).mean())) or 1.0


def thumbnail(bgr: np.ndarray) -> np.ndarray:
    return cv2.resize(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY), THUMBNAIL, interpolation=cv2.INTER_AREA).astype(np.float32)


def scene_cut(previous: np.ndarray | None, current: np.ndarray) -> bool:
    """Whether two consecutive thumbnails differ like a cut (``SCENE_CUT_DIFFERENCE``)."""
    return previous is not None and float(np.abs(current - previous).mean()) > SCENE_CUT_DIFFERENCE


class FaceTracker:
    """The tracking state of one stream. ``enabled=False`` detects on every frame (the landmarks still run)."""

    def __init__(self, enabled: bool = True, redetect_every: int = DEFAULT_REDETECT_EVERY) -> None:
        self.enabled = enabled
        self.redetect_every = redetect_every
        self.tracks: list[Track] = []
        self.detections = 0  # frames on which the detector ran
        self.frames = 0
        self._since_detection = 0
        self._thumbnail: np.ndarray | None = None

    def plan(self, bgr: np.ndarray) -> str:
        """What to do with this frame (call once per frame): ``DETECT`` (no tracks, a scene cut, or tracking off),
        ``FOLLOW`` (landmarks from the tracks only), or ``FOLLOW_AND_DETECT`` (the periodic detector run, which
        only adds faces the tracks do not cover, so that a tracked face's crop does not jump)."""
        self.frames += 1
        if not self.enabled:
            return DETECT
        current = thumbnail(bgr)
        cut = scene_cut(self._thumbnail, current)
        self._thumbnail = current
        if cut or not self.tracks:
            return DETECT
        return FOLLOW_AND_DETECT if self._since_detection >= self.redetect_every else FOLLOW

    def detected(self, tracks: list[Track]) -> None:
        """The detector ran on this frame and these faces got landmarks."""
        self.tracks = tracks
        self.detections += 1
        self._since_detection = 1

    def followed(self, tracks: list[Track], detected: bool = False) -> None:
        """Every track was followed into this frame (``detected``: and the detector ran for new faces)."""
        self.tracks = tracks
        if detected:
            self.detections += 1
            self._since_detection = 1
        else:
            self._since_detection += 1

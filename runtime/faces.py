"""Where the faces of a frame are: the detector, the face-mesh landmarks (opt-in) and tracking between frames,
each face with the crop the expression model reads. ``Analyzer`` owns one ``FaceFinder``."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from runtime.detection import DetectorOptions, create_detector
from runtime.landmarks import MIN_PRESENCE, FaceLandmarker, Roi, roi_from_detection
from runtime.landmarks.geometry import LEFT_EYE_KEYPOINT, RIGHT_EYE_KEYPOINT, rotation
from runtime.preprocess import LEVEL_BEYOND_DEGREES, crop, expand_box, level_crop, to_bgr
from runtime.results import Box, Classification, Face
from runtime.tracking import DETECT, FOLLOW_AND_DETECT, NEW_FACE_IOU, FaceTracker, Track

if TYPE_CHECKING:
    from runtime.options import AnalyzerOptions

EMPTY = Classification(("",), (0.0,))  # a face before the expression model has read it
Found = tuple[Face, np.ndarray]  # a face (emotion not yet read) and its emotion crop


@dataclass(frozen=True)
class FinderOptions:
    """The Analyzer options that decide which faces are kept and how they are cropped (see ``AnalyzerOptions``)."""

    detector: DetectorOptions
    min_face_size: int
    crop_padding: float
    max_faces: int | None
    level_faces: bool = True

    @classmethod
    def of(cls, options: AnalyzerOptions) -> FinderOptions:
        """The face-finding part of an Analyzer's options (the Analyzer's and the expressiveness trainer's)."""
        return cls(options.detector, options.min_face_size, options.crop_padding, options.max_faces,
                   options.level_faces)


class FaceFinder:
    """Detects faces, adds landmarks when asked, and follows tracked faces from frame to frame (the Analyzer's,
    and the expressiveness trainer's, so that a model is trained on the crops it is given at run time).

    The landmark model opens on first use (``open_landmarks=True`` opens it now, so errors surface early).
    """

    def __init__(self, options: FinderOptions, open_landmarks: bool = False, detector: object | None = None) -> None:
        self.options = options
        self._landmarker: FaceLandmarker | None = None
        self._lock = threading.Lock()
        # ``detector``: anything with BlazeFace's ``detect(bgr) -> list[Detection]`` (and ``close()``) instead of
        # the one ``options.detector`` describes (the trainer's tests hand in a stand-in)
        self.detector = detector if detector is not None else create_detector(options.detector)
        if open_landmarks:
            try:
                self._landmarker = FaceLandmarker(threads=options.detector.threads)
            except Exception:
                self.detector.close()
                raise

    @property
    def landmarker(self) -> FaceLandmarker:
        """The face-mesh model, opened on first use (so that nobody who does not ask for landmarks pays for it)."""
        with self._lock:
            if self._landmarker is None:
                self._landmarker = FaceLandmarker(threads=self.options.detector.threads)
            return self._landmarker

    def _found(self, bgr: np.ndarray, face: Face, roi: Roi | None, roll: float) -> Found | None:
        """A face with its emotion crop (and its landmarks from ``roi``), or None when it is too small or empty.
        ``roll``: the face's roll in radians (from its eyes); beyond ``LEVEL_BEYOND_DEGREES`` the crop is levelled."""
        box = face.box
        if min(box.width, box.height) < self.options.min_face_size:
            return None
        bounds = (box.x, box.y, box.width, box.height)
        if self.options.level_faces and abs(math.degrees(roll)) > LEVEL_BEYOND_DEGREES:
            face_crop = level_crop(bgr, bounds, self.options.crop_padding, roll)
        else:
            face_crop = crop(bgr, expand_box(bounds, self.options.crop_padding, bgr.shape))
        if face_crop.size == 0:
            return None
        if roi is not None:
            mesh = self.landmarker.landmarks(bgr, roi)
            face = replace(face, landmarks=_frozen(mesh.points) if mesh.score >= MIN_PRESENCE else None,
                           landmark_score=mesh.score)
        return face, face_crop

    def detect(self, frame: np.ndarray, landmarks: bool = False) -> list[Found]:
        """The detector's faces of one frame with their crops (largest first, filtered), with landmarks if asked."""
        bgr = to_bgr(frame)  # to_bgr validates the frame
        found = []
        for detection in self.detector.detect(bgr):
            box, keypoints = detection.box, detection.keypoints
            roi, roll = None, 0.0
            if len(keypoints) > LEFT_EYE_KEYPOINT:
                roll = rotation(keypoints[RIGHT_EYE_KEYPOINT], keypoints[LEFT_EYE_KEYPOINT])
                if landmarks:
                    roi = roi_from_detection((box.x, box.y, box.width, box.height), keypoints)
            if (item := self._found(bgr, Face(box, detection.score, EMPTY), roi, roll)) is None:
                continue
            found.append(item)
            if self.options.max_faces and len(found) >= self.options.max_faces:
                break
        return found

    def locate(self, frame: np.ndarray, landmarks: bool, tracker: FaceTracker | None) -> list[Found]:
        """The faces of one frame of a stream: followed from the previous frame's landmarks when the tracker
        allows, else detected (and the tracks restarted). Without a tracker, ``detect``."""
        if tracker is None:
            return self.detect(frame, landmarks)
        bgr = to_bgr(frame)
        plan = tracker.plan(bgr)
        if plan != DETECT and (followed := self._follow(bgr, tracker)) is not None:
            found, tracks = followed
            if plan == FOLLOW_AND_DETECT:
                limit = self.options.max_faces or np.inf
                for item in self.detect(bgr, landmarks=True):
                    new = all(item[0].box.iou(face.box) < NEW_FACE_IOU for face, _ in found)
                    if new and item[0].landmarks is not None and len(found) < limit:
                        found.append(item)
                        tracks.append(Track.start(item[0].box, item[0].detection_score, item[0].landmarks))
            tracker.followed(tracks, detected=plan == FOLLOW_AND_DETECT)
            return sorted(found, key=lambda item: item[0].box.area, reverse=True)
        found = self.detect(bgr, landmarks=True)
        tracker.detected([Track.start(face.box, face.detection_score, face.landmarks) for face, _ in found
                          if face.landmarks is not None])
        return found

    def _follow(self, bgr: np.ndarray, tracker: FaceTracker) -> tuple[list[Found], list[Track]] | None:
        """Every tracked face in this frame and the tracks for the next, or None when one is lost (then the
        detector runs)."""
        found, tracks = [], []
        height, width = bgr.shape[:2]
        for track in tracker.tracks:
            mesh = self.landmarker.landmarks(bgr, track.roi)
            if mesh.score < MIN_PRESENCE:
                return None
            box, following = track.follow(mesh.points)
            x0, y0 = max(box.x, 0.0), max(box.y, 0.0)
            box = Box(x0, y0, min(box.x + box.width, width) - x0, min(box.y + box.height, height) - y0)
            face = Face(box, track.detection_score, EMPTY, _frozen(mesh.points), mesh.score)
            if (item := self._found(bgr, face, None, following.roi.angle)) is None:
                return None
            found.append(item)
            tracks.append(following)
        return found, tracks

    def close(self) -> None:
        for part in (self.detector, self._landmarker):
            if part is not None:
                part.close()


def _frozen(points: np.ndarray) -> np.ndarray:
    array = np.array(points, dtype=np.float32)
    array.flags.writeable = False
    return array

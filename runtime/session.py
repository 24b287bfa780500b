"""The state of one stream or video analysis: EMA smoothing, face tracking, and the followed person's landmarks
for facial activity. ``Analyzer.analyze_stream`` and ``Analyzer.analyze_video`` both run one; an Analyzer keeps none."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from runtime.classifier import ExpressionModel
from runtime.expressiveness.activity import Activity, video_activity
from runtime.expressiveness.following import PersonFollower
from runtime.expressiveness.head import ActivityHead
from runtime.report import (
    FACIAL_ACTIVITY,
    NEUTRAL,
    Expressiveness,
    FrameResult,
    expressiveness_from_activity,
    expressiveness_from_emotions,
    expressiveness_from_head,
    expressiveness_from_model,
)
from runtime.results import Classification
from runtime.tracking import FaceTracker
from runtime.video import check_smoothing

if TYPE_CHECKING:
    from runtime.analyzer import Analyzer


class StreamSession:
    """Turns the frames of one stream into FrameResults, in order.

    Args:
        analyzer: the models.
        smoothing: EMA factor in (0, 1] for the primary face's probabilities (None: raw).
        landmarks: run the landmark model on each face (and track faces when the analyzer's options say so).
        verdict: keep what ``verdict`` needs at the end of a video (the expressiveness model's output per frame).
        frame_skip: the video's frame skip (each frame given is every N-th of the video), so that the tracker's
            detector interval stays ``redetect_every`` frames of the video.
        keep_landmarks: leave the landmarks (and their score) on the faces of the results (False when they are
            computed only for the verdict: the session keeps the followed person's, and the timeline and its JSON
            keep the face shape of images).
    """

    def __init__(self, analyzer: Analyzer, smoothing: float | None = None, landmarks: bool = False,
                 verdict: bool = False, keep_landmarks: bool = True, frame_skip: int = 1) -> None:
        check_smoothing(smoothing)
        self._analyzer = analyzer
        self.smoothing = smoothing
        self.landmarks = landmarks
        options = analyzer.options
        # redetect_every counts the video's frames: with frame_skip N, every redetect_every / N analyzed frames
        interval = max(1, options.redetect_every // frame_skip)
        self.tracker = FaceTracker(options.tracking, interval) if landmarks else None
        self._ema: np.ndarray | None = None
        self._follower = PersonFollower()
        labels = analyzer.labels
        self._neutral = labels.index(NEUTRAL) if NEUTRAL in labels else None
        self.followed: list[np.ndarray | None] = []  # the followed person's landmarks, per frame
        self.non_neutral: list[float | None] = []
        self._model_probs: list[np.ndarray] = []  # the expressiveness model's, per frame with a face
        self._verdict = verdict
        self._keep_landmarks = keep_landmarks

    def frame(self, index: int, timestamp: float | None, frame: np.ndarray) -> tuple[FrameResult, np.ndarray | None]:
        """The FrameResult of the next frame, and the crop of its primary (largest) face (None without a face)."""
        faces, crops = self._analyzer._frame_faces(frame, self.landmarks, self.tracker)
        if self.smoothing is not None and faces:
            current = np.asarray(faces[0].emotion.probabilities)
            ema = current if self._ema is None else self.smoothing * current + (1 - self.smoothing) * self._ema
            self._ema = ema
            faces[0] = replace(faces[0], emotion=Classification(faces[0].emotion.labels, tuple(map(float, ema))))
        if self.landmarks:
            pick = self._follower.pick([(f.box.x, f.box.y, f.box.width, f.box.height) for f in faces])
            face = faces[pick] if pick is not None else None
            self.followed.append(face.landmarks if face is not None else None)
            neutral = None if face is None or self._neutral is None else 1.0 - face.emotion.probabilities[self._neutral]
            self.non_neutral.append(neutral)
            if not self._keep_landmarks:
                faces = [replace(f, landmarks=None, landmark_score=None) for f in faces]
        if self._verdict and isinstance(self._analyzer.expressiveness, ExpressionModel) and crops:
            self._model_probs.append(self._analyzer.expressiveness.predict([crops[0]])[0])
        return FrameResult(index, timestamp, tuple(faces)), (crops[0] if crops else None)

    def activity(self, seconds_per_frame: float) -> Activity:
        """Facial activity of the followed person over the frames so far (needs ``landmarks``)."""
        if not self.landmarks:
            return Activity(None, reason="landmarks were not computed")
        return video_activity(self.followed, seconds_per_frame, self.non_neutral)

    def verdict(self, timeline: list[FrameResult],
                seconds_per_frame: float) -> tuple[list[FrameResult], Expressiveness]:
        """The timeline with per-frame activity filled in (with landmarks), and the video's expressiveness: from
        the expressiveness model when there is one, else by the options' method."""
        analyzer = self._analyzer
        activity = self.activity(seconds_per_frame) if self.landmarks else None
        if activity is not None:
            timeline = [replace(result, activity=value) for result, value in zip(timeline, activity.per_frame)]
        if isinstance(analyzer.expressiveness, ActivityHead) and activity is not None:
            return timeline, expressiveness_from_head(activity, analyzer.expressiveness)
        if analyzer.expressiveness is not None:
            return timeline, expressiveness_from_model(np.asarray(self._model_probs), analyzer.expressiveness.path.name,
                                                        analyzer.expressiveness.labels)
        if activity is not None and analyzer.options.expressiveness == FACIAL_ACTIVITY:
            return timeline, expressiveness_from_activity(activity)
        probs = np.array([f.primary.emotion.probabilities for f in timeline if f.primary])
        return timeline, expressiveness_from_emotions(probs.reshape(-1, len(analyzer.labels)), analyzer.labels)

"""Result types returned by the public API: frozen dataclasses (numpy only for the landmark arrays, read-only)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

ANALYSIS_SCHEMA = "fer-edge/analysis/3"  # the JSON shape of results (README, "JSON output"); bump on any change
# The analysis's own version: bumped when the same video, models and settings give other results (a fix or change in
# detection, tracking, smoothing or the verdicts), so that fer-batch redoes the reports made before it. 2: the
# followed person's series no longer passes to another face; the tracker's detector interval counts video frames.
RESULTS_VERSION = 2
# (2: faces may carry landmark_score and landmarks; frames carry activity; expressiveness components and reason;
# 3: model.views)


def analysis_document(emotion_model: Any, **parts: Any) -> dict[str, Any]:
    """The JSON document of ``ANALYSIS_SCHEMA``: the schema, the emotion model (an ``ExpressionModel``: its file,
    labels, and how many views of each face it averages), then ``parts`` ({"video": VideoReport.to_dict()}, or
    "images", "skipped" and "warnings" for images)."""
    model = {"emotion": str(emotion_model.path), "labels": list(emotion_model.labels), "views": emotion_model.views}
    return {"schema": ANALYSIS_SCHEMA, "model": model, **parts}


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in pixels of the frame it was found in."""

    x: float
    y: float
    width: float
    height: float

    @property
    def area(self) -> float:
        return max(0.0, self.width) * max(0.0, self.height)

    def iou(self, other: Box) -> float:
        """Intersection over union with another box (0 when either is empty)."""
        ix = max(0.0, min(self.x + self.width, other.x + other.width) - max(self.x, other.x))
        iy = max(0.0, min(self.y + self.height, other.y + other.height) - max(self.y, other.y))
        inter = ix * iy
        union = self.area + other.area - inter
        return inter / union if union > 0 else 0.0


@dataclass(frozen=True)
class Detection:
    """One face found by a detector: its box, confidence, and the six BlazeFace keypoints in pixels
    (right eye, left eye, nose tip, mouth, right ear tragion, left ear tragion; may be empty)."""

    box: Box
    score: float
    keypoints: tuple[tuple[float, float], ...] = ()


@dataclass(frozen=True)
class Classification:
    """Class probabilities of one face, in the order of ``labels``."""

    labels: tuple[str, ...]
    probabilities: tuple[float, ...]

    @property
    def top(self) -> str:
        """The most probable label."""
        return self.labels[max(range(len(self.probabilities)), key=self.probabilities.__getitem__)]

    @property
    def top_score(self) -> float:
        return max(self.probabilities)

    def as_dict(self) -> dict[str, float]:
        return dict(zip(self.labels, self.probabilities))


@dataclass(frozen=True)
class Face:
    """A detected face and its expression.

    Attributes:
        box: where the face is, in pixels (the detector's box, before the crop padding; moved with the landmarks
            between detector runs when tracked).
        detection_score: the detector's confidence in [0, 1] (for a face tracked by its landmarks in a video, that
            of the detection the track started from; ``landmark_score`` is the frame's own).
        emotion: the emotion probabilities; ``emotion.top`` is the top emotion.
        landmarks: with ``AnalyzerOptions(landmarks=True)``, MediaPipe's 468 face-mesh points (x, y, z) in frame
            pixels (z at the scale of x, smaller is nearer the camera), a read-only float32 array (468, 3) that
            face equality ignores; None when not asked for or when the landmark model did not see a face
            (``landmark_score`` under 0.5).
        landmark_score: the landmark model's face-presence probability in [0, 1] (None when not run).
    """

    box: Box
    detection_score: float
    emotion: Classification
    landmarks: np.ndarray | None = field(default=None, compare=False, repr=False)
    landmark_score: float | None = None

    @property
    def top_emotion(self) -> str:
        return self.emotion.top

    def to_dict(self) -> dict[str, Any]:
        """The face in the JSON schema ``ANALYSIS_SCHEMA``: box, detection score, top emotion and probabilities;
        ``landmark_score`` and ``landmarks`` (a list of [x, y, z], 0.01 px) only when the landmark model ran."""
        data: dict[str, Any] = {"box": asdict(self.box), "detection_score": self.detection_score,
                                "emotion": {"top": self.emotion.top, "probabilities": self.emotion.as_dict()}}
        if self.landmark_score is not None and math.isfinite(self.landmark_score):
            data["landmark_score"] = self.landmark_score
        if self.landmarks is not None:
            data["landmarks"] = np.round(self.landmarks.astype(np.float64), 2).tolist()
        return data

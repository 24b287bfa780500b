"""Per-video summaries: the timeline, emotion distribution, dominant emotion and expressiveness level.

Expressiveness by default (``method="facial-activity"``): how much the face moves relative to itself, from its
landmarks (``runtime.expressiveness.activity``, where the measure and its reasoning are documented).

The emotion-model heuristic (``method="emotion-intensity"``, selectable): the score is
``2 * mean(1 - P(Neutral)) - 1`` over the frames with a face, in [-1, 1], and the level follows the same
thresholds as the interview data's labels (Reserved < -0.3 <= Balanced <= 0.3 < Expressive). A candidate whose
face the emotion model reads as neutral most of the time comes out Reserved. It is a heuristic derived from
the emotion model, not calibrated against human ratings; the expressiveness model, when given, replaces it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from runtime.expressiveness.activity import Activity
from runtime.expressiveness.head import ActivityHead
from runtime.manifest import EXPRESSIVENESS_LABELS
from runtime.results import Face

RESERVED_BELOW = -0.3
EXPRESSIVE_ABOVE = 0.3
NEUTRAL = "Neutral"
FACIAL_ACTIVITY, EMOTION_INTENSITY = "facial-activity", "emotion-intensity"


@dataclass(frozen=True)
class FrameResult:
    """One analyzed frame: its index in the source, time in seconds (None for a live stream without fps), faces,
    and ``activity``: how much the followed face moved from its neutral shape in this frame (1 = a typical talking
    face; see ``runtime.expressiveness.activity``), None without landmarks."""

    index: int
    timestamp: float | None
    faces: tuple[Face, ...]
    activity: float | None = None

    @property
    def primary(self) -> Face | None:
        """The largest face (the candidate in an interview recording), or None."""
        return self.faces[0] if self.faces else None

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "timestamp": self.timestamp, "faces": [face.to_dict() for face in self.faces],
                "activity": self.activity}


@dataclass(frozen=True)
class Expressiveness:
    """How expressive the face was over the video.

    Attributes:
        level: Reserved, Balanced or Expressive; None when there is no verdict (``reason`` says why).
        score: on the interview scores' scale (None from a model).
        method: "facial-activity", "emotion-intensity" or "model:<file>".
        components: what the verdict is made of, for the candidate to act on (facial-activity: share of frames
            smiling, brow, mouth and eye activity, deformation, head motion, non-neutral emotion).
        reason: why there is no level (e.g. too little face), else None.
    """

    level: str | None
    score: float | None
    method: str
    components: dict[str, float] = field(default_factory=dict)
    reason: str | None = None


@dataclass(frozen=True)
class VideoReport:
    """What `Analyzer.analyze_video` found.

    Attributes:
        source: the path or webcam index analyzed.
        fps: frames per second the source reports (0 when unknown).
        frames_read: frames decoded from the source (analyzed or skipped).
        timeline: one FrameResult per analyzed frame.
        frames_without_face: analyzed frames where no face was found.
        emotion_distribution: per emotion, the fraction of face frames where it was the top emotion.
        mean_probabilities: per emotion, the mean probability over face frames.
        dominant_emotion: the most frequent top emotion (None when no face was seen).
        expressiveness: level, score and method.
        smoothing: the EMA factor applied to per-frame probabilities (None: raw).
        complete: False when the source ended early or had unreadable frames.
        warnings: what went wrong while reading, in words.
    """

    source: str
    fps: float
    frames_read: int
    timeline: tuple[FrameResult, ...]
    frames_without_face: int
    emotion_distribution: dict[str, float]
    mean_probabilities: dict[str, float]
    dominant_emotion: str | None
    expressiveness: Expressiveness
    smoothing: float | None = None
    complete: bool = True
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def frames_analyzed(self) -> int:
        return len(self.timeline)

    def to_dict(self) -> dict[str, Any]:
        """The report in the JSON schema ``runtime.results.ANALYSIS_SCHEMA`` (faces as ``Face.to_dict``)."""
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "timeline"}
        data.update(expressiveness=asdict(self.expressiveness), warnings=list(self.warnings),
                    frames_analyzed=self.frames_analyzed)
        data["timeline"] = [frame.to_dict() for frame in self.timeline]
        return data

    def to_html(self, **options: Any) -> str:
        """The report as one self-contained HTML page for the candidate (inline SVG charts, no script, nothing
        loaded from the network). Needs the extra ``fer-edge[report]`` (matplotlib).

        Args:
            **options: fields of `runtime.report_html.PageOptions`: ``models`` (model files whose manifests the
                fine print names) and ``thumbnails`` (embed face thumbnails of the key moments; off by default).

        Raises:
            ImportError: matplotlib is missing (the message names the extra). ValueError: a bad option, or
            thumbnails asked for a webcam report.
        """
        from runtime import report_html

        return report_html.render(self, report_html.PageOptions(**options))

    def write_html(self, path: str | Path, **options: Any) -> Path:
        """Writes `to_html` to ``path`` (UTF-8) and returns the path; OSError when it cannot be written."""
        from runtime import report_html

        return report_html.write(self, path, report_html.PageOptions(**options))


def expressiveness_from_emotions(probabilities: np.ndarray, labels: tuple[str, ...]) -> Expressiveness:
    """The documented emotion-intensity measure (see the module docstring) over face frames (N, K)."""
    if NEUTRAL not in labels:
        return Expressiveness(None, None, EMOTION_INTENSITY, reason=f"the emotion model has no {NEUTRAL!r} label")
    if len(probabilities) == 0:
        return Expressiveness(None, None, EMOTION_INTENSITY, reason="no face was found")
    intensity = float(np.mean(1.0 - probabilities[:, labels.index(NEUTRAL)]))
    score = 2.0 * intensity - 1.0
    return Expressiveness(level_for_score(score), score, EMOTION_INTENSITY, {"non_neutral": intensity})


def expressiveness_from_activity(activity: Activity) -> Expressiveness:
    """The facial-activity verdict (``runtime.expressiveness.activity``): level by the seed's thresholds."""
    level = None if activity.score is None else level_for_score(activity.score)
    return Expressiveness(level, activity.score, FACIAL_ACTIVITY, dict(activity.components), activity.reason)


def expressiveness_from_head(activity: Activity, head: ActivityHead) -> Expressiveness:
    """A trained head's verdict on the facial-activity components (``method="model:<file>"``); no level when the
    components could not be measured."""
    if activity.score is None:
        return Expressiveness(None, None, f"model:{head.name}", reason=activity.reason)
    score = head.score(activity.components)
    return Expressiveness(level_for_score(score), score, f"model:{head.name}", dict(activity.components))


def expressiveness_from_model(probabilities: np.ndarray, model_name: str,
                              labels: tuple[str, ...] = EXPRESSIVENESS_LABELS) -> Expressiveness:
    """The expressiveness model's verdict: the level (``labels``, the model's own order) with the highest mean
    probability over face frames."""
    if len(probabilities) == 0:
        return Expressiveness(None, None, f"model:{model_name}", reason="no face was found")
    level = labels[int(np.argmax(probabilities.mean(axis=0)))]
    return Expressiveness(level, None, f"model:{model_name}")


def level_for_score(score: float) -> str:
    if score < RESERVED_BELOW:
        return "Reserved"
    if score > EXPRESSIVE_ABOVE:
        return "Expressive"
    return "Balanced"


def summarize(
    timeline: list[FrameResult], labels: tuple[str, ...], expressiveness: Expressiveness, **fields: Any
) -> VideoReport:
    """Builds the report from the per-frame results (the primary face of each frame counts)."""
    primaries = [frame.primary for frame in timeline if frame.primary is not None]
    probs = np.array([face.emotion.probabilities for face in primaries], dtype=np.float64).reshape(-1, len(labels))
    tops = probs.argmax(axis=1) if len(probs) else np.zeros(0, dtype=int)
    counts = np.bincount(tops, minlength=len(labels))
    distribution = counts / counts.sum() if counts.sum() else np.zeros(len(labels))
    return VideoReport(
        timeline=tuple(timeline),
        frames_without_face=len(timeline) - len(primaries),
        emotion_distribution={label: float(v) for label, v in zip(labels, distribution)},
        mean_probabilities={label: float(v) for label, v in zip(labels, probs.mean(0) if len(probs) else distribution)},
        dominant_emotion=labels[int(counts.argmax())] if counts.sum() else None,
        expressiveness=expressiveness,
        **fields,
    )

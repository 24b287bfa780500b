"""What the report page draws, computed from a VideoReport without plotting: the binned timeline, its gaps, the
key moments, and the crowd and no-face facts. Pure numpy, testable without matplotlib or a video."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from runtime.report import NEUTRAL, FrameResult, VideoReport
from runtime.results import Box

MAX_POINTS = 600  # a 10-minute interview at 15 analysed fps holds 9,000 frames; a chart needs no more than this
STRONGEST_MOMENTS = 4
SPACED_MOMENTS = 4
CROWD_SHARE = 0.1  # several faces in at least this share of the face frames: the page says so up front


@dataclass(frozen=True)
class Series:
    """The timeline in at most MAX_POINTS bins.

    Attributes:
        times: bin centres (seconds, or frame numbers when the video has no frame rate).
        edges: bin edges, one more than ``times``.
        probabilities: (bins, labels) mean probabilities of the primary face; NaN in bins without a face.
        activity: per-bin mean facial activity where the frames carry one (None: no frame does).
        seconds: True when ``times`` are seconds.
    """

    times: np.ndarray
    edges: np.ndarray
    probabilities: np.ndarray
    activity: np.ndarray | None
    seconds: bool

    @property
    def gaps(self) -> list[tuple[float, float]]:
        """Spans (start, end) of consecutive bins without a face."""
        empty = np.isnan(self.probabilities[:, 0]) if self.probabilities.size else np.zeros(0, bool)
        spans, start = [], None
        for i, gap in enumerate(empty):
            if gap and start is None:
                start = i
            if not gap and start is not None:
                spans.append((float(self.edges[start]), float(self.edges[i])))
                start = None
        if start is not None:
            spans.append((float(self.edges[start]), float(self.edges[-1])))
        return spans


def _positions(timeline: tuple[FrameResult, ...]) -> tuple[np.ndarray, bool]:
    if all(frame.timestamp is not None for frame in timeline):
        return np.array([frame.timestamp for frame in timeline], dtype=np.float64), True
    return np.array([frame.index for frame in timeline], dtype=np.float64), False


def _edges(x: np.ndarray) -> np.ndarray:
    if len(x) == 1:
        return np.array([x[0] - 0.5, x[0] + 0.5])
    if len(x) <= MAX_POINTS:  # one bin per frame, its edges halfway to its neighbours
        middle = (x[1:] + x[:-1]) / 2
        return np.concatenate([[2 * x[0] - middle[0]], middle, [2 * x[-1] - middle[-1]]])
    return np.linspace(x[0], x[-1], MAX_POINTS + 1)


def _bin_means(bins: np.ndarray, values: np.ndarray, mask: np.ndarray, count: int) -> np.ndarray:
    """Per-bin means of ``values`` (N, K) over the rows where ``mask`` holds; NaN for bins with none."""
    totals = np.zeros((count, values.shape[1]))
    np.add.at(totals, bins[mask], values[mask])
    n = np.bincount(bins[mask], minlength=count).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n[:, None] > 0, totals / n[:, None], np.nan)


def binned(report: VideoReport, labels: tuple[str, ...]) -> Series:
    """The primary face's probabilities (and activity, where frames carry it) in at most MAX_POINTS time bins."""
    timeline = report.timeline
    if not timeline:
        empty = np.zeros(0)
        return Series(empty, empty, np.zeros((0, len(labels))), None, True)
    x, seconds = _positions(timeline)
    edges = _edges(x)
    bins = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2)
    has_face = np.array([bool(frame.faces) for frame in timeline])
    probs = np.zeros((len(timeline), len(labels)))
    if has_face.any():
        probs[has_face] = [frame.faces[0].emotion.probabilities for frame in timeline if frame.faces]
    activity_values = [getattr(frame, "activity", None) for frame in timeline]
    activity = None
    if any(value is not None for value in activity_values):
        values = np.array([np.nan if v is None else float(v) for v in activity_values])[:, None]
        activity = _bin_means(bins, np.nan_to_num(values), ~np.isnan(values[:, 0]), len(edges) - 1)[:, 0]
    return Series((edges[1:] + edges[:-1]) / 2, edges, _bin_means(bins, probs, has_face, len(edges) - 1),
                  activity, seconds)


def clock(seconds: float) -> str:
    """mm:ss (h:mm:ss from an hour on)."""
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def frames_with_several_faces(report: VideoReport) -> int:
    return sum(1 for frame in report.timeline if len(frame.faces) > 1)


def crowded(report: VideoReport) -> bool:
    """Several faces in enough frames that the numbers may mix people (CROWD_SHARE of the face frames)."""
    with_face = report.frames_analyzed - report.frames_without_face
    return with_face > 0 and frames_with_several_faces(report) >= CROWD_SHARE * with_face


@dataclass(frozen=True)
class Moment:
    """A key moment of the interview, for the thumbnail strip.

    Attributes:
        index: the frame's number in the video.
        timestamp: its time in seconds (None without a frame rate).
        label: the frame's top emotion.
        probability: its probability.
        box: the primary face's box in the frame.
        kind: "strongest" (a peak of an emotion other than Neutral) or "spaced" (spread evenly over the video).
    """

    index: int
    timestamp: float | None
    label: str
    probability: float
    box: Box
    kind: str


def key_moments(report: VideoReport, strongest: int = STRONGEST_MOMENTS, spaced: int = SPACED_MOMENTS) -> list[Moment]:
    """The strongest moments whose top emotion is not Neutral (at most ``strongest``, kept apart from each other)
    and ``spaced`` face frames spread evenly over the interview, in time order."""
    faces = [frame for frame in report.timeline if frame.primary is not None]
    if not faces:
        return []
    labels = faces[0].primary.emotion.labels
    probs = np.array([frame.primary.emotion.probabilities for frame in faces])
    tops = probs.argmax(axis=1)
    expressive = np.array([labels[top] != NEUTRAL for top in tops])
    apart = max(1, len(faces) // (2 * (strongest + spaced)))  # in face frames
    chosen: dict[int, str] = {}
    for i in np.argsort(-probs.max(axis=1), kind="stable"):
        if len(chosen) >= strongest:
            break
        if expressive[i] and all(abs(int(i) - j) >= apart for j in chosen):
            chosen[int(i)] = "strongest"
    for q in range(spaced):
        i = int((q + 0.5) * len(faces) / spaced)
        if all(abs(i - j) >= apart for j in chosen):
            chosen[i] = "spaced"
    return [Moment(faces[i].index, faces[i].timestamp, labels[tops[i]], float(probs[i, tops[i]]),
                   faces[i].primary.box, kind) for i, kind in sorted(chosen.items())]

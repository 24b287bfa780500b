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
MOMENTS_APART_S = 1.0  # key moments at least this far apart in time, and a sixteenth of the video on longer ones
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

    @property
    def when(self) -> str:
        """As the page shows it: mm:ss, or the frame number without a timestamp."""
        return moment_time(self.timestamp, self.index)


def moment_time(timestamp: float | None, index: int) -> str:
    return clock(timestamp) if timestamp is not None else f"frame {index}"


def _moment_positions(report: VideoReport) -> tuple[np.ndarray, bool]:
    """Where each timeline frame is, to keep moments apart: seconds (its timestamp, else its number over the
    video's frame rate) when every frame has one, else the frame numbers (True: seconds)."""
    if report.fps > 0 or all(frame.timestamp is not None for frame in report.timeline):
        return np.array([frame.timestamp if frame.timestamp is not None else frame.index / report.fps
                         for frame in report.timeline], dtype=np.float64), True
    return np.array([frame.index for frame in report.timeline], dtype=np.float64), False


def key_moments(report: VideoReport, strongest: int = STRONGEST_MOMENTS, spaced: int = SPACED_MOMENTS) -> list[Moment]:
    """The strongest moments whose top emotion is not Neutral (at most ``strongest``) and ``spaced`` face frames
    spread evenly over the interview, in time order. Any two are MOMENTS_APART_S apart, or a sixteenth of the
    analysed span (``1 / (2 * (strongest + spaced))``) where that is longer; without a frame rate or timestamps,
    that share of the frame numbers' span. No two show the same time (mm:ss rounds: 1.5 s and 2.5 s are both
    00:02), so a short clip has fewer moments rather than repeated ones. A sample too near a peak moves to the
    nearest face frame of its share of the video that is far enough, or is left out."""
    positions, seconds = _moment_positions(report)
    on_face = [k for k, frame in enumerate(report.timeline) if frame.primary is not None]
    if not on_face:
        return []
    faces = [report.timeline[k] for k in on_face]
    at = positions[on_face]
    labels = faces[0].primary.emotion.labels
    probs = np.array([frame.primary.emotion.probabilities for frame in faces])
    tops = probs.argmax(axis=1)
    expressive = np.array([labels[top] != NEUTRAL for top in tops])
    span = float(positions.max() - positions.min())
    apart = max(MOMENTS_APART_S if seconds else 1.0, span / (2 * (strongest + spaced))) - 1e-9  # float times
    chosen: dict[int, str] = {}
    shown: set[str] = set()

    def take(i: int, kind: str) -> bool:
        if any(abs(at[i] - at[j]) < apart for j in chosen):
            return False
        if (when := moment_time(faces[i].timestamp, faces[i].index)) in shown:
            return False
        chosen[i] = kind
        shown.add(when)
        return True

    for i in np.argsort(-probs.max(axis=1), kind="stable"):
        if len(chosen) >= strongest:
            break
        if expressive[i]:
            take(int(i), "strongest")
    for q in range(spaced):  # the middle face frame of each of ``spaced`` equal slots, else the nearest free one
        first, end, middle = (int(f * len(faces) / spaced) for f in (q, q + 1, q + 0.5))
        any(take(i, "spaced") for i in sorted(range(first, end), key=lambda i: abs(i - middle)))
    return [Moment(faces[i].index, faces[i].timestamp, labels[tops[i]], float(probs[i, tops[i]]),
                   faces[i].primary.box, kind) for i, kind in sorted(chosen.items())]

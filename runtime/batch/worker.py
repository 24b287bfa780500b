"""The work of one video, the same in every engine: a worker's Analyzer (loaded once), the video in, a result out.

A worker (a local process or a Ray actor) builds its Analyzer once with `open_analyzer`, then calls
`analyze_video_job` per video. What comes back is small: the video's analysis document (fer-analyze's JSON for a
video, timeline included) or its error, and the seconds it took. Frames never leave the worker.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, replace
from typing import Any

from runtime.analyzer import Analyzer, AnalyzerOptions
from runtime.results import analysis_document
from runtime.video import check_count, check_smoothing

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VideoSettings:
    """How each video of a batch is read (as `Analyzer.analyze_video` takes them).

    Attributes:
        frame_skip: analyze every N-th frame.
        max_frames: stop after this many analyzed frames (None: the whole video).
        smoothing: EMA factor in (0, 1] for the primary face's probabilities (None: raw).
        html: also make the candidate's report page of each video (``VideoReport.to_html``, no thumbnails), in
            the worker (needs the extra ``fer-edge[report]``). It changes no result, so it is not in the
            reports' fingerprint; a report without its page counts as unfinished when pages are asked for.
    """

    frame_skip: int = 1
    max_frames: int | None = None
    smoothing: float | None = None
    html: bool = False

    def __post_init__(self) -> None:
        check_count(self.frame_skip, "frame_skip")
        check_count(self.max_frames, "max_frames", optional=True)
        check_smoothing(self.smoothing)


@dataclass(frozen=True)
class VideoResult:
    """What a worker sends back for one video.

    Attributes:
        index: the video's position in the batch.
        document: the analysis document (``runtime.results.analysis_document`` with ``video``), None on failure.
        error: why the video failed ("ValueError: cannot open video ..."), None on success.
        seconds: wall time of the video in the worker (decoding and analysis).
        worker: which worker did it (host:pid), for the record.
        html: the report page, when ``VideoSettings.html`` asked for it.
    """

    index: int
    document: dict[str, Any] | None
    error: str | None
    seconds: float
    worker: str = ""
    html: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "document": self.document, "error": self.error, "seconds": self.seconds,
                "worker": self.worker, "html": self.html}


def worker_options(options: AnalyzerOptions | None, threads: int) -> AnalyzerOptions:
    """The options with ``threads`` for the expression models and the detector."""
    options = options or AnalyzerOptions()
    return replace(options, threads=threads, detector=replace(options.detector, threads=threads))


def open_analyzer(options: AnalyzerOptions | None, threads: int) -> Analyzer:
    """A worker's Analyzer: models and OpenCV on ``threads`` threads, so that workers x threads fits the cores."""
    import cv2

    cv2.setNumThreads(threads)
    return Analyzer(worker_options(options, threads))


def analyze_video_job(analyzer: Analyzer, index: int, path: str, settings: VideoSettings) -> VideoResult:
    """One video through ``analyzer``; any failure (missing, corrupt, a model error) becomes the result's error."""
    start = time.perf_counter()
    worker = f"{os.uname().nodename}:{os.getpid()}"
    try:
        report = analyzer.analyze_video(path, frame_skip=settings.frame_skip, max_frames=settings.max_frames,
                                        smoothing=settings.smoothing)
        document = analysis_document(analyzer.emotion, video=report.to_dict())
        models = [model.path for model in (analyzer.emotion, analyzer.expressiveness) if model is not None]
        html = report.to_html(models=models) if settings.html else None
    except Exception as exc:  # one video's failure must not stop the batch; it is recorded with its reason
        log.warning("%s: %s", path, exc)
        return VideoResult(index, None, f"{type(exc).__name__}: {str(exc).strip()}",
                           time.perf_counter() - start, worker)
    return VideoResult(index, document, None, time.perf_counter() - start, worker, html)

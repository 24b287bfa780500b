"""`analyze_many`: a set of videos through an engine, resumable, with one report per video and a summary table."""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from runtime.analyzer import Analyzer, AnalyzerOptions, unloadable_model_as_bad_input
from runtime.batch import stopping
from runtime.batch.inputs import DEFAULT_PATH_COLUMN, VideoJob, read_inputs
from runtime.batch.results import (
    DONE,
    FAILED,
    SKIPPED,
    VideoRow,
    clean_temporary_files,
    file_identity,
    fingerprint,
    finished_report,
    page_path,
    write_report,
    write_summary,
)
from runtime.batch.worker import VideoResult, VideoSettings, open_analyzer

log = logging.getLogger("runtime.batch")

ENGINES = ("local", "ray")
PLAIN_PROGRESS_EVERY_S = 10.0  # without tqdm, a progress line at most this often


class Engine(Protocol):
    """Runs (index, path) items through workers that each hold an Analyzer; yields results as they finish."""

    name: str

    def run(self, items: Sequence[tuple[int, str]]) -> Iterator[VideoResult]: ...


@dataclass(frozen=True)
class BatchSummary:
    """What `analyze_many` did.

    Attributes:
        rows: one per video, in input order (``VideoRow``: status, results, error, timing, carried columns).
        files: the summary tables written (summary.csv, and summary.parquet with pyarrow).
        seconds: wall time of the whole batch.
        workers, threads: the pool's size and each worker's threads.
    """

    rows: tuple[VideoRow, ...]
    files: tuple[Path, ...]
    seconds: float
    workers: int
    threads: int

    def count(self, status: str) -> int:
        return sum(row.status == status for row in self.rows)

    @property
    def failed(self) -> int:
        return self.count(FAILED)


def usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def plan_workers(workers: int | None, threads: int | None, cores: int | None = None) -> tuple[int, int]:
    """(workers, threads per worker): by default one worker per core and threads filling the rest, so that
    workers x threads does not exceed the cores. An explicit choice that does is kept, with a warning."""
    cores = cores or usable_cores()
    for name, value in (("workers", workers), ("threads", threads)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ValueError(f"{name} must be a whole number >= 1 or None, got {value!r}")
    workers = workers or cores
    threads = threads or max(1, cores // workers)
    if workers * threads > cores:
        log.warning("%d workers x %d threads oversubscribe the %d cores: expect it to run slower, not faster",
                    workers, threads, cores)
    return workers, threads


def make_engine(engine: str, factory: Callable[[], Analyzer], settings: VideoSettings, workers: int,
                threads: int, ray_address: str | None = None) -> Engine:
    """The engine named ``engine`` ("local" or "ray")."""
    if engine == "local":
        from runtime.batch.local import LocalEngine

        return LocalEngine(factory, settings, workers)
    if engine == "ray":
        from runtime.batch.ray_engine import RayEngine

        return RayEngine(factory, settings, workers, threads, ray_address)
    raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")


def analyze_many(
    inputs: str | Path | Iterable[str | Path],
    out_dir: str | Path,
    *,
    engine: str | Engine = "local",
    workers: int | None = None,
    threads: int | None = None,
    options: AnalyzerOptions | None = None,
    settings: VideoSettings | None = None,
    force: bool = False,
    progress: bool = False,
    ray_address: str | None = None,
    path_column: str = DEFAULT_PATH_COLUMN,
) -> BatchSummary:
    """Analyses many videos in parallel, one JSON report per video under ``out_dir`` and a summary table.

    Videos whose report is complete (same input file, models and settings) are skipped unless ``force``; a video
    that fails (missing, corrupt, crashes its worker) is a failed row and the batch goes on.

    Args:
        inputs: folders (searched recursively), glob patterns, manifests (.csv/.jsonl) or video files.
        out_dir: where the reports (the videos' paths below their common folder, plus ``.json``) and
            ``summary.csv`` / ``summary.parquet`` go; created when missing.
        engine: "local" (worker processes), "ray" (Ray Data; extra ``ray``) or an Engine object.
        workers: processes or Ray actors (default: the usable cores).
        threads: threads per worker (default: cores // workers, at least 1).
        options: how each worker builds its Analyzer (models, detector, device).
        settings: how each video is read (frame skip, frame limit, smoothing) and whether its report page is made
            (``html``: beside its report, ``.html``; extra ``fer-edge[report]``).
        force: analyse every video again.
        progress: a progress bar (tqdm, else a log line every few seconds) with done, failed and time left.
        ray_address: the Ray cluster to use (default: ``$RAY_ADDRESS``, else a local instance).
        path_column: the manifests' column holding the video path.

    Raises:
        FileNotFoundError, ValueError: bad inputs, manifests or options, or models that cannot be loaded (checked
            before any video is sent to a worker). ImportError: the ray engine without Ray.
    """
    start = time.perf_counter()
    jobs = read_inputs([inputs] if isinstance(inputs, (str, Path)) else inputs, path_column)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if not os.access(out, os.W_OK):
        raise ValueError(f"output folder {out} is not writable")
    clean_temporary_files(out)
    settings = settings or VideoSettings()
    if settings.html:
        from runtime.report_html import require

        require()  # matplotlib, checked here once rather than failing every video
    workers, threads = plan_workers(workers, threads)
    check_models(options)
    expected = fingerprint(options, settings)
    rows: dict[int, VideoRow] = {}
    sources = [file_identity(job.path) for job in jobs]
    for index, job in enumerate(jobs):
        report = out / job.report
        if force or (settings.html and not page_path(report).is_file()):
            continue
        if (document := finished_report(report, sources[index], expected)) is not None:
            rows[index] = VideoRow.from_report(job, out / job.report, document, SKIPPED)
    todo = [(index, str(job.path)) for index, job in enumerate(jobs) if index not in rows]
    log.info("%d videos: %d to analyse, %d with complete reports", len(jobs), len(todo), len(rows))
    if todo:
        factory = functools.partial(open_analyzer, options, threads)
        runner = make_engine(engine, factory, settings, workers, threads, ray_address) \
            if isinstance(engine, str) else engine
        # closing(): an interrupt shuts the engine's workers down now, not when the generator is collected
        with _Progress(len(todo), progress) as bar, contextlib.closing(runner.run(todo)) as results:
            for result in results:
                stopping.check()
                job = jobs[result.index]
                rows[result.index] = _record(result, job, out, sources[result.index], expected, runner.name)
                bar.update(rows[result.index].status == FAILED)
    ordered = tuple(rows[index] for index in range(len(jobs)))
    files = write_summary(list(ordered), out)
    return BatchSummary(ordered, tuple(files), time.perf_counter() - start, workers, threads)


def check_models(options: AnalyzerOptions | None) -> None:
    """Opens and closes every model the videos need, so that a missing or bad one fails here, once, rather than in
    every worker. The landmark model, which an Analyzer opens on its first face, is opened now when the videos use it
    (``landmarks=True`` for this Analyzer alone: its only effect is opening it)."""
    options = options or AnalyzerOptions()
    with unloadable_model_as_bad_input(), \
            open_analyzer(replace(options, landmarks=True) if options.landmarks_in_videos else options, 1):
        pass


def _record(result: VideoResult, job: VideoJob, out: Path, source: dict | None, expected: dict,
            engine: str) -> VideoRow:
    if result.error is not None or result.document is None:
        return VideoRow.failed(job, result.error or "no result", result.seconds)
    document = write_report(out / job.report, result, job, source, expected, engine)
    return VideoRow.from_report(job, out / job.report, document, DONE)


class _Progress:
    """Videos done and failed and the time left: a tqdm bar on a terminal, else an INFO log line now and then."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total, self.enabled = total, enabled
        self.finished = self.failed = 0
        self.start = self.last = time.monotonic()
        self.bar = None
        if enabled and sys.stderr.isatty():
            try:
                from tqdm import tqdm

                self.bar = tqdm(total=total, unit="video", desc="fer-batch", file=sys.stderr)
            except ImportError:
                log.info("tqdm is not installed (pip install 'fer-edge[batch]'): progress as log lines")

    def update(self, failed: bool) -> None:
        self.finished += 1
        self.failed += failed
        if self.bar is not None:
            self.bar.set_postfix(done=self.finished - self.failed, failed=self.failed, refresh=False)
            self.bar.update(1)
            return
        now = time.monotonic()
        if self.enabled and (now - self.last >= PLAIN_PROGRESS_EVERY_S or self.finished == self.total):
            self.last = now
            left = (now - self.start) / self.finished * (self.total - self.finished)
            log.info("%d/%d videos, %d failed, about %.0f s left", self.finished, self.total, self.failed, left)

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()

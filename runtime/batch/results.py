"""A batch's files: one report per video, written atomically, and the summary table (CSV, and Parquet with pyarrow).

A report is fer-analyze's JSON for that video (schema ``ANALYSIS_SCHEMA``, the same ``model`` and ``video``
keys) plus a ``batch`` key saying what it was made from: the input file (path, size, mtime), the models' files,
the settings and the analysis's ``RESULTS_VERSION`` (the fingerprint), the carried columns and the time it took.
A report is *complete* for a rerun when it parses, has the schema and a ``video``, and its ``batch`` input and
fingerprint equal the current ones: a changed video, a new model file, other settings or a newer analysis redo it.
Failed videos get no report, so a rerun tries them again.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from runtime.analyzer import DEFAULT_EMOTION_MODEL, AnalyzerOptions
from runtime.backends import parse_device
from runtime.batch.inputs import REPORT_SUFFIX, SHARE_PREFIX, VideoJob
from runtime.batch.worker import VideoResult, VideoSettings
from runtime.detection import Engine
from runtime.outputs import STAGING_NAME, json_text, replace_file
from runtime.paths import default_model_dir, face_landmark_model, resolve_model
from runtime.results import ANALYSIS_SCHEMA, RESULTS_VERSION

log = logging.getLogger(__name__)

BATCH_KEY = "batch"
SUMMARY_CSV = "summary.csv"
SUMMARY_PARQUET = "summary.parquet"
PARQUET_STAGING = f".{SUMMARY_PARQUET}.tmp"  # written by pyarrow, then moved into place
PAGE_SUFFIX = ".html"
DONE, SKIPPED, FAILED = "done", "skipped", "failed"  # analysed in this run; report up to date; no result


def file_identity(path: Path) -> dict[str, Any] | None:
    """Path, size and modification time of a file (None when it does not exist)."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return {"path": str(path), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def fingerprint(options: AnalyzerOptions | None, settings: VideoSettings) -> dict[str, Any]:
    """What a report's results depend on besides the video: the model files and every setting that changes an
    answer (threads, workers and the engine do not)."""
    options = options or AnalyzerOptions()
    detector = options.detector
    models = [options.emotion_model or default_model_dir() / DEFAULT_EMOTION_MODEL, options.expressiveness_model,
              *detector.model_paths, face_landmark_model() if options.landmarks_in_videos else None]
    return {
        "results_version": RESULTS_VERSION,  # the analysis's code: a fix that changes results redoes the reports
        "models": [file_identity(_model_file(model)) for model in models if model is not None],
        "detector": {"model": str(detector.model), "engine": Engine(detector.engine).value,
                     "min_score": detector.min_score},
        "device": parse_device(options.device).value, "max_faces": options.max_faces,
        "crop_padding": options.crop_padding, "min_face_size": options.min_face_size,
        "expressiveness": options.expressiveness, "landmarks": options.landmarks, "tracking": options.tracking,
        "redetect_every": options.redetect_every, "level_faces": options.level_faces,
        "flip_average": options.flip_average,
        "crop_average": options.crop_average,
        **{name: value for name, value in asdict(settings).items() if name != "html"},  # a page changes no result
    }


def _model_file(model: str | Path) -> Path:
    """The file a model name opens, as the Analyzer finds it: a bare name in the model folder (``resolve_model``),
    not in the current folder."""
    try:
        return resolve_model(model).resolve()
    except FileNotFoundError:
        return Path(model).resolve()  # no such file: its identity is None


def finished_report(path: Path, source: dict[str, Any] | None, expected: dict[str, Any]) -> dict[str, Any] | None:
    """The report at ``path`` when it is complete for this input and fingerprint (see the module docstring)."""
    if source is None or not path.is_file():
        return None
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        log.warning("%s: not a readable report; the video is analysed again", path)
        return None
    batch = document.get(BATCH_KEY) if isinstance(document, dict) else None
    if (document.get("schema") != ANALYSIS_SCHEMA or not isinstance(document.get("video"), dict)
            or not isinstance(batch, dict)):
        return None
    # a round trip through JSON, so that tuples and floats compare as the stored values do
    if batch.get("input") != source or batch.get("fingerprint") != json.loads(json.dumps(expected)):
        return None
    return document


def write_report(path: Path, result: VideoResult, job: VideoJob, source: dict[str, Any] | None,
                 expected: dict[str, Any], engine: str) -> dict[str, Any]:
    """The worker's document with its ``batch`` record, written atomically; returns what was written."""
    document = {**(result.document or {}), BATCH_KEY: {
        "input": source, "fingerprint": expected, "carried": job.carried, "seconds": result.seconds,
        "engine": engine, "worker": result.worker}}
    path.parent.mkdir(parents=True, exist_ok=True)
    if result.html is not None:  # before the report, which marks the video finished
        replace_file(page_path(path), result.html)
    replace_file(path, json_text(document) + "\n")
    return document


def page_path(report: Path) -> Path:
    """Where the report page of a video's report goes: beside it, ``.html`` for ``.json``."""
    return report.with_suffix(PAGE_SUFFIX)


def clean_temporary_files(out_dir: Path) -> int:
    """Removes what a killed run left of unfinished files: ``replace_file``'s staging files of reports, pages and
    the CSV summary (``.<name>.<pid>-<8 hex>.tmp``) and the Parquet summary's. Other hidden ``.tmp`` files stay."""
    removed = 0
    for leftover in out_dir.rglob(".*.tmp"):
        if leftover.is_file() and _batch_staging_file(leftover, out_dir):
            leftover.unlink(missing_ok=True)
            removed += 1
    return removed


def _batch_staging_file(path: Path, out_dir: Path) -> bool:
    if path == out_dir / PARQUET_STAGING:
        return True
    staged = STAGING_NAME.fullmatch(path.name)
    return staged is not None and (staged["target"].endswith((REPORT_SUFFIX, PAGE_SUFFIX))
                                   or staged["target"] == SUMMARY_CSV)


@dataclass(frozen=True)
class VideoRow:
    """One video's line of the summary table.

    Attributes:
        path: the video. report: its report (None when it failed). status: "done", "skipped" or "failed".
        error: why it failed. dominant_emotion, emotion_distribution: the video report's fields.
        expressiveness_level, expressiveness_score, expressiveness_method: its expressiveness.
        frames_read, frames_analyzed, frames_without_face, complete: as in the video report.
        seconds: the worker's wall time for the video (from the report when it was skipped).
        carried: the manifest's other columns.
    """

    path: str
    report: str | None
    status: str
    error: str | None = None
    dominant_emotion: str | None = None
    emotion_distribution: dict[str, float] = field(default_factory=dict)
    expressiveness_level: str | None = None
    expressiveness_score: float | None = None
    expressiveness_method: str | None = None
    frames_read: int | None = None
    frames_analyzed: int | None = None
    frames_without_face: int | None = None
    complete: bool | None = None
    seconds: float | None = None
    carried: dict[str, str | None] = field(default_factory=dict)

    @classmethod
    def from_report(cls, job: VideoJob, report: Path, document: dict[str, Any], status: str) -> VideoRow:
        video, batch = document["video"], document.get(BATCH_KEY, {})
        expressiveness = video.get("expressiveness") or {}
        return cls(str(job.path), str(report), status, None, video.get("dominant_emotion"),
                   dict(video.get("emotion_distribution") or {}), expressiveness.get("level"),
                   expressiveness.get("score"), expressiveness.get("method"), video.get("frames_read"),
                   video.get("frames_analyzed"), video.get("frames_without_face"), video.get("complete"),
                   batch.get("seconds"), job.carried)

    @classmethod
    def failed(cls, job: VideoJob, error: str, seconds: float | None = None) -> VideoRow:
        return cls(str(job.path), None, FAILED, error, seconds=seconds, carried=job.carried)

    def flat(self, labels: list[str]) -> dict[str, Any]:
        """The row as table columns: ``share_<emotion>`` for the distribution, then the carried columns."""
        row = {k: v for k, v in asdict(self).items() if k not in ("emotion_distribution", "carried")}
        row.update({f"{SHARE_PREFIX}{label}": self.emotion_distribution.get(label) for label in labels})
        return {**row, **self.carried}


def write_summary(rows: list[VideoRow], out_dir: Path) -> list[Path]:
    """``summary.csv`` always and ``summary.parquet`` when pyarrow is installed, each written atomically."""
    labels = list(dict.fromkeys(label for row in rows for label in row.emotion_distribution))
    flat = [row.flat(labels) for row in rows]
    columns = list(dict.fromkeys(column for row in flat for column in row))
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(flat)
    written = [out_dir / SUMMARY_CSV]
    replace_file(written[0], text.getvalue())
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        log.info("pyarrow is not installed (pip install 'fer-edge[batch]'): no %s", SUMMARY_PARQUET)
        return written
    table = pa.Table.from_pylist([{column: row.get(column) for column in columns} for row in flat])
    staging = out_dir / PARQUET_STAGING
    pq.write_table(table, staging)
    staging.replace(out_dir / SUMMARY_PARQUET)
    written.append(out_dir / SUMMARY_PARQUET)
    return written

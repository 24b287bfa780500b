"""What a batch analyses: videos from folders, globs and manifests (CSV or JSONL), with the columns to carry.

A manifest holds one video per row in its path column (``path`` unless told otherwise); every other column is
carried through to the summary table and the video's report as a string (a candidate id, a session date), so a
column may not be named like one of the summary's own (``status``, ``error``, ``share_Happy``...).
Relative paths in a manifest are read from the manifest's folder. Bad manifests are refused before any work,
naming the file and the line; a listed video that does not exist is not a manifest error: it becomes a failed
row and the batch goes on.
"""

from __future__ import annotations

import csv
import glob
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from runtime.manifest import json_object
from runtime.outputs import VIDEO_SUFFIXES

MANIFEST_SUFFIXES = (".csv", ".jsonl")
DEFAULT_PATH_COLUMN = "path"
REPORT_SUFFIX = ".json"
# the summary table's own columns (runtime.batch.results.VideoRow.flat), before the carried ones: a carried column of
# one of these names would replace the video's value (a failed video reading "done")
SUMMARY_COLUMNS = frozenset({
    "path", "report", "status", "error", "dominant_emotion", "expressiveness_level", "expressiveness_score",
    "expressiveness_method", "frames_read", "frames_analyzed", "frames_without_face", "complete", "seconds"})
SHARE_PREFIX = "share_"  # then one column per emotion: share_Happy


@dataclass(frozen=True)
class VideoJob:
    """One video of a batch.

    Attributes:
        path: the video file (absolute; it may not exist, which the batch records as a failure).
        report: where its report goes, relative to the output folder (its path below the inputs' common folder).
        carried: the manifest's other columns for this video, as strings (None for an empty JSON value).
        origin: where it was listed, for messages ("interviews.csv line 4", "folder videos/").
    """

    path: Path
    report: Path
    carried: dict[str, str | None] = field(default_factory=dict)
    origin: str = ""


def read_inputs(inputs: Iterable[str | Path], path_column: str = DEFAULT_PATH_COLUMN) -> list[VideoJob]:
    """The videos named by folders (searched recursively), glob patterns, manifests and video files.

    Raises:
        FileNotFoundError: an input that does not exist. ValueError: an input of no known kind, a glob or folder
        without videos, a bad manifest (empty, missing path column, bad JSONL line), a video listed twice.
    """
    listed: list[tuple[Path, dict[str, str | None], str]] = []
    for item in inputs:
        listed.extend(_expand(str(item), path_column))
    if not listed:
        raise ValueError("no inputs given")
    seen: dict[Path, str] = {}
    for path, _, origin in listed:
        if path in seen:
            raise ValueError(f"video {path} is listed twice ({seen[path]} and {origin})")
        seen[path] = origin
    root = Path(os.path.commonpath([str(path.parent) for path, _, _ in listed]))
    return [VideoJob(path, Path(str(path.relative_to(root)) + REPORT_SUFFIX), carried, origin)
            for path, carried, origin in listed]


def _expand(text: str, path_column: str) -> Iterator[tuple[Path, dict[str, str | None], str]]:
    if glob.has_magic(text):
        matches = sorted(Path(p).resolve() for p in glob.glob(text, recursive=True)
                         if Path(p).suffix.lower() in VIDEO_SUFFIXES and Path(p).is_file())
        if not matches:
            raise ValueError(f"no videos ({', '.join(VIDEO_SUFFIXES)}) match {text!r}")
        yield from ((path, {}, f"glob {text!r}") for path in matches)
        return
    path = Path(text)
    if not path.exists():
        raise FileNotFoundError(f"input not found: {path}")
    if path.is_dir():
        found = sorted(p.resolve() for p in path.rglob("*") if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file())
        if not found:
            raise ValueError(f"no videos ({', '.join(VIDEO_SUFFIXES)}) in folder {path}")
        yield from ((video, {}, f"folder {path}") for video in found)
    elif path.suffix.lower() in MANIFEST_SUFFIXES:
        yield from read_manifest(path, path_column)
    elif path.suffix.lower() in VIDEO_SUFFIXES:
        yield path.resolve(), {}, "the command line"
    else:
        raise ValueError(f"unsupported input {path.name!r}: expected a folder, a glob, a manifest "
                         f"({', '.join(MANIFEST_SUFFIXES)}) or a video ({', '.join(VIDEO_SUFFIXES)})")


def read_manifest(path: Path, path_column: str = DEFAULT_PATH_COLUMN) -> list[tuple[Path, dict[str, str | None], str]]:
    """(video, carried columns, "file line N") for each row of a CSV or JSONL manifest.

    Raises:
        ValueError: an empty manifest, a row without the path column or with an empty path, a JSONL line that is
            not a JSON object, a column named like one of the summary's (the message names the file and line number).
    """
    rows = _csv_rows(path, path_column) if path.suffix.lower() == ".csv" else _jsonl_rows(path)
    listed = []
    for line, row in rows:
        where = f"{path.name} line {line}"
        value = row.pop(path_column, None)
        if value is None or not str(value).strip():
            raise ValueError(f"{where}: no video in column {path_column!r} (columns: {', '.join(row) or 'none'})")
        if clashing := [column for column in row if column in SUMMARY_COLUMNS or column.startswith(SHARE_PREFIX)]:
            raise ValueError(f"{where}: the summary has its own columns named {', '.join(clashing)}; rename these in "
                             "the manifest")
        video = Path(str(value).strip()).expanduser()
        listed.append(((path.parent / video).resolve(), {k: _text(v) for k, v in row.items()}, where))
    if not listed:
        raise ValueError(f"manifest {path} lists no videos")
    return listed


def _csv_rows(path: Path, path_column: str) -> list[tuple[int, dict[str, object]]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames:
            raise ValueError(f"manifest {path} is empty: expected a header row with a {path_column!r} column")
        if path_column not in reader.fieldnames:
            raise ValueError(f"manifest {path} has no column {path_column!r} (columns: {', '.join(reader.fieldnames)})")
        rows = []
        for row in reader:
            if None in row:
                raise ValueError(f"{path.name} line {reader.line_num}: more fields than the header has")
            if any(value not in (None, "") for value in row.values()):
                rows.append((reader.line_num, dict(row)))
        return rows


def _jsonl_rows(path: Path) -> list[tuple[int, dict[str, object]]]:
    rows = []
    with open(path, encoding="utf-8") as handle:
        for line, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                rows.append((line, json_object(text)))
            except ValueError as exc:
                raise ValueError(f"{path.name} line {line}: {exc}") from None
    return rows


def _text(value: object) -> str | None:
    """A carried value as the summary table holds it: strings as they are, other JSON values as JSON."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value)

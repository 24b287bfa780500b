"""fer-analyze's output files: checked before any work starts, written with errors that name the option and path.

A run over a long video must not end in a traceback that loses its results because ``--json`` names a missing
folder: every target is checked up front (its folder exists and is writable, it is not a folder itself, its suffix
suits what will be written), and JSON is written strictly (a NaN fails loudly instead of writing invalid JSON).
"""

from __future__ import annotations

import json
import os
import re
import sys
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import cv2

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg")
ANNOTATED_VIDEO_SUFFIXES = (".mp4", ".avi")  # what runtime.annotate.VideoWriter writes (mp4v, MJPG)
REPORT_SUFFIXES = (".html", ".htm")
STDOUT = "-"
STAGING_NAME = re.compile(r"\.(?P<target>.+)\.\d+-[0-9a-f]{8}\.tmp")  # staging_path's names; target: what it becomes


def folder_problem(folder: Path) -> str | None:
    """Why ``folder`` can neither be used nor made (its nearest existing ancestor is a file, or not writable), or
    None: the outputs' folders are checked before any work."""
    existing = next(p for p in (folder, *folder.absolute().parents) if p.exists())
    if not existing.is_dir():
        return f"{existing} is a file, not a folder"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"{existing} is not writable"
    return None


def _check_file_target(option: str, path: Path) -> None:
    if path.is_dir():
        raise ValueError(f"{option} {path}: is a folder; name a file")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ValueError(f"{option} {path}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise ValueError(f"{option} {path}: not writable")


def _check_folder_target(option: str, path: Path) -> None:
    if path.exists() and not path.is_dir():
        raise ValueError(f"{option} {path}: the input is a folder, so this must be a folder too, not a file")
    problem = folder_problem(path)
    if problem:
        raise ValueError(f"{option} {path}: cannot create folders there: {problem}")


def check_targets(kind: str, json_path: Path | None, csv_path: Path | None, annotate: Path | None) -> None:
    """Checks every requested output before the analysis starts.

    Args:
        kind: "image", "folder", "video" or "camera" (the input's kind).

    Raises:
        ValueError: a target that cannot be written, naming the option, the path and the reason.
    """
    if json_path is not None and str(json_path) != STDOUT:
        _check_file_target("--json", json_path)
    if csv_path is not None:
        _check_file_target("--csv", csv_path)
    if annotate is None:
        return
    if kind == "folder":
        _check_folder_target("--annotate", annotate)
        return
    suffixes = IMAGE_SUFFIXES if kind == "image" else ANNOTATED_VIDEO_SUFFIXES
    what = "an image" if kind == "image" else "a video"
    if annotate.suffix.lower() not in suffixes:
        raise ValueError(f"--annotate {annotate}: the input is {what}, so name {what} file "
                         f"({', '.join(suffixes)}), not {annotate.suffix or 'a name without suffix'!r}")
    if kind == "image" and not cv2.haveImageWriter(str(annotate)):
        raise ValueError(f"--annotate {annotate}: this OpenCV cannot write {annotate.suffix} images")
    _check_file_target("--annotate", annotate)


def check_not_inputs(targets: dict[str, Path | None], inputs: Sequence[Path], folder: Path | None = None) -> None:
    """Refuses an output that would overwrite the input: a file target (``{option: path}``) that is one of the input
    files (also through a link), or, for a folder's images (``folder``), an ``--annotate`` folder that is that folder.

    Raises:
        ValueError: naming the option, the path and the input it is.
    """
    for option, target in targets.items():
        if target is None or str(target) == STDOUT or not target.exists():
            continue  # a target that does not exist yet cannot be an input
        if folder is not None and option == "--annotate":
            if target.is_dir() and os.path.samefile(target, folder):
                raise ValueError(f"--annotate {target}: is the input folder; its images would be overwritten "
                                 "by the annotated ones (name another folder)")
            continue
        for path in inputs:
            if os.path.samefile(target, path):
                raise ValueError(f"{option} {target}: is the input {path}; it would be overwritten (name another "
                                 "file)")


def check_distinct(targets: dict[str, Path | None]) -> None:
    """Refuses two outputs that name the same file (also through a link): the second written would replace the
    first (``--json page.html --report page.html`` left the JSON under the page's name).

    Raises:
        ValueError: naming both options and the file.
    """
    seen: dict[str, str] = {}
    for option, target in targets.items():
        if target is None or str(target) == STDOUT:
            continue
        where = os.path.realpath(target)
        if where in seen:
            raise ValueError(f"{seen[where]} and {option} name the same file {target}: each output needs its own")
        seen[where] = option


def check_report_target(kind: str, path: Path | None, thumbnails: bool) -> None:
    """Checks ``--report``/``--report-thumbnails`` before the analysis: a video or webcam input, an .html file
    that can be written, and matplotlib there to draw the charts.

    Raises:
        ValueError: a combination or target that cannot work, naming the option. ImportError: the extra is missing.
    """
    if path is None:
        if thumbnails:
            raise ValueError("--report-thumbnails needs --report FILE.html")
        return
    if kind not in ("video", "camera"):
        raise ValueError(f"--report {path}: the report page is made for a video or a webcam; the input is "
                         f"{'a folder' if kind == 'folder' else 'an image'}")
    if thumbnails and kind == "camera":
        raise ValueError("--report-thumbnails: a webcam's frames are not kept, so thumbnails need a video file")
    if path.suffix.lower() not in REPORT_SUFFIXES:
        raise ValueError(f"--report {path}: name an HTML file ({', '.join(REPORT_SUFFIXES)})")
    _check_file_target("--report", path)
    from runtime.report_html import require

    require()


def write_image(path: Path, image: Any) -> None:
    """Writes an image with OpenCV; raises OSError when it could not (``cv2.imwrite`` only returns False)."""
    try:
        written = cv2.imwrite(str(path), image)
    except cv2.error as exc:
        raise OSError(f"cannot write image {path}: {exc}") from exc
    if not written:
        raise OSError(f"cannot write image {path}")


def json_text(data: dict[str, Any]) -> str:
    """``data`` as indented JSON; NaN or infinity raise ValueError (JSON has no NaN)."""
    return json.dumps(data, indent=2, allow_nan=False)


def staging_path(path: Path) -> Path:
    """Where ``replace_file`` writes ``path`` first: ``.<name>.<pid>-<8 random hex digits>.tmp`` beside it (the
    names ``STAGING_NAME`` matches)."""
    return path.parent / f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp"


def replace_file(path: Path, text: str) -> None:
    """Writes ``text`` to a temporary file beside ``path`` (``staging_path``), then moves it into place
    (``os.replace``): a reader or a killed run sees the old file or the whole new one, never half of it. The
    temporary file is removed again when writing fails."""
    staging = staging_path(path)
    try:
        with open(staging, "x", encoding="utf-8") as handle:  # "x": created new, with the umask's permissions
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(staging, path)
    except BaseException:
        staging.unlink(missing_ok=True)
        raise


@contextmanager
def writing(option: str, path: Path) -> Iterator[None]:
    """Turns an OSError while writing ``option``'s file into one that names the option and path: the work is done
    by then, so it is a failed run (exit 1), not bad input (a FileNotFoundError would read as one)."""
    try:
        yield
    except BrokenPipeError:  # stdout's reader went away ("-"): the command line ends quietly (run_command)
        raise
    except OSError as exc:
        raise OSError(f"{option} {path}: cannot write: {exc.strerror or exc}") from exc


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Writes ``data`` as JSON to ``path`` (or stdout for "-"). NaN or infinity raise ValueError."""
    text = json_text(data)
    if str(path) == STDOUT:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    else:
        path.write_text(text + "\n", encoding="utf-8")

"""Loader for the original FER-2013 file (``fer2013.csv`` or ``.csv.gz``: columns emotion, pixels, Usage)."""

from __future__ import annotations

import csv
import gzip
import io
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from runtime.manifest import FER2013_LABELS

SPLITS = ("Training", "PublicTest", "PrivateTest")
IMAGE_SIDE = 48
_PIXELS = IMAGE_SIDE * IMAGE_SIDE
_HEADER = ["emotion", "pixels", "Usage"]


class MalformedDataError(ValueError):
    """A row of a data file is not what the format says; the message names the line."""


@dataclass(frozen=True)
class FaceSet:
    """Faces of one split: images (N, 48, 48) uint8, labels (N,) int64 in FER-2013 order, rows (N,) file rows."""

    images: np.ndarray
    labels: np.ndarray
    rows: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, index: np.ndarray) -> FaceSet:
        return FaceSet(self.images[index], self.labels[index], self.rows[index])


def _open_text(path: Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def _parse_pixels(text: str, line: int) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # older numpy warns and stops at a bad token
        try:
            values = np.fromstring(text, dtype=np.int32, sep=" ")
        except ValueError:  # newer numpy raises at a bad token
            raise MalformedDataError(f"line {line}: pixels must be {_PIXELS} space-separated integers, "
                                     "found a value that is not an integer") from None
    if values.size != _PIXELS:
        raise MalformedDataError(
            f"line {line}: pixels must be {_PIXELS} space-separated integers, got {values.size} readable values"
        )
    if values.min() < 0 or values.max() > 255:
        raise MalformedDataError(f"line {line}: pixel values must lie in 0..255")
    return values.astype(np.uint8)


def load_fer2013(path: str | Path, splits: tuple[str, ...] = SPLITS) -> dict[str, FaceSet]:
    """Reads FER-2013 into one FaceSet per requested split (about 3 s for the whole file).

    Raises:
        FileNotFoundError: the file does not exist.
        MalformedDataError: the header or a row is malformed; the message names the line and the problem.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"FER-2013 file not found: {path}")
    unknown = set(splits) - set(SPLITS)
    if unknown:
        raise ValueError(f"unknown FER-2013 split(s) {sorted(unknown)}; choose from {SPLITS}")
    images: dict[str, list[np.ndarray]] = {s: [] for s in splits}
    labels: dict[str, list[int]] = {s: [] for s in splits}
    rows: dict[str, list[int]] = {s: [] for s in splits}
    try:
        with _open_text(path) as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header != _HEADER:
                raise MalformedDataError(f"line 1: header must be {','.join(_HEADER)}, got {header}")
            for row_index, row in enumerate(reader):
                line = row_index + 2
                if len(row) != 3:
                    raise MalformedDataError(f"line {line}: expected 3 fields, got {len(row)}")
                emotion, pixels, usage = row
                if usage not in SPLITS:
                    raise MalformedDataError(f"line {line}: Usage must be one of {SPLITS}, got {usage!r}")
                if not emotion.isdigit() or int(emotion) >= len(FER2013_LABELS):
                    raise MalformedDataError(f"line {line}: emotion must be an integer 0..6, got {emotion!r}")
                if usage not in images:
                    continue
                images[usage].append(_parse_pixels(pixels, line))
                labels[usage].append(int(emotion))
                rows[usage].append(row_index)
    except (OSError, EOFError, UnicodeDecodeError, csv.Error, zlib.error) as exc:
        raise MalformedDataError(f"{path} cannot be read as FER-2013 CSV: {exc}") from exc
    return {
        s: FaceSet(
            np.asarray(images[s], dtype=np.uint8).reshape(-1, IMAGE_SIDE, IMAGE_SIDE),
            np.asarray(labels[s], dtype=np.int64),
            np.asarray(rows[s], dtype=np.int64),
        )
        for s in splits
    }


def check_rows(path: Path, rows: int, data: Path, data_rows: int) -> None:
    """Refuses a FER+ file (labels or votes) that does not have one row per row of the FER-2013 file ``data``.

    Raises:
        ValueError: the counts differ; the message names both files and their counts.
    """
    if rows != data_rows:
        raise ValueError(f"{path} has {rows} rows but {data} has {data_rows}: a FER+ file needs one row per row of "
                         "the FER-2013 file it was made for")


def load_ferplus_majority(path: str | Path) -> np.ndarray:
    """FER+ majority labels as FER-2013 class indices, one per FER-2013 row; -1 where the majority is not
    one of the 7 emotions (Contempt, Unknown, NF) or there is none."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"FER+ majority-label file not found: {path}")
    index = {name: i for i, name in enumerate(FER2013_LABELS)}
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or "ferplus_majority" not in reader.fieldnames:
            raise MalformedDataError(f"{path}: line 1 has no 'ferplus_majority' column")
        return np.asarray([index.get(row["ferplus_majority"], -1) for row in reader], dtype=np.int64)


# FER+ vote columns for FER-2013's seven classes, in FER2013_LABELS order; contempt, unknown and NF are left out.
FERPLUS_VOTE_COLUMNS = ("anger", "disgust", "fear", "happiness", "sadness", "surprise", "neutral")


def load_ferplus_votes(path: str | Path) -> np.ndarray:
    """FER+ crowd votes (``fer2013new.csv``) as an array (rows, 7) of vote counts over FER-2013's classes, one row
    per FER-2013 row in file order. Rows whose votes all went to contempt, unknown or NF are all zero.

    Raises:
        FileNotFoundError: no file. MalformedDataError: a missing column or a vote that is not a whole number.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"FER+ vote file not found: {path}")
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in FERPLUS_VOTE_COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise MalformedDataError(f"{path}: line 1 lacks the vote columns {missing}")
        votes = []
        for line, row in enumerate(reader, start=2):
            try:
                votes.append([int(row[c] or 0) for c in FERPLUS_VOTE_COLUMNS])
            except (TypeError, ValueError):
                raise MalformedDataError(f"{path}: line {line} has a vote that is not a whole number") from None
    result = np.asarray(votes, dtype=np.float32).reshape(-1, len(FERPLUS_VOTE_COLUMNS))
    if (result < 0).any():
        raise MalformedDataError(f"{path}: negative vote counts")
    return result


def default_split_with_ferplus(split: str = "PublicTest") -> tuple[FaceSet, np.ndarray | None]:
    """``split`` of the default FER-2013 file (``default_fer2013``) and, when that file is the shared one, the FER+
    majority labels of all its rows (None for another file: the shared labels' rows are the shared file's).

    Raises:
        FileNotFoundError: there is no FER-2013 file ($FER2013_CSV, or the data root's).
    """
    from convert.data.paths import default_fer2013, default_ferplus, is_shared_fer2013

    data = default_fer2013()
    if data is None:
        raise FileNotFoundError("no FER-2013 file: set FER2013_CSV or FER_EDGE_DATA")
    faces = load_fer2013(data, (split,))[split]
    ferplus = default_ferplus() if is_shared_fer2013(data) else None
    return faces, load_ferplus_majority(ferplus) if ferplus else None

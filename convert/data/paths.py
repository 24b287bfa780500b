"""Where the shared data lives: an environment variable first, then ``../shared/data`` beside the project."""

from __future__ import annotations

import os
from pathlib import Path

DATA_ENV = "FER_EDGE_DATA"
FER2013_ENV = "FER2013_CSV"

_PROJECT_ROOT = Path(__file__).resolve().parents[2]


def data_root() -> Path:
    """The shared data folder: ``$FER_EDGE_DATA``, else ``../shared/data`` beside the project (may not exist)."""
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV]).expanduser()
    return _PROJECT_ROOT.parent / "shared" / "data"


def default_fer2013() -> Path | None:
    """``$FER2013_CSV``, else ``fer2013/fer2013.csv.gz`` (or ``.csv``) under the data root, if present."""
    if os.environ.get(FER2013_ENV):
        return Path(os.environ[FER2013_ENV]).expanduser()
    for name in ("fer2013.csv.gz", "fer2013.csv"):
        candidate = data_root() / "fer2013" / name
        if candidate.is_file():
            return candidate
    return None


def is_shared_fer2013(path: Path) -> bool:
    """True when ``path`` is the shared data's FER-2013 file (``fer2013/fer2013.csv.gz`` or ``.csv`` under the data
    root), the one the shared FER+ files (``default_ferplus``, ``ferplus_votes_file``) have a row for each row of."""
    try:
        resolved = path.resolve()
        return any((data_root() / "fer2013" / name).resolve() == resolved for name in ("fer2013.csv.gz", "fer2013.csv"))
    except OSError:
        return False


def default_ferplus() -> Path | None:
    candidate = data_root() / "fer2013" / "ferplus_majority_labels.csv"
    return candidate if candidate.is_file() else None


def ferplus_votes_file() -> Path:
    """Where FER+'s crowd votes (``fer2013new.csv``) are expected under the data root (may not exist)."""
    return data_root() / "fer2013" / "fer2013new.csv"


def media_dir() -> Path:
    return data_root() / "media"

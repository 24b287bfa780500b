"""Writes small files in the FER-2013 CSV layout from generated faces."""

from __future__ import annotations

import gzip
from pathlib import Path

from tests.synthetic import synthetic_faces

HEADER = "emotion,pixels,Usage\n"


def write_fer_csv(path: Path, counts: dict[str, int] | None = None, seed: int = 0) -> Path:
    """A FER-2013-layout CSV (gzipped when the name ends in .gz) with generated faces in each split."""
    counts = counts or {"Training": 140, "PublicTest": 35, "PrivateTest": 35}
    lines = [HEADER]
    for i, (usage, count) in enumerate(counts.items()):
        images, labels = synthetic_faces(count, seed=seed + i)
        lines += [f"{label},{' '.join(map(str, image.ravel()))},{usage}\n" for image, label in zip(images, labels)]
    text = "".join(lines)
    if path.suffix == ".gz":
        with gzip.open(path, "wt") as handle:
            handle.write(text)
    else:
        path.write_text(text)
    return path

"""The seed notebook's API, kept for existing callers; ``Analyzer``'s methods of the same names delegate here."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from runtime.outputs import write_image
from runtime.preprocess import check_frame

if TYPE_CHECKING:
    from runtime.analyzer import Analyzer


def predict_facial_expression_batch(analyzer: Analyzer, image_batch: Sequence[np.ndarray]) -> tuple[list[str], int]:
    """Top emotion of the largest face of each frame that has one, and the count of frames without a face."""
    results = analyzer.analyze_batch(image_batch)
    expressions = [faces[0].top_emotion for faces in results if faces]
    return expressions, len(results) - len(expressions)


def crop_face(analyzer: Analyzer, frame: np.ndarray) -> np.ndarray | None:
    """The crop (BGR) of the largest face as the expression model sees it before resizing, or None."""
    found = analyzer._detect(frame)
    return found[0][1] if found else None


def write_frame_to_disk(face: np.ndarray, name: str, folder: str | Path) -> Path:
    """Writes an image (e.g. a crop from `crop_face`) as ``folder/name`` (.png added when no suffix).

    Raises:
        ValueError: the image is not a uint8 image. OSError: it cannot be written.
    """
    check_frame(face, "face")
    path = Path(folder) / name
    if not path.suffix:
        path = path.with_suffix(".png")
    path.parent.mkdir(parents=True, exist_ok=True)
    write_image(path, face)
    return path

"""Faces for calibration and verification: one source of faces, two thin adapters (TFLite, ONNX Runtime).

A source is a FER-2013 CSV (stratified over the classes of its Training split), an ``.npz`` holding ``images``
(N, H, W[, C]) uint8 and optionally ``labels``, or a folder of face images.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from convert.data.fer2013 import FaceSet, load_fer2013

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")


class CalibrationDataError(ValueError):
    """Calibration data is missing, empty or malformed."""


def stratified_sample(faces: FaceSet, count: int, seed: int) -> FaceSet:
    """Up to ``count`` faces with the classes as evenly represented as the data allows."""
    if count >= len(faces):
        return faces
    rng = np.random.default_rng(seed)
    classes = np.unique(faces.labels)
    pools = {c: rng.permutation(np.flatnonzero(faces.labels == c)) for c in classes}
    chosen: list[int] = []
    quota = count // len(classes)
    for c in classes:
        chosen.extend(pools[c][:quota].tolist())
    leftover = np.setdiff1d(np.arange(len(faces)), chosen)
    chosen.extend(rng.permutation(leftover)[: count - len(chosen)].tolist())
    return faces.subset(np.sort(np.asarray(chosen)))


def _from_npz(path: Path) -> FaceSet:
    try:
        with np.load(path) as data:
            if "images" not in data:
                raise CalibrationDataError(f"{path}: the .npz must hold an 'images' array")
            images = data["images"]
            labels = data["labels"] if "labels" in data else np.full(len(images), -1)
    except CalibrationDataError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise CalibrationDataError(f"{path} cannot be read as .npz: {exc}") from exc
    if images.dtype != np.uint8 or images.ndim not in (3, 4):
        raise CalibrationDataError(
            f"{path}: 'images' must be uint8 (N, H, W) or (N, H, W, C), got {images.dtype} {images.shape}")
    if len(labels) != len(images):
        raise CalibrationDataError(f"{path}: {len(labels)} labels for {len(images)} images")
    return FaceSet(images, labels.astype(np.int64), np.arange(len(images)))


def _from_folder(path: Path) -> FaceSet:
    files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    images = []
    for file in files:
        image = cv2.imread(str(file), cv2.IMREAD_COLOR)
        if image is None:
            raise CalibrationDataError(f"{file} is not a readable image")
        images.append(image)
    faces = np.empty(len(images), dtype=object)
    faces[:] = images
    return FaceSet(faces, np.full(len(images), -1), np.arange(len(images)))


def load_faces(path: str | Path, split: str = "Training") -> FaceSet:
    """All faces of a source (for FER-2013: of one split)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"calibration data not found: {path}")
    if path.is_dir():
        faces = _from_folder(path)
    elif path.suffix == ".npz":
        faces = _from_npz(path)
    elif path.name.endswith((".csv", ".csv.gz")):
        faces = load_fer2013(path, (split,))[split]
    else:
        raise CalibrationDataError(f"{path}: calibration data must be a FER-2013 .csv/.csv.gz, an .npz or a folder")
    if len(faces) == 0:
        raise CalibrationDataError(f"{path} holds no faces")
    return faces


def representative_dataset(inputs: np.ndarray) -> Any:
    """The TFLite converter's adapter: a callable yielding one-face batches."""

    def generate() -> Iterator[list[np.ndarray]]:
        for i in range(len(inputs)):
            yield [inputs[i : i + 1]]

    return generate


def ort_calibration_reader(inputs: np.ndarray, input_name: str) -> Any:
    """ONNX Runtime's adapter: a CalibrationDataReader over the same faces."""
    from onnxruntime.quantization import CalibrationDataReader

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self._iter = iter(range(len(inputs)))

        def get_next(self) -> dict[str, np.ndarray] | None:
            i = next(self._iter, None)
            return None if i is None else {input_name: inputs[i : i + 1]}

        def rewind(self) -> None:
            self._iter = iter(range(len(inputs)))

    return Reader()

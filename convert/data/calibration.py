"""Faces for calibration and verification: one source of faces, two thin adapters (TFLite, ONNX Runtime).

A source is a FER-2013 CSV (stratified over the classes of its Training split), an ``.npz`` holding ``images``
(N, H, W) or (N, H, W, 1 or 3) uint8 and optionally ``labels`` (N,) of whole-number class indices, or a folder of
face images.
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


def stratified_indices(labels: np.ndarray, count: int, seed: int) -> np.ndarray:
    """Sorted indices of up to ``count`` of ``labels`` with the classes as evenly represented as the data allows
    (all of them when ``count`` is not smaller)."""
    if count >= len(labels):
        return np.arange(len(labels))
    rng = np.random.default_rng(seed)
    classes = np.unique(labels)
    pools = {c: rng.permutation(np.flatnonzero(labels == c)) for c in classes}
    chosen: list[int] = []
    quota = count // len(classes)
    for c in classes:
        chosen.extend(pools[c][:quota].tolist())
    leftover = np.setdiff1d(np.arange(len(labels)), chosen)
    chosen.extend(rng.permutation(leftover)[: count - len(chosen)].tolist())
    return np.sort(np.asarray(chosen, dtype=np.int64))


def stratified_sample(faces: FaceSet, count: int, seed: int) -> FaceSet:
    """Up to ``count`` faces with the classes as evenly represented as the data allows."""
    if count >= len(faces):
        return faces
    return faces.subset(stratified_indices(faces.labels, count, seed))


def _from_npz(path: Path, classes: int | None = None) -> FaceSet:
    try:
        with np.load(path) as data:
            if "images" not in data:
                raise CalibrationDataError(f"{path}: the .npz must hold an 'images' array")
            images = data["images"]
            labels = data["labels"] if "labels" in data else None
    except CalibrationDataError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise CalibrationDataError(f"{path} cannot be read as .npz: {exc}") from exc
    grayscale = images.ndim == 3
    if images.dtype != np.uint8 or not (grayscale or (images.ndim == 4 and images.shape[3] in (1, 3))):
        raise CalibrationDataError(f"{path}: 'images' must be uint8 (N, H, W) or (N, H, W, 1 or 3), "
                                   f"got {images.dtype} {images.shape}")
    if min(images.shape[1:3]) < 1:
        raise CalibrationDataError(f"{path}: 'images' are empty, shape {images.shape}")
    if labels is None:
        return FaceSet(images, np.full(len(images), -1), np.arange(len(images)))
    return FaceSet(images, _npz_labels(path, labels, len(images), classes), np.arange(len(images)))


def _npz_labels(path: Path, labels: np.ndarray, count: int, classes: int | None) -> np.ndarray:
    """The ``labels`` of an .npz as int64 class indices, or CalibrationDataError saying what is wrong."""
    if labels.ndim != 1:
        hint = " (one-hot labels: store labels.argmax(1))" if labels.ndim == 2 else ""
        raise CalibrationDataError(f"{path}: 'labels' must hold one class index per image, shape ({count},), "
                                   f"got shape {labels.shape}{hint}")
    if len(labels) != count:
        raise CalibrationDataError(f"{path}: {len(labels)} labels for {count} images")
    if labels.dtype.kind not in "iuf":
        raise CalibrationDataError(f"{path}: 'labels' must be whole-number class indices, got {labels.dtype} values")
    if labels.dtype.kind == "f" and not (np.isfinite(labels).all() and (labels == np.round(labels)).all()):
        bad = labels[~(np.isfinite(labels) & (labels == np.round(labels)))]
        raise CalibrationDataError(f"{path}: 'labels' must be whole-number class indices, found {float(bad[0])}")
    top = classes - 1 if classes else None
    if len(labels) and (labels.min() < 0 or (top is not None and labels.max() > top)):
        wrong = labels.min() if labels.min() < 0 else labels.max()
        span = f"0..{top}" if top is not None else "0 or more"
        raise CalibrationDataError(f"{path}: 'labels' must be class indices {span}, found {wrong:g}")
    return labels.astype(np.int64)


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


def load_faces(path: str | Path, split: str = "Training", classes: int | None = None) -> FaceSet:
    """All faces of a source (for FER-2013: of one split). ``classes``: how many classes an .npz's labels may
    name (0..classes-1); labels are only used to stratify the sample.

    Raises:
        FileNotFoundError: no such file or folder. CalibrationDataError: unreadable, empty or malformed.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"calibration data not found: {path}")
    if path.is_dir():
        faces = _from_folder(path)
    elif path.suffix == ".npz":
        faces = _from_npz(path, classes)
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

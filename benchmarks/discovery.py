"""Finds the emotion models to benchmark: every manifest in a models folder, grouped by its source Keras model.

New models are picked up without editing the suite: a file is benchmarked when ``<file>.json`` beside it is a
fer-edge manifest of task "emotion". Format and precision come from the manifest, never from the file name.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from dataclasses import dataclass
from pathlib import Path

from runtime.manifest import FORMATS, PRECISIONS, Manifest, load_manifest, manifest_path
from runtime.paths import default_model_dir

MODELS_ENV = "FER_EDGE_BENCH_MODELS"
MODEL_SUFFIXES = (".tflite", ".onnx")
DEPLOYED_PREFERENCE = ("tflite-int8", "tflite-fp32", "onnx-int8", "onnx-fp32")


def bench_model_dir() -> Path:
    """``$FER_EDGE_BENCH_MODELS``, else the runtime's shipped model folder."""
    if os.environ.get(MODELS_ENV):
        return Path(os.environ[MODELS_ENV]).expanduser()
    return default_model_dir()


@dataclass(frozen=True)
class ModelFile:
    """One model file and its manifest. ``group`` is the stem of the Keras model it was built from."""

    path: Path
    manifest: Manifest
    group: str

    @property
    def key(self) -> str:
        """Format and precision, e.g. "tflite-int8"."""
        return f"{self.manifest.format}-{self.manifest.precision}"

    @property
    def id(self) -> str:
        return f"{self.group}-{self.key}"

    @property
    def is_keras(self) -> bool:
        return self.manifest.format == "keras"

    @property
    def size_bytes(self) -> int:
        return self.path.stat().st_size


@dataclass(frozen=True)
class ModelGroup:
    """The files converted from one Keras model, in FORMATS then PRECISIONS order, and the Keras file if present."""

    name: str
    files: tuple[ModelFile, ...]
    keras: ModelFile | None

    def get(self, key: str) -> ModelFile | None:
        return next((f for f in self.files if f.key == key), None)

    def fp32_source(self, model: ModelFile) -> ModelFile | None:
        """The fp32 file of the same format that a quantized file was converted from (None for fp32 itself)."""
        if model.manifest.precision == "fp32":
            return None
        return self.get(f"{model.manifest.format}-fp32")

    def fp32_reference(self, model: ModelFile, keras: bool = True) -> ModelFile | None:
        """What a quantized file's predictions are compared with: its fp32 file of the same format, else (with
        ``keras``) the Keras model it was converted from, when that is in the folder (None for fp32 itself, or
        when neither is there)."""
        if model.manifest.precision == "fp32":
            return None
        return self.fp32_source(model) or (self.keras if keras else None)

    @property
    def deployed(self) -> ModelFile:
        """The variant an Analyzer would ship: int8 TFLite when there is one."""
        for key in DEPLOYED_PREFERENCE:
            if (found := self.get(key)) is not None:
                return found
        return self.files[0]


def _order(model: ModelFile) -> tuple[int, int]:
    return FORMATS.index(model.manifest.format), PRECISIONS.index(model.manifest.precision)


def discover(models_dir: Path, task: str = "emotion") -> list[ModelGroup]:
    """Groups of runnable model files of ``task`` found directly in ``models_dir`` (not in subfolders).

    Raises:
        ValueError: a manifest in the folder is malformed (a broken model folder should fail loudly).
    """
    if not models_dir.is_dir():
        return []
    found: dict[str, list[ModelFile]] = {}
    for path in sorted(models_dir.iterdir()):
        if path.suffix not in MODEL_SUFFIXES or not manifest_path(path).is_file():
            continue
        manifest = load_manifest(path)
        if manifest.task != task:
            continue
        group = Path(manifest.source.get("name") or path.name).stem
        found.setdefault(group, []).append(ModelFile(path, manifest, group))
    return [ModelGroup(name, tuple(sorted(files, key=_order)), _keras_reference(models_dir, files))
            for name, files in sorted(found.items())]


def _keras_reference(models_dir: Path, files: list[ModelFile]) -> ModelFile | None:
    """The source ``.keras`` file when it is in the folder. Its own manifest is used when it has one; else the
    fp32 file's, since every file converted from it takes the same input."""
    name = files[0].manifest.source.get("name")
    if not name or not (models_dir / name).is_file():
        return None
    path = models_dir / name
    if manifest_path(path).is_file():
        return ModelFile(path, load_manifest(path), files[0].group)
    template = min(files, key=_order).manifest
    return ModelFile(path, dataclasses.replace(template, format="keras", precision="fp32", verification={}),
                     files[0].group)


@functools.cache
def groups() -> tuple[ModelGroup, ...]:
    """The groups in ``bench_model_dir()``, discovered once per process (test modules parametrize from it)."""
    return tuple(discover(bench_model_dir()))


def all_files(include_keras: bool = False) -> list[ModelFile]:
    files = []
    for group in groups():
        if include_keras and group.keras is not None:
            files.append(group.keras)
        files.extend(group.files)
    return files


def no_models_reason() -> str:
    return (f"no emotion model with a manifest in {bench_model_dir()} "
            f"(set ${MODELS_ENV} to a folder of fer-convert output, e.g. /work/devmodels)")

"""What models are installed: the model folder's files with what their manifests say about them.

    from runtime.catalog import list_models

    for model in list_models():
        print(model.name, model.task, model.precision, model.accuracy)

``fer-analyze --list-models`` prints the same as a table; any listed name can be passed to ``--model`` (or
``AnalyzerOptions(emotion_model=...)``) as it is.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from runtime.detection.blazeface import MODELS as DETECTOR_MODELS
from runtime.manifest import load_manifest
from runtime.paths import DEFAULT_EMOTION_MODEL, DEPLOYABLE_SUFFIXES, FACE_LANDMARK_FILE, default_model_dir


@dataclass(frozen=True)
class ModelInfo:
    """One installed model file.

    Attributes:
        name: the file name (what ``--model`` accepts); detector files are named ``blazeface/<file>``.
        path: where it is.
        task: "emotion", "expressiveness", "face-detection" or "face-landmarks".
        format: "tflite" or "onnx".
        precision: "fp32", "fp16", "dynamic" or "int8" (None for the detector).
        size_bytes: the file's size.
        input: the face input, e.g. "48x48 gray" (None for the detector).
        accuracy: FER-2013 PrivateTest accuracy the converter measured for this file (None when not measured).
        ferplus_accuracy: the same on the FER+ majority labels.
        default: True for the emotion model the Analyzer uses when none is given, and for the detector and
            landmark files (the Analyzer's only ones).
        problem: why the manifest could not be read (the file is listed but will not load), else None.
    """

    name: str
    path: Path
    task: str
    format: str
    precision: str | None
    size_bytes: int
    input: str | None = None
    accuracy: float | None = None
    ferplus_accuracy: float | None = None
    default: bool = False
    problem: str | None = None

    @property
    def missing_engine(self) -> str | None:
        """The install that this file's engine needs when it is absent (an .onnx file without onnxruntime), else
        None."""
        if self.format == "onnx" and importlib.util.find_spec("onnxruntime") is None:
            return "pip install 'fer-edge[onnx]'"
        return None


def list_models(folder: Path | None = None) -> list[ModelInfo]:
    """Every deployable model file in the model folder (default: ``runtime.paths.default_model_dir()``): emotion
    and expressiveness models first, by name, then the face detector's files and the face-mesh landmark model."""
    folder = folder or default_model_dir()
    found = [_expression_model(path) for path in sorted(folder.glob("*")) if path.suffix in DEPLOYABLE_SUFFIXES]
    for model in DETECTOR_MODELS.values():
        path = folder / "blazeface" / model.file_name
        if path.is_file():
            found.append(ModelInfo(f"blazeface/{model.file_name}", path, "face-detection", "tflite", None,
                                   path.stat().st_size, default=True))
    landmarks = folder / FACE_LANDMARK_FILE
    if landmarks.is_file():
        found.append(ModelInfo(FACE_LANDMARK_FILE, landmarks, "face-landmarks", "tflite", None,
                               landmarks.stat().st_size, default=True))
    return found


def _expression_model(path: Path) -> ModelInfo:
    size, fmt = path.stat().st_size, path.suffix.lstrip(".")
    try:
        manifest = load_manifest(path)
    except (FileNotFoundError, ValueError) as exc:
        return ModelInfo(path.name, path, "unknown", fmt, None, size, problem=str(exc))
    tested = manifest.verification.get("privatetest", {})
    height, width = manifest.input_size
    return ModelInfo(
        name=path.name, path=path, task=manifest.task, format=manifest.format, precision=manifest.precision,
        size_bytes=size, input=f"{height}x{width} {manifest.color}",
        accuracy=_accuracy(tested, "fer2013"), ferplus_accuracy=_accuracy(tested, "ferplus"),
        default=path.name == DEFAULT_EMOTION_MODEL,
    )


def _accuracy(tested: object, labels: str) -> float | None:
    entry = tested.get(labels) if isinstance(tested, dict) else None
    value = entry.get("accuracy") if isinstance(entry, dict) else None  # a hand-edited manifest may hold anything
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def models_table(models: list[ModelInfo]) -> str:
    """A plain-text table of ``models`` for people (``fer-analyze --list-models``)."""
    rows = [("name", "task", "precision", "input", "size", "PrivateTest", "FER+", "")]
    for m in models:
        rows.append((m.name, m.task, m.precision or "-", m.input or "-", f"{m.size_bytes / 1e6:.1f} MB",
                     _percent(m.accuracy), _percent(m.ferplus_accuracy),
                     "; ".join(note for note in ("default" if m.default else "",
                                                 f"unreadable: {m.problem}" if m.problem else "",
                                                 f"needs {m.missing_engine}" if m.missing_engine else "") if note)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join("  ".join([cell.ljust(w) for cell, w in zip(row, widths)] + [row[-1]]).rstrip() for row in rows)


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f}%"

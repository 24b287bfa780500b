"""The model manifest: everything the runtime needs to run a model file, stored as JSON beside it.

`fer-convert` writes one manifest per output file (``model_int8.tflite`` -> ``model_int8.tflite.json``) and the
runtime reads it; labels, input size, colour mode and normalization are never guessed from a file name.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCHEMA = "fer-edge/manifest/1"

FER2013_LABELS: tuple[str, ...] = ("Angry", "Disgust", "Fear", "Happy", "Sad", "Surprise", "Neutral")
EXPRESSIVENESS_LABELS: tuple[str, ...] = ("Reserved", "Balanced", "Expressive")

COLOR_MODES = ("gray", "rgb")
PRECISIONS = ("fp32", "fp16", "dynamic", "int8")
FORMATS = ("keras", "tflite", "onnx")


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True)
class Normalization:
    """Maps a pixel value p in [0, 255] to the model's input as ``p * scale + offset``."""

    scale: float = 1.0
    offset: float = 0.0

    def __post_init__(self) -> None:
        if not _is_number(self.scale) or self.scale == 0 or not _is_number(self.offset):
            raise ValueError(f"normalization needs a finite, non-zero number 'scale' and a finite number 'offset', "
                             f"got scale={self.scale!r}, offset={self.offset!r}")


@dataclass(frozen=True)
class TensorQuantization:
    """Affine quantization of a model tensor: ``real = (q - zero_point) * scale``."""

    dtype: str
    scale: float
    zero_point: int

    def __post_init__(self) -> None:
        if self.dtype not in ("int8", "uint8", "int16", "int32"):
            raise ValueError(f"quantization dtype must be int8, uint8, int16 or int32, got {self.dtype!r}")
        if not _is_number(self.scale) or self.scale <= 0:
            raise ValueError(f"quantization scale must be a finite positive number, got {self.scale!r}")
        if not isinstance(self.zero_point, int) or isinstance(self.zero_point, bool):
            raise ValueError(f"quantization zero_point must be an integer, got {self.zero_point!r}")


@dataclass(frozen=True)
class Manifest:
    """Describes one deployable model file.

    Attributes:
        task: "emotion" or "expressiveness".
        labels: class names in the order of the model's output.
        input_size: (height, width) of one face.
        color: "gray" (1 channel) or "rgb" (3 channels, R first).
        normalization: how raw pixels become model input (applied before any input quantization).
        format: "keras", "tflite" or "onnx".
        precision: "fp32", "fp16", "dynamic" or "int8".
        outputs_probabilities: True when the model ends in a softmax.
        input_quantization / output_quantization: set when the file's input/output tensors are integers.
        source: the Keras model this file was built from (name and sha256).
        file: name, sha256 and size in bytes of the model file itself.
        verification: agreement and accuracy measured by the converter.
        extra: free-form information (training details, creator).
    """

    task: str
    labels: tuple[str, ...]
    input_size: tuple[int, int]
    color: str
    normalization: Normalization = Normalization()
    format: str = "keras"
    precision: str = "fp32"
    outputs_probabilities: bool = True
    input_quantization: TensorQuantization | None = None
    output_quantization: TensorQuantization | None = None
    source: dict[str, Any] = field(default_factory=dict)
    file: dict[str, Any] = field(default_factory=dict)
    verification: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.task, str) or not self.task:
            raise ValueError(f"manifest task must be a name such as 'emotion', got {self.task!r}")
        if not self.labels:
            raise ValueError("manifest has no labels")
        if not all(isinstance(label, str) and label.strip() for label in self.labels):
            raise ValueError(f"manifest labels must be non-empty strings, got {list(self.labels)!r}")
        if len(set(self.labels)) != len(self.labels):
            raise ValueError(f"manifest labels must be unique, got {list(self.labels)!r}")
        if not isinstance(self.outputs_probabilities, bool):
            raise ValueError("manifest outputs_probabilities must be true or false, "
                             f"got {self.outputs_probabilities!r}")
        for name in ("source", "file", "verification", "extra"):
            if not isinstance(getattr(self, name), dict):
                raise ValueError(f"manifest {name} must be an object, got {getattr(self, name)!r}")
        if self.color not in COLOR_MODES:
            raise ValueError(f"manifest color must be one of {COLOR_MODES}, got {self.color!r}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"manifest precision must be one of {PRECISIONS}, got {self.precision!r}")
        if self.format not in FORMATS:
            raise ValueError(f"manifest format must be one of {FORMATS}, got {self.format!r}")
        whole = all(isinstance(v, int) and not isinstance(v, bool) for v in self.input_size)
        if len(self.input_size) != 2 or not whole or min(self.input_size) < 8:
            raise ValueError(f"manifest input_size must be (height, width) >= 8, got {self.input_size!r}")

    @property
    def channels(self) -> int:
        return 1 if self.color == "gray" else 3

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["labels"] = list(self.labels)
        data["input_size"] = list(self.input_size)
        return {"schema": SCHEMA, **data}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Manifest:
        schema = data.get("schema")
        if schema != SCHEMA:
            raise ValueError(f"unsupported manifest schema {schema!r} (expected {SCHEMA!r})")
        known = {f.name for f in dataclasses.fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in known}
        try:
            for key in ("labels", "input_size"):
                if not isinstance(kwargs[key], list):
                    raise ValueError(f"{key} must be a list, got {kwargs[key]!r}")
            kwargs["labels"] = tuple(kwargs["labels"])
            kwargs["input_size"] = tuple(kwargs["input_size"])
            kwargs["normalization"] = Normalization(**_object(kwargs, "normalization", {}))
            for key in ("input_quantization", "output_quantization"):
                if kwargs.get(key) is not None:
                    kwargs[key] = TensorQuantization(**_object(kwargs, key, None))
            return cls(**kwargs)
        except (KeyError, TypeError) as exc:
            raise ValueError(f"malformed manifest: {exc}") from exc


def _object(data: dict[str, Any], key: str, default: dict[str, Any] | None) -> dict[str, Any]:
    value = data.get(key)
    if value is None and default is not None:
        return default
    if not isinstance(value, dict):
        raise ValueError(f"{key} must be an object, got {value!r}")
    return value


def manifest_path(model_path: str | Path) -> Path:
    """The manifest that belongs to a model file: its full name plus ``.json`` (``m_int8.tflite.json``), so
    files of one stem in several formats (``m_fp32.tflite``, ``m_fp32.onnx``) keep separate manifests."""
    path = Path(model_path)
    return path.with_name(path.name + ".json")


def json_object(text: str) -> dict[str, Any]:
    """``text`` (one JSONL line, say) parsed as a JSON object.

    Raises:
        ValueError: it is not valid JSON, or another JSON value than an object.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON ({exc.msg})") from None
    if not isinstance(data, dict):
        raise ValueError(f"expected a JSON object, got {type(data).__name__}")
    return data


def read_json_object(path: Path, what: str) -> dict[str, Any]:
    """The JSON object in a file (``what`` names the kind of file in messages).

    Raises:
        ValueError: the file is not UTF-8 or valid JSON, or holds something other than an object.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{what} {path} is not valid JSON: {exc}") from exc
    try:
        return json_object(text)
    except ValueError as exc:
        problem = "is not valid JSON" if str(exc).startswith("invalid JSON") else "must hold a JSON object"
        raise ValueError(f"{what} {path} {problem}: {exc}") from exc


def load_manifest(model_path: str | Path) -> Manifest:
    """Reads the manifest beside ``model_path``.

    Raises:
        FileNotFoundError: there is no manifest beside the model.
        ValueError: the manifest is not valid JSON or not a fer-edge manifest.
    """
    path = manifest_path(model_path)
    if not path.is_file():
        raise FileNotFoundError(f"no manifest for {model_path}: expected {path} (fer-convert writes one)")
    data = read_json_object(path, "manifest")
    try:
        return Manifest.from_dict(data)
    except ValueError as exc:
        raise ValueError(f"manifest {path}: {exc}") from exc


def save_manifest(manifest: Manifest, model_path: str | Path) -> Path:
    path = manifest_path(model_path)
    path.write_text(json.dumps(manifest.to_dict(), indent=2) + "\n", encoding="utf-8")
    return path


def sha256_of(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()

"""The manifest: round trip, validation, clear errors for missing or malformed files."""

from __future__ import annotations

import json

import pytest

from runtime.manifest import (
    FER2013_LABELS,
    Manifest,
    Normalization,
    TensorQuantization,
    load_manifest,
    manifest_path,
    save_manifest,
)


def _manifest(**changes) -> Manifest:
    fields = dict(task="emotion", labels=FER2013_LABELS, input_size=(48, 48), color="gray",
                  normalization=Normalization(1 / 255, 0.0), format="tflite", precision="int8",
                  input_quantization=TensorQuantization("int8", 1.0, -128))
    fields.update(changes)
    return Manifest(**fields)


def test_round_trip(tmp_path):
    model = tmp_path / "m_int8.tflite"
    model.write_bytes(b"x")
    written = save_manifest(_manifest(), model)
    assert written == manifest_path(model) == tmp_path / "m_int8.tflite.json"
    assert load_manifest(model) == _manifest()


@pytest.mark.parametrize(("change", "message"), [
    ({"color": "bgr"}, "color"),
    ({"precision": "int4"}, "precision"),
    ({"labels": ()}, "labels"),
    ({"input_size": (4, 4)}, "input_size"),
    ({"format": "pt"}, "format"),
])
def test_invalid_fields(change, message):
    with pytest.raises(ValueError, match=message):
        _manifest(**change)


def test_missing_manifest(tmp_path):
    with pytest.raises(FileNotFoundError, match="fer-convert writes one"):
        load_manifest(tmp_path / "m.onnx")


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "JSON object"),
    (json.dumps({"schema": "other"}), "unsupported manifest schema"),
    (json.dumps({"schema": "fer-edge/manifest/1", "labels": ["a"]}), "malformed"),
])
def test_malformed_manifest(tmp_path, content, message):
    model = tmp_path / "m.onnx"
    manifest_path(model).write_text(content)
    with pytest.raises(ValueError, match=message):
        load_manifest(model)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("normalization", {"scale": float("nan"), "offset": 0.0}, "scale"),
    ("normalization", {"scale": None, "offset": 0.0}, "scale"),
    ("normalization", {"scale": "0.5", "offset": "0"}, "scale"),
    ("normalization", [0.5, 0.0], "normalization"),
    ("input_quantization", {"dtype": "int8", "scale": float("inf"), "zero_point": 0}, "scale"),
    ("outputs_probabilities", "no", "outputs_probabilities"),
    ("labels", ["Happy"] * 7, "labels"),
    ("labels", list(range(7)), "labels"),
    ("labels", "Happy", "labels"),
    ("task", None, "task"),
    ("input_size", [48.5, 48], "input_size"),
    ("file", "m.onnx", "file"),
])
def test_wrong_values_in_a_manifest_file_name_the_field(tmp_path, field, value, message):
    """Each is caught when the manifest is read, not at the first frame (where nothing names the manifest)."""
    model = tmp_path / "m.onnx"
    data = _manifest().to_dict()
    data[field] = value
    manifest_path(model).write_text(json.dumps(data))
    with pytest.raises(ValueError, match=message):
        load_manifest(model)

"""Backends and the expression model on files fer-convert wrote (a tiny model trained on generated faces)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from convert.formats import FORMATS
from runtime.backends import open_backend
from runtime.classifier import ExpressionModel
from runtime.manifest import manifest_path
from tests.synthetic import synthetic_faces

pytestmark = pytest.mark.slow
pytest.importorskip("tensorflow", reason="building the test models needs TensorFlow (extra 'convert')")

KEYS = [f.key for f in FORMATS]
BATCH_TOLERANCE = 1e-5  # a batched call and one-by-one calls of the same file


@pytest.mark.parametrize("fmt", FORMATS, ids=KEYS)
def test_classify_is_batched_in_order_and_matches_single_calls(converted, fmt):
    model = ExpressionModel(converted / f"tiny{fmt.suffix}", threads=1)
    images, labels = synthetic_faces(21, seed=5)
    together = model.predict(images)
    one_by_one = np.concatenate([model.predict(images[i : i + 1]) for i in range(len(images))])
    np.testing.assert_allclose(together, one_by_one, atol=BATCH_TOLERANCE)
    results = model.classify(images)
    assert [r.top for r in results] == [model.labels[i] for i in together.argmax(1)]
    assert np.mean(together.argmax(1) == labels) > 0.9  # the tiny model learned the generated classes
    np.testing.assert_allclose(together.sum(1), 1.0, atol=0.02)
    model.close()


def test_colour_and_size_of_crops_do_not_matter_to_the_caller(converted):
    model = ExpressionModel(converted / "tiny_int8.tflite")
    gray, _ = synthetic_faces(3, seed=8)
    import cv2

    bgr_big = [cv2.resize(cv2.cvtColor(g, cv2.COLOR_GRAY2BGR), (96, 96)) for g in gray]
    assert [r.top for r in model.classify(gray)] == [r.top for r in model.classify(bgr_big)]
    assert model.classify([]) == []


def test_missing_model_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        ExpressionModel(tmp_path / "nope.tflite")


def test_model_without_manifest(converted, tmp_path):
    lone = tmp_path / "lone.tflite"
    shutil.copy(converted / "tiny_fp32.tflite", lone)
    with pytest.raises(FileNotFoundError, match="no manifest"):
        ExpressionModel(lone)


@pytest.mark.parametrize("suffix", [".tflite", ".onnx"])
def test_corrupt_model_file(converted, tmp_path, suffix):
    bad = tmp_path / f"bad{suffix}"
    bad.write_bytes(b"\x00garbage" * 10)
    shutil.copy(manifest_path(converted / f"tiny_fp32{suffix}"), manifest_path(bad))
    with pytest.raises(ValueError, match="bytes but its manifest"):
        ExpressionModel(bad)
    with pytest.raises(RuntimeError, match="cannot load"):
        ExpressionModel(bad, verify_hash=False)


def test_manifest_that_does_not_fit_the_model(converted, tmp_path):
    """A wrong model: the manifest says 3 labels, the file gives 7 scores."""
    import json

    wrong = tmp_path / "wrong.onnx"
    shutil.copy(converted / "tiny_fp32.onnx", wrong)
    data = json.loads(manifest_path(converted / "tiny_fp32.onnx").read_text())
    data["labels"] = ["Reserved", "Balanced", "Expressive"]
    manifest_path(wrong).write_text(json.dumps(data))
    with pytest.raises(ValueError, match="does not match its manifest"):
        ExpressionModel(wrong)


def test_unsupported_suffix(tmp_path):
    other = tmp_path / "m.pt"
    other.write_bytes(b"x")
    with pytest.raises(ValueError, match="unsupported model file"):
        open_backend(other)


def test_wrong_input_shape_is_a_value_error(converted):
    with open_backend(converted / "tiny_fp32.tflite") as backend:
        with pytest.raises(ValueError, match="expects input"):
            backend.run(np.zeros((1, 32, 32, 1), np.float32))
        assert backend.run(np.zeros((0, 48, 48, 1), np.float32)).shape == (0, 7)


@pytest.mark.parametrize("suffix", [".tflite", ".onnx"])
def test_gpu_that_is_not_there_is_an_error_not_a_silent_cpu(converted, suffix, monkeypatch):
    import onnxruntime

    if suffix == ".onnx" and "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        pytest.skip("a CUDA provider is installed here; this test is about machines without one")
    monkeypatch.delenv("FER_EDGE_TFLITE_GPU_DELEGATE", raising=False)
    with pytest.raises(RuntimeError, match="GPU requested but not available"):
        open_backend(converted / f"tiny_fp32{suffix}", "gpu")


@pytest.mark.parametrize("suffix", [".tflite", ".onnx"])
def test_auto_device_falls_back_to_cpu_with_a_warning(converted, suffix, caplog, monkeypatch):
    import onnxruntime

    if suffix == ".onnx" and "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        pytest.skip("a CUDA provider is installed here")
    monkeypatch.delenv("FER_EDGE_TFLITE_GPU_DELEGATE", raising=False)
    with caplog.at_level("WARNING"), open_backend(converted / f"tiny_fp32{suffix}", "auto") as backend:
        assert backend.device.value == "cpu"
    assert "running on the CPU" in caplog.text


def test_bad_gpu_delegate_path_is_reported(converted, tmp_path):
    with pytest.raises(RuntimeError, match="cannot load the TFLite GPU delegate"):
        open_backend(converted / "tiny_fp32.tflite", "gpu", gpu_delegate=str(tmp_path / "libnope.so"))


def test_unknown_device():
    with pytest.raises(ValueError, match="device must be one of"):
        from runtime.backends import parse_device

        parse_device("tpu")

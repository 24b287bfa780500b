"""Model files are checked against the size and sha256 in their manifests when they are opened."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

import runtime.integrity as integrity
from runtime.analyzer import Analyzer, AnalyzerOptions
from runtime.classifier import ExpressionModel
from runtime.cli import main as analyze_main
from runtime.manifest import manifest_path, sha256_of

pytestmark = pytest.mark.slow
pytest.importorskip("tensorflow", reason="building the test models needs TensorFlow (extra 'convert')")

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "samples" / "astronaut.jpg"


def _copy(converted: Path, tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    shutil.copy(converted / name, target)
    shutil.copy(manifest_path(converted / name), manifest_path(target))
    return target


def _tamper(path: Path) -> None:
    """Overwrites 64 bytes in the middle of the file (inside the weights): same size, still loadable."""
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(64)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("name", ["tiny_fp32.tflite", "tiny_fp32.onnx"])
def test_tampered_file_is_refused_naming_both_hashes(converted, tmp_path, name):
    model = _copy(converted, tmp_path, name)
    expected = json.loads(manifest_path(model).read_text())["file"]["sha256"]
    _tamper(model)
    with pytest.raises(ValueError, match="sha256") as error:
        ExpressionModel(model)
    assert expected in str(error.value) and sha256_of(model) in str(error.value)
    assert "verify_hash=False" in str(error.value)


def test_truncated_file_is_refused_by_its_size(converted, tmp_path):
    model = _copy(converted, tmp_path, "tiny_int8.tflite")
    model.write_bytes(model.read_bytes()[:-100])
    with pytest.raises(ValueError, match="bytes but its manifest"):
        ExpressionModel(model)


def test_opt_out_loads_an_edited_file(converted, tmp_path, monkeypatch):
    model = _copy(converted, tmp_path, "tiny_fp32.onnx")
    _tamper(model)
    faces = np.zeros((2, 48, 48), np.uint8)
    assert ExpressionModel(model, verify_hash=False).predict(faces).shape == (2, 7)
    monkeypatch.setenv(integrity.SKIP_ENV, "1")
    assert ExpressionModel(model).predict(faces).shape == (2, 7)


def test_manifest_without_a_hash_is_not_checked_and_says_so_once(converted, tmp_path, caplog):
    model = _copy(converted, tmp_path, "tiny_fp32.tflite")
    data = json.loads(manifest_path(model).read_text())
    data["file"] = {}
    manifest_path(model).write_text(json.dumps(data))
    _tamper(model)
    with caplog.at_level("WARNING", logger="runtime.integrity"):
        for _ in range(2):
            assert ExpressionModel(model).predict(np.zeros((1, 48, 48), np.uint8)).shape == (1, 7)
    said = [r.getMessage() for r in caplog.records if "records no sha256" in r.getMessage()]
    assert len(said) == 1 and "tiny_fp32.tflite" in said[0] and "cannot be noticed" in said[0]


def test_hash_is_computed_once_per_file_version(converted, tmp_path, monkeypatch):
    model = _copy(converted, tmp_path, "tiny_int8.tflite")
    calls = []
    monkeypatch.setattr(integrity, "sha256_of", lambda path: calls.append(path) or sha256_of(path))
    for _ in range(3):
        ExpressionModel(model).close()
    assert len(calls) == 1
    stat = model.stat()
    os.utime(model, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # a new version of the file
    ExpressionModel(model).close()
    assert len(calls) == 2


def test_analyzer_and_cli_check_and_can_opt_out(converted, tmp_path, caplog):
    model = _copy(converted, tmp_path, "tiny_int8.tflite")
    _tamper(model)
    with pytest.raises(ValueError, match="sha256"):
        Analyzer(AnalyzerOptions(emotion_model=model))
    with Analyzer(AnalyzerOptions(emotion_model=model, verify_model_hash=False)) as analyzer:
        assert analyzer.emotion.path == model
    assert analyze_main([str(SAMPLE), "--model", str(model)]) == 2
    assert "sha256" in caplog.text
    assert analyze_main([str(SAMPLE), "--model", str(model), "--no-verify-model"]) == 0

"""Finding models: the model folder's order, bare model names, the catalog and ``fer-analyze --list-models``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from runtime import paths
from runtime.catalog import list_models, models_table
from runtime.classifier import ExpressionModel
from runtime.cli import main
from runtime.paths import DEFAULT_EMOTION_MODEL, MODELS_ENV, default_model_dir, resolve_model

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "samples" / "astronaut.jpg"

DEFAULT_ONNX = DEFAULT_EMOTION_MODEL.replace(".tflite", ".onnx")  # the default, as ONNX (also shipped)


def test_a_checkout_uses_the_repository_folder(monkeypatch):
    monkeypatch.delenv(MODELS_ENV, raising=False)
    assert not paths.packaged_model_dir().exists(), "a checkout has no runtime/models folder"
    assert default_model_dir() == REPO / "models"


def test_the_packaged_folder_wins_over_a_stray_models_folder(monkeypatch, tmp_path):
    packaged = tmp_path / "site" / "runtime" / "models"
    packaged.mkdir(parents=True)
    (tmp_path / "site" / "models").mkdir()  # an empty models/ another package left in site-packages
    monkeypatch.delenv(MODELS_ENV, raising=False)
    monkeypatch.setattr(paths, "packaged_model_dir", lambda: packaged)
    assert default_model_dir() == packaged


def test_the_environment_variable_wins(monkeypatch, tmp_path):
    monkeypatch.setenv(MODELS_ENV, str(tmp_path))
    assert default_model_dir() == tmp_path


def test_bare_names_resolve_in_the_model_folder(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # not where the models are
    assert resolve_model(DEFAULT_ONNX) == default_model_dir() / DEFAULT_ONNX
    assert resolve_model(SAMPLE) == SAMPLE  # an existing path is taken as it is
    assert resolve_model("sub/missing.onnx") == Path("sub/missing.onnx")  # a path: the loader reports it
    with pytest.raises(FileNotFoundError, match=r"'nope\.onnx' not found.*--list-models"):
        resolve_model("nope.onnx")


def test_a_local_file_beats_a_model_folder_file_of_the_same_name(monkeypatch, tmp_path):
    local = tmp_path / DEFAULT_EMOTION_MODEL
    local.write_bytes(b"x")
    monkeypatch.chdir(tmp_path)
    assert resolve_model(DEFAULT_EMOTION_MODEL) == Path(DEFAULT_EMOTION_MODEL)


def test_expression_model_takes_a_bare_name(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    model = ExpressionModel(DEFAULT_ONNX)
    try:
        assert model.path == default_model_dir() / DEFAULT_ONNX and model.manifest.format == "onnx"
    finally:
        model.close()


def test_catalog_lists_every_shipped_file_with_its_manifest_figures():
    models = {m.name: m for m in list_models()}
    emotion = {p.name for p in paths.shipped_emotion_models()}
    assert emotion <= set(models)
    default = models[DEFAULT_EMOTION_MODEL]
    assert default.default and default.task == "emotion" and default.precision == "int8"
    manifest = json.loads((default_model_dir() / f"{DEFAULT_EMOTION_MODEL}.json").read_text())
    assert default.accuracy == manifest["verification"]["privatetest"]["fer2013"]["accuracy"]
    assert [m.name for m in models.values() if m.default and m.task == "emotion"] == [DEFAULT_EMOTION_MODEL]
    assert {m.task for m in models.values()} >= {"emotion", "face-detection", "face-landmarks"}
    assert models["face_mesh/face_landmark.tflite"].path == paths.face_landmark_model()


def test_catalog_reports_a_file_whose_manifest_is_broken(tmp_path):
    shutil.copy(default_model_dir() / DEFAULT_EMOTION_MODEL, tmp_path / "x.tflite")
    (tmp_path / "x.tflite.json").write_text("{not json")
    shutil.copy(default_model_dir() / DEFAULT_EMOTION_MODEL, tmp_path / "y.tflite")  # no manifest at all
    (listed_x, listed_y) = list_models(tmp_path)
    assert listed_x.problem and "x.tflite.json" in listed_x.problem and listed_x.accuracy is None
    assert listed_y.problem and listed_x.task == "unknown"
    table = models_table([listed_x, listed_y])
    assert "unreadable" in table.splitlines()[1]


@pytest.mark.parametrize("privatetest", [{"fer2013": 0.67}, {"fer2013": {"accuracy": "high"}}, [0.67], 0.67])
def test_catalog_shows_no_accuracy_for_a_hand_edited_verification(tmp_path, privatetest):
    shutil.copy(default_model_dir() / DEFAULT_EMOTION_MODEL, tmp_path / "x.tflite")
    manifest = json.loads((default_model_dir() / f"{DEFAULT_EMOTION_MODEL}.json").read_text())
    manifest["verification"] = {"privatetest": privatetest}  # read_manifest takes any JSON object here
    (tmp_path / "x.tflite.json").write_text(json.dumps(manifest))
    (listed,) = list_models(tmp_path)
    assert listed.accuracy is None and listed.ferplus_accuracy is None and not listed.problem
    assert "%" not in models_table([listed]).splitlines()[1]  # no accuracy column filled


def test_catalog_says_which_install_an_onnx_file_needs_when_its_engine_is_missing(monkeypatch):
    import importlib.util

    models = [m for m in list_models() if m.format == "onnx"]
    assert models, "no ONNX model is shipped"
    assert all(m.missing_engine is None for m in models) and "needs" not in models_table(models)
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "onnxruntime" else real(name, *a))
    rows = models_table(models).splitlines()[1:]
    assert rows and all(row.endswith("needs pip install 'fer-edge[onnx]'") for row in rows)


def test_catalog_of_an_empty_folder_is_empty(tmp_path):
    assert list_models(tmp_path) == []
    assert models_table([]).splitlines()[0].startswith("name")


def test_cli_lists_models_and_accepts_a_bare_name(monkeypatch, tmp_path, capsys):
    assert main(["--list-models"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["name", "task", "precision"]
    assert any(line.startswith(DEFAULT_EMOTION_MODEL) and line.endswith("default") for line in lines)
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "r.json"
    assert main([str(SAMPLE), "--model", DEFAULT_ONNX, "--json", str(out)]) == 0
    assert json.loads(out.read_text())["model"]["emotion"].endswith(DEFAULT_ONNX)


def test_cli_names_a_model_that_is_not_installed(caplog):
    assert main([str(SAMPLE), "--model", "emotion_nope.onnx"]) == 2
    assert "'emotion_nope.onnx' not found" in caplog.text

"""fer-batch and its model files: bare model names found in the model folder, the landmark model in the
fingerprint, and a missing model refused before any work."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from runtime.analyzer import AnalyzerOptions
from runtime.batch import analyze_many
from runtime.batch.cli import main as batch_main
from tests.batch_helpers import REPO, video_set

EMOTION_MODELS = ("emotion_resnet16_int8.tflite", "emotion_cnn_int8.tflite")


@pytest.fixture
def models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A model folder ($FER_EDGE_MODELS) with two emotion models, the face detector and the landmark model; the
    current folder is elsewhere, so that bare model names are found only there."""
    folder = tmp_path / "models"
    for name in ("blazeface", "face_mesh"):
        shutil.copytree(REPO / "models" / name, folder / name)
    for name in EMOTION_MODELS:
        for path in (REPO / "models").glob(f"{name}*"):  # the model and its manifest
            shutil.copy2(path, folder / path.name)
    monkeypatch.setenv("FER_EDGE_MODELS", str(folder))
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    return folder


def test_another_bare_model_name_analyses_the_videos_again(models, tmp_path):
    video_set(tmp_path / "in", faces=1)
    out = tmp_path / "out"
    for name in EMOTION_MODELS:
        summary = analyze_many(tmp_path / "in", out, workers=1, options=AnalyzerOptions(emotion_model=Path(name)))
        assert {row.status for row in summary.rows} == {"done"}, name
        assert Path(json.loads((out / "face0.avi.json").read_text())["model"]["emotion"]) == models / name


def test_workers_use_the_model_folder_the_caller_has_now(models, tmp_path, monkeypatch):
    """The forkserver keeps the environment it started with: workers of a later batch found the models in the
    folder $FER_EDGE_MODELS named at the first batch, not in the one it names now."""
    video_set(tmp_path / "in", faces=1)
    monkeypatch.delenv("FER_EDGE_MODELS")  # the first batch (and the forkserver) on the checkout's model folder
    first = analyze_many(tmp_path / "in", tmp_path / "first", workers=1)
    assert {row.status for row in first.rows} == {"done"}
    monkeypatch.setenv("FER_EDGE_MODELS", str(models))
    options = AnalyzerOptions(emotion_model=Path(EMOTION_MODELS[1]))
    analyze_many(tmp_path / "in", tmp_path / "second", workers=1, options=options)
    used = json.loads((tmp_path / "second" / "face0.avi.json").read_text())["model"]["emotion"]
    assert Path(used) == models / EMOTION_MODELS[1]


@pytest.mark.parametrize(("expressiveness", "redone"), [("facial-activity", "done"), ("emotion-intensity", "skipped")])
def test_a_new_landmark_model_redoes_the_videos_whose_verdict_uses_it(models, tmp_path, expressiveness, redone):
    video_set(tmp_path / "in", faces=1)
    options = AnalyzerOptions(expressiveness=expressiveness)
    analyze_many(tmp_path / "in", tmp_path / "out", workers=1, options=options)
    landmarks = models / "face_mesh" / "face_landmark.tflite"
    landmarks.write_bytes(landmarks.read_bytes())  # a new copy of the file: another mtime
    again = analyze_many(tmp_path / "in", tmp_path / "out", workers=1, options=options)
    assert {row.status for row in again.rows} == {redone}


def test_a_missing_landmark_model_is_refused_before_any_work(models, tmp_path, caplog):
    video_set(tmp_path / "in", faces=1)
    shutil.rmtree(models / "face_mesh")
    out = tmp_path / "out"
    assert batch_main([str(tmp_path / "in"), "--out", str(out), "--workers", "1", "--no-progress"]) == 2
    assert "face_landmark.tflite" in caplog.text and not list(out.glob("*.json"))
    without = analyze_many(tmp_path / "in", out, workers=1, options=AnalyzerOptions(expressiveness="emotion-intensity"))
    assert {row.status for row in without.rows} == {"done"}  # a verdict that needs no landmarks runs without them


def test_a_corrupt_emotion_model_is_refused_before_any_work(models, tmp_path, caplog):
    video_set(tmp_path / "in", faces=1)
    corrupt = models / EMOTION_MODELS[0]
    corrupt.write_bytes(b"\x00not a flatbuffer" * 64)
    out = tmp_path / "out"
    args = [str(tmp_path / "in"), "--out", str(out), "--workers", "1", "--no-progress", "--no-verify-model"]
    assert batch_main(args) == 2  # bad input, as a missing file is; not 1, a failed run
    assert EMOTION_MODELS[0] in caplog.text and not list(out.glob("*.json"))

"""fer-analyze on images, folders and videos: summaries, JSON, CSV, annotations, and bad inputs."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import cv2
import pytest

from runtime.cli import main
from tests.videos import write_video

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "samples" / "astronaut.jpg"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def model(converted) -> str:
    return str(converted / "tiny_int8.tflite")


def test_image_summary_json_and_annotation(model, tmp_path, capsys):
    out_json, out_img = tmp_path / "r.json", tmp_path / "a.jpg"
    assert main([str(SAMPLE), "--model", model, "--json", str(out_json), "--annotate", str(out_img)]) == 0
    assert "astronaut.jpg: 1 face(s)" in capsys.readouterr().out
    data = json.loads(out_json.read_text())
    (faces,) = data["images"].values()
    assert len(faces) == 1 and set(faces[0]["emotion"]["probabilities"]) == set(data["model"]["labels"])
    annotated = cv2.imread(str(out_img))
    assert annotated.shape == cv2.imread(str(SAMPLE)).shape
    assert (annotated != cv2.imread(str(SAMPLE))).any()


def test_folder_skips_unreadable_images_with_a_warning(model, tmp_path, capsys, caplog):
    folder = tmp_path / "imgs"
    folder.mkdir()
    shutil.copy(SAMPLE, folder / "a.jpg")
    cv2.imwrite(str(folder / "b.png"), cv2.imread(str(SAMPLE))[:, :, 0] * 0)
    (folder / "c.jpg").write_bytes(b"not an image")
    out_csv = tmp_path / "t.csv"
    with caplog.at_level("WARNING"):
        assert main([str(folder), "--model", model, "--csv", str(out_csv)]) == 0
    out = capsys.readouterr().out
    assert "a.jpg: 1 face(s)" in out and "b.png: no face found" in out
    assert "c.jpg" in caplog.text
    rows = list(csv.DictReader(out_csv.open()))
    assert [Path(r["source"]).name for r in rows] == ["a.jpg", "b.png"] and rows[0]["top_emotion"]


def test_video_summary_csv_and_annotated_video(model, tmp_path, capsys):
    video = write_video(tmp_path / "v.avi", 8, image=cv2.imread(str(SAMPLE)))
    out_csv, out_vid = tmp_path / "t.csv", tmp_path / "a.avi"
    assert main([str(video), "--model", model, "--frame-skip", "2", "--csv", str(out_csv), "--annotate",
                 str(out_vid), "--json", "-"]) == 0
    captured = capsys.readouterr()
    assert "4 frames analyzed of 8 read" in captured.err and "expressiveness:" in captured.err
    assert json.loads(captured.out)["video"]["frames_analyzed"] == 4  # with --json -, stdout is the JSON alone
    assert len(list(csv.DictReader(out_csv.open()))) == 4
    capture = cv2.VideoCapture(str(out_vid))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 4


@pytest.mark.parametrize(("make", "message"), [
    (lambda p: p / "missing.jpg", "input not found"),
    (lambda p: (p / "notes.txt").write_text("x") and p / "notes.txt", "unsupported input"),
    (lambda p: (p / "broken.jpg").write_bytes(b"xx") and p / "broken.jpg", "cannot read image"),
    (lambda p: (p / "broken.mp4").write_bytes(b"xx") and p / "broken.mp4", "cannot open video"),
    (lambda p: (p / "empty").mkdir() or p / "empty", "no images"),
])
def test_bad_inputs_exit_2_with_a_clear_message(model, tmp_path, caplog, make, message):
    with caplog.at_level("ERROR"):
        assert main([str(make(tmp_path)), "--model", model]) == 2
    assert message in caplog.text


def test_missing_model_is_reported(tmp_path, caplog):
    with caplog.at_level("ERROR"):
        assert main([str(SAMPLE), "--model", str(tmp_path / "none.tflite")]) == 2
    assert "not found" in caplog.text


def test_webcam_that_is_not_there(model, caplog):
    with caplog.at_level("ERROR"):
        assert main(["9", "--model", model]) == 2
    assert "cannot open webcam 9" in caplog.text


@pytest.mark.parametrize("main_of", ["fer-analyze", "fer-batch"])
def test_a_model_file_the_engine_cannot_load_is_bad_input(model, tmp_path, caplog, main_of):
    from runtime.batch.cli import main as batch_main

    corrupt = tmp_path / "corrupt.tflite"
    shutil.copy(Path(model).with_name(Path(model).name + ".json"), tmp_path / "corrupt.tflite.json")
    corrupt.write_bytes(b"\x00not a flatbuffer" * 64)
    video = write_video(tmp_path / "v.avi", 3)
    args = ["--model", str(corrupt), "--no-verify-model"]  # past the sha256 check, to the engine
    with caplog.at_level("ERROR"):
        code = main([str(SAMPLE), *args]) if main_of == "fer-analyze" else batch_main(
            [str(video), "--out", str(tmp_path / "out"), *args])
    assert code == 2 and "corrupt.tflite" in caplog.text
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*.json"))

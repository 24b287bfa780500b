"""fer-analyze's outputs: checked before the work, one JSON schema for images and videos, exit codes, bad targets."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from runtime.cli import main
from runtime.results import ANALYSIS_SCHEMA
from tests.videos import write_video

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "samples" / "astronaut.jpg"
FACE_KEYS = {"box", "detection_score", "emotion"}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def model(converted) -> str:
    return str(converted / "tiny_int8.tflite")


@pytest.fixture(scope="module")
def face_video(tmp_path_factory) -> Path:
    return write_video(tmp_path_factory.mktemp("v") / "face.avi", 9, image=cv2.imread(str(SAMPLE)), fps=30.0)


def _assert_face_schema(face: dict, labels: list[str]) -> None:
    assert set(face) == FACE_KEYS and set(face["box"]) == {"x", "y", "width", "height"}
    assert set(face["emotion"]) == {"top", "probabilities"} and list(face["emotion"]["probabilities"]) == labels
    assert face["emotion"]["top"] == max(face["emotion"]["probabilities"], key=face["emotion"]["probabilities"].get)


def test_images_and_videos_share_one_face_schema(model, face_video, tmp_path):
    image_json, video_json = tmp_path / "i.json", tmp_path / "v.json"
    assert main([str(SAMPLE), "--model", model, "--json", str(image_json)]) == 0
    assert main([str(face_video), "--model", model, "--json", str(video_json), "--no-progress"]) == 0
    image, video = json.loads(image_json.read_text()), json.loads(video_json.read_text())
    assert image["schema"] == video["schema"] == ANALYSIS_SCHEMA
    labels = image["model"]["labels"]
    (faces,) = image["images"].values()
    _assert_face_schema(faces[0], labels)
    frames = video["video"]["timeline"]
    assert [f["index"] for f in frames] == list(range(9))
    for frame in frames:
        assert set(frame) == {"index", "timestamp", "faces", "activity"}
        assert frame["activity"] is None or frame["activity"] >= 0
        _assert_face_schema(frame["faces"][0], labels)


@pytest.mark.parametrize(("flags", "views"), [((), 1), (("--flip-average",), 2), (("--crop-average",), 5),
                                              (("--flip-average", "--crop-average"), 10)])
def test_the_json_says_how_many_views_were_averaged(model, tmp_path, flags, views):
    out = tmp_path / "r.json"
    assert main([str(SAMPLE), "--model", model, "--json", str(out), *flags]) == 0
    document = json.loads(out.read_text())
    assert document["model"]["views"] == views and document["model"]["emotion"].endswith(Path(model).name)
    (faces,) = document["images"].values()
    assert abs(sum(faces[0]["emotion"]["probabilities"].values()) - 1.0) < 0.02


def test_json_to_stdout_is_the_json_alone(model, tmp_path, capsys):
    assert main([str(SAMPLE), "--model", model, "--json", "-"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["schema"] == ANALYSIS_SCHEMA
    assert "astronaut.jpg: 1 face(s)" in captured.err


def test_a_folder_skips_images_opencv_cannot_process(model, tmp_path, capsys, caplog):
    folder = tmp_path / "imgs"
    folder.mkdir()
    cv2.imwrite(str(folder / "a.jpg"), cv2.imread(str(SAMPLE)))
    cv2.imwrite(str(folder / "huge.png"), np.zeros((2, 32767), np.uint8))  # a side OpenCV's warps refuse
    (folder / "junk.jpg").write_bytes(b"not an image")
    out = tmp_path / "r.json"
    with caplog.at_level("WARNING"):
        assert main([str(folder), "--model", model, "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert [Path(p).name for p in data["images"]] == ["a.jpg"]
    assert sorted(Path(p).name for p in data["skipped"]) == ["huge.png", "junk.jpg"]
    assert "huge.png" in caplog.text and "junk.jpg" in caplog.text


def test_a_single_image_opencv_cannot_process_exits_2(model, tmp_path, caplog):
    huge = tmp_path / "huge.png"
    cv2.imwrite(str(huge), np.zeros((2, 32767), np.uint8))
    with caplog.at_level("ERROR"):
        assert main([str(huge), "--model", model]) == 2
    assert "huge.png" in caplog.text


@pytest.mark.parametrize(("option", "target", "message"), [
    ("--json", lambda p: p / "missing" / "r.json", "does not exist"),
    ("--json", lambda p: p, "is a folder"),
    ("--csv", lambda p: p / "missing" / "t.csv", "does not exist"),
    ("--annotate", lambda p: p / "annotated", "name an image file"),
    ("--annotate", lambda p: p / "annotated.xyz", "name an image file"),
    ("--annotate", lambda p: p / "missing" / "a.jpg", "does not exist"),
])
def test_bad_output_targets_are_refused_before_the_work(model, tmp_path, caplog, monkeypatch, option, target,
                                                        message):
    import runtime.cli

    monkeypatch.setattr(runtime.cli, "Analyzer", lambda *a, **k: pytest.fail("the analysis started"))
    with caplog.at_level("ERROR"):
        assert main([str(SAMPLE), "--model", model, option, str(target(tmp_path))]) == 2
    assert option in caplog.text and message in caplog.text


@pytest.mark.parametrize(("kind", "option", "message"), [
    ("image", "--annotate", "is the input"), ("image", "--json", "is the input"), ("link", "--csv", "is the input"),
    ("video", "--annotate", "is the input"), ("folder", "--annotate", "is the input folder"),
])
def test_an_output_that_is_the_input_is_refused_and_the_input_kept(model, face_video, tmp_path, caplog,
                                                                   monkeypatch, kind, option, message):
    import runtime.cli

    folder = tmp_path / "photos"
    folder.mkdir()
    source = folder / ("face.avi" if kind == "video" else "face.jpg")
    source.write_bytes((face_video if kind == "video" else SAMPLE).read_bytes())
    before = source.read_bytes()
    target = folder if kind == "folder" else source
    if kind == "link":  # another name for the same file
        target = tmp_path / "other-name.jpg"
        target.symlink_to(source)
    monkeypatch.setattr(runtime.cli, "Analyzer", lambda *a, **k: pytest.fail("the analysis started"))
    with caplog.at_level("ERROR"):
        assert main([str(folder if kind == "folder" else source), "--model", model, option, str(target)]) == 2
    assert f"{option} {target}: {message}" in caplog.text and source.read_bytes() == before


@pytest.mark.parametrize(("first", "second", "name"), [("--json", "--csv", "out.txt"), ("--json", "--report", "p.html"),
                                                     ("--csv", "--report", "p.html")])
def test_two_outputs_naming_the_same_file_are_refused(model, face_video, tmp_path, caplog, monkeypatch, first,
                                                      second, name):
    import runtime.cli

    target = tmp_path / name
    monkeypatch.setattr(runtime.cli, "Analyzer", lambda *a, **k: pytest.fail("the analysis started"))
    with caplog.at_level("ERROR"):
        assert main([str(face_video), "--model", model, first, str(target), second, str(target)]) == 2
    assert f"{first} and {second} name the same file {target}" in caplog.text and not target.exists()


def test_a_video_cannot_be_annotated_into_an_image(model, face_video, tmp_path, caplog):
    with caplog.at_level("ERROR"):
        assert main([str(face_video), "--model", model, "--annotate", str(tmp_path / "a.jpg")]) == 2
    assert "name a video file" in caplog.text


@pytest.mark.parametrize(("option", "name"), [("--annotate", "a.jpg"), ("--json", "r.json"), ("--csv", "t.csv")])
def test_an_output_that_cannot_be_written_after_the_work_is_a_failure(model, caplog, option, name):
    target = f"/proc/fer-edge-{name}"  # a folder that passes the checks up front, where no file can be created
    with caplog.at_level("ERROR"):
        assert main([str(SAMPLE), "--model", model, option, target]) == 1
    assert f"cannot write image {target}" in caplog.text if option == "--annotate" else (
        f"{option} {target}: cannot write: " in caplog.text)


def test_annotated_video_plays_at_the_source_speed(model, face_video, tmp_path):
    out = tmp_path / "a.avi"
    assert main([str(face_video), "--model", model, "--frame-skip", "3", "--annotate", str(out),
                 "--no-progress"]) == 0
    capture = cv2.VideoCapture(str(out))
    assert capture.get(cv2.CAP_PROP_FPS) == pytest.approx(10.0)  # 30 fps source, every 3rd frame
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 3


@pytest.mark.parametrize("index", ["-1", "100", "+7000000000000000000000"])
def test_webcam_indices_out_of_range_never_reach_opencv(model, caplog, index):
    with caplog.at_level("ERROR"):
        assert main([index, "--model", model]) == 2
    assert "webcam index must be 0..99" in caplog.text


def test_an_image_too_small_for_a_face_is_reported(model, tmp_path, capsys):
    tiny = tmp_path / "tiny.png"
    cv2.imwrite(str(tiny), np.random.default_rng(1).integers(0, 256, (16, 16, 3), dtype=np.uint8))
    assert main([str(tiny), "--model", model, "--json", "-"]) == 0
    output = json.loads(capsys.readouterr().out)
    assert output["images"][str(tiny)] == []
    assert "smaller than the smallest face analysed (20 px)" in output["warnings"][str(tiny)]
    assert main([str(tiny), "--model", model, "--json", "-", "--min-face-size", "8"]) == 0
    assert json.loads(capsys.readouterr().out)["warnings"] == {}

"""`fer-train expressiveness` on a tiny generated data set in the RecruitView layout (no third-party data)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import pytest

from convert.data.recruitview import (
    SamplingOptions,
    extract_faces,
    face_finder,
    label_for_score,
    largest_face_crop,
    load_video_faces,
    read_metadata,
    sample_frames,
)
from convert.train import expressiveness as expressiveness_trainer
from convert.train.expressiveness import (
    balanced_class_weights,
    create_face_detector,
    default_detector,
    split_by_video,
)
from runtime.faces import FaceFinder
from runtime.manifest import EXPRESSIVENESS_LABELS, Normalization, load_manifest
from runtime.results import Box, Detection

FRAME_SIDE = 64
FRAMES_PER_VIDEO = 12
# MJPG is lossy; a flat grey frame decodes within a few levels of what was written.
PIXEL_TOLERANCE = 4.0
# Scores per class, with the class boundaries themselves (-0.3 and 0.3 are Balanced).
GOOD_SCORES = {"Reserved": (-0.8, -0.31, -0.5), "Balanced": (-0.3, 0.0, 0.3), "Expressive": (0.31, 0.9, 0.6)}


def _pattern(label: str, index: int) -> np.ndarray:
    """A frame whose texture tells the class apart: flat, horizontal stripes, or a checkerboard."""
    y, x = np.mgrid[0:FRAME_SIDE, 0:FRAME_SIDE]
    if label == "Reserved":
        gray = np.full((FRAME_SIDE, FRAME_SIDE), 90 + index, dtype=np.int32)
    elif label == "Balanced":
        gray = np.where(((y + index) // 8) % 2 == 0, 40, 200)
    else:
        gray = np.where(((x + index) // 8 + y // 8) % 2 == 0, 20, 235)
    return cv2.cvtColor(gray.astype(np.uint8), cv2.COLOR_GRAY2BGR)


def write_video(path: Path, frames: list[np.ndarray]) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (FRAME_SIDE, FRAME_SIDE))
    assert writer.isOpened(), "OpenCV cannot write MJPG video here"
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


def make_dataset(root: Path, bad_rows: bool = True) -> tuple[Path, Path]:
    """Nine good videos (three per class) and, with ``bad_rows``, one row of each kind of problem."""
    videos = root / "videos"
    videos.mkdir(parents=True)
    lines: list[str] = []
    for label, scores in GOOD_SCORES.items():
        for n, score in enumerate(scores):
            name = f"{label.lower()}_{n}.avi"
            write_video(videos / name, [_pattern(label, i) for i in range(FRAMES_PER_VIDEO)])
            lines.append(json.dumps({"file_name": name, "facial_expression": score, "id": len(lines)}))
    if bad_rows:
        (videos / "corrupt.avi").write_bytes(np.random.default_rng(0).bytes(700))
        lines += [
            json.dumps({"file_name": "absent.avi", "facial_expression": 0.1}),
            json.dumps({"file_name": "reserved_0.avi"}),
            json.dumps({"file_name": "balanced_1.avi", "facial_expression": "high"}),
            '{"file_name": "expressive_0.avi", "facial_expression": ',
            json.dumps({"facial_expression": 0.5}),
            json.dumps({"file_name": "corrupt.avi", "facial_expression": 0.9}),
            "",
        ]
    metadata = root / "metadata.jsonl"
    metadata.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return metadata, videos


@dataclass
class FakeDetector:
    """Returns fixed detections for frames brighter than ``min_mean`` and nothing for darker frames."""

    detections: list[Detection]
    min_mean: float = -1.0
    calls: int = field(default=0)

    def detect(self, frame_bgr: np.ndarray) -> list[Detection]:
        self.calls += 1
        return list(self.detections) if frame_bgr.mean() > self.min_mean else []

    def close(self) -> None:
        pass


def _whole(side: int = FRAME_SIDE) -> Detection:
    return Detection(Box(0, 0, side, side), 0.9)


@pytest.mark.parametrize(
    ("score", "label"),
    [(-1.0, "Reserved"), (-0.3001, "Reserved"), (-0.3, "Balanced"), (0.0, "Balanced"), (0.3, "Balanced"),
     (0.3001, "Expressive"), (2.0, "Expressive")],
)
def test_label_for_score_boundaries(score: float, label: str) -> None:
    assert EXPRESSIVENESS_LABELS[label_for_score(score)] == label


def test_bad_rows_are_reported_and_skipped(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    metadata, videos = make_dataset(tmp_path)
    caplog.set_level(logging.WARNING)
    rows = read_metadata(metadata, videos)
    assert len(rows) == 10  # nine good rows and the corrupt video, which only decoding can tell
    assert [EXPRESSIVENESS_LABELS[r.label] for r in rows[:9]] == [lab for lab in GOOD_SCORES for _ in range(3)]
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 5
    for line, problem in [(10, "does not exist"), (11, "missing 'facial_expression'"),
                          (12, "must be a finite number"), (13, "invalid JSON"), (14, "missing 'file_name'")]:
        assert any(f"line {line}: " in m and problem in m and "skipped" in m for m in messages), (line, messages)

    caplog.clear()
    faces = load_video_faces(rows, None, SamplingOptions(frame_skip=4, max_frames=2))
    assert len(faces.rows) == 9 and len(faces) == 18
    assert "metadata line 15: unreadable video" in caplog.text


def test_duplicate_video_is_skipped(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    videos = tmp_path / "videos"
    videos.mkdir()
    write_video(videos / "a.avi", [_pattern("Reserved", 0)])
    metadata = tmp_path / "metadata.jsonl"
    metadata.write_text('{"file_name": "a.avi", "facial_expression": -1}\n'
                        '{"file_name": "a.avi", "facial_expression": 1}\n')
    caplog.set_level(logging.WARNING)
    assert len(read_metadata(metadata, videos)) == 1
    assert "line 2: video a.avi already listed on line 1" in caplog.text


def test_nothing_usable_raises(tmp_path: Path) -> None:
    metadata = tmp_path / "metadata.jsonl"
    metadata.write_text('not json\n{"file_name": "x.avi", "facial_expression": 0}\n')
    with pytest.raises(ValueError, match="no usable rows"):
        read_metadata(metadata, tmp_path)
    with pytest.raises(FileNotFoundError):
        read_metadata(tmp_path / "absent.jsonl", tmp_path)


def test_empty_class_is_named(tmp_path: Path) -> None:
    metadata, videos = make_dataset(tmp_path, bad_rows=False)
    rows = [r for r in read_metadata(metadata, videos) if EXPRESSIVENESS_LABELS[r.label] != "Expressive"]
    with pytest.raises(ValueError, match="no usable video for class Expressive"):
        load_video_faces(rows, None, SamplingOptions(frame_skip=4, max_frames=1))


def test_video_without_faces_is_skipped(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    metadata, videos = make_dataset(tmp_path, bad_rows=False)
    dark = np.zeros((FRAME_SIDE, FRAME_SIDE, 3), np.uint8)
    write_video(videos / "dark.avi", [dark] * 4)
    with open(metadata, "a", encoding="utf-8") as handle:
        handle.write(json.dumps({"file_name": "dark.avi", "facial_expression": 0.0}) + "\n")
    caplog.set_level(logging.WARNING)
    finder = face_finder(detector=FakeDetector([_whole()], min_mean=10.0))
    faces = load_video_faces(read_metadata(metadata, videos), finder, SamplingOptions(frame_skip=6))
    assert len(faces.rows) == 9
    assert "metadata line 10: video" in caplog.text and "no usable frames" in caplog.text


def test_sampling_respects_frame_skip_and_max_frames(tmp_path: Path) -> None:
    levels = [10 * i for i in range(20)]
    path = write_video(tmp_path / "ramp.avi", [np.full((FRAME_SIDE, FRAME_SIDE, 3), v, np.uint8) for v in levels])
    sampled = list(sample_frames(path, frame_skip=3))
    assert [i for i, _ in sampled] == list(range(0, 20, 3))
    for index, frame in sampled:
        assert abs(frame.mean() - levels[index]) < PIXEL_TOLERANCE

    detector = FakeDetector([_whole()])
    faces = extract_faces(path, face_finder(detector=detector), SamplingOptions(frame_skip=3, max_frames=4))
    assert faces.shape == (4, 48, 48, 1) and faces.dtype == np.float32
    assert detector.calls == 4  # stops decoding once it has max_frames faces
    np.testing.assert_allclose(faces.mean(axis=(1, 2, 3)), [0, 30, 60, 90], atol=PIXEL_TOLERANCE)


def test_largest_face_is_cropped_square() -> None:
    frame = np.zeros((100, 120, 3), np.uint8)
    frame[20:80, 30:70] = 255
    small = Detection(Box(90, 5, 10, 10), 0.99)
    large = Detection(Box(30, 20, 40, 60), 0.6)
    face = largest_face_crop(frame, face_finder(0.0, FakeDetector([small, large])))
    assert face is not None and face.shape == (60, 60, 3)
    assert face[:, 10:50].min() == 255 and face[:, :10].max() == 0
    assert largest_face_crop(frame, face_finder(0.1, FakeDetector([]))) is None
    assert largest_face_crop(frame, None) is frame


def test_training_crops_are_the_analyzers_crops(photo: np.ndarray) -> None:
    """One implementation of detection and cropping: the trainer's crop of a face is the one the Analyzer reads."""
    from runtime.analyzer import Analyzer

    finder = face_finder()
    try:
        trained_on = largest_face_crop(photo, finder)
    finally:
        finder.close()
    with Analyzer() as analyzer:
        served = analyzer.crop_face(photo)
    assert trained_on is not None and served is not None
    np.testing.assert_array_equal(trained_on, served)


def test_sampling_options_are_validated() -> None:
    for kwargs in ({"frame_skip": 0}, {"max_frames": 0}, {"padding": -0.1}):
        with pytest.raises(ValueError):
            SamplingOptions(**kwargs)


def test_split_by_video_is_stratified_and_disjoint() -> None:
    video_labels = [0] * 5 + [1] * 3 + [2]
    is_val = split_by_video(video_labels, 0.2, seed=7)
    assert is_val[:5].sum() == 1 and is_val[5:8].sum() == 1 and not is_val[8]
    np.testing.assert_array_equal(is_val, split_by_video(video_labels, 0.2, seed=7))

    face_videos = np.repeat(np.arange(len(video_labels)), 4)
    face_val = is_val[face_videos]
    assert not set(face_videos[face_val]) & set(face_videos[~face_val])
    with pytest.raises(ValueError, match="val_fraction"):
        split_by_video(video_labels, 1.0, seed=7)
    with pytest.raises(ValueError, match="too few videos"):
        split_by_video([0, 1, 2], 0.5, seed=7)


def test_balanced_class_weights() -> None:
    labels = np.array([0] * 4 + [1] * 2 + [2] * 6)
    np.testing.assert_allclose(balanced_class_weights(labels, 3), [1.0, 2.0, 2.0 / 3.0])
    with pytest.raises(ValueError, match="training sample"):
        balanced_class_weights(np.array([0, 0, 1]), 3)


def test_the_default_detector_is_the_runtimes_face_finder(monkeypatch: pytest.MonkeyPatch) -> None:
    finder = default_detector(padding=0.3)
    try:
        assert isinstance(finder, FaceFinder) and finder.options.crop_padding == 0.3
    finally:
        finder.close()
    assert create_face_detector("none") is None
    with pytest.raises(ValueError):
        create_face_detector("haar")

    def no_interpreter(padding: float) -> None:
        raise ImportError("no TFLite interpreter is installed")

    monkeypatch.setattr(expressiveness_trainer, "face_finder", no_interpreter)
    with pytest.raises(ImportError, match="--face-detector none"):
        create_face_detector("blazeface")


def _cli_args(metadata: Path, videos: Path, run_dir: Path, out: Path) -> list[str]:
    return ["expressiveness", "--metadata", str(metadata), "--videos", str(videos), "--run-dir", str(run_dir),
            "--out", str(out), "--face-detector", "none", "--epochs", "1", "--batch-size", "8",
            "--frame-skip", "2", "--max-frames", "4", "--val-fraction", "0.34"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """One one-epoch CLI run on the generated data set, shared by the training tests."""
    from convert.train.cli import main

    root = tmp_path_factory.mktemp("express")
    metadata, videos = make_dataset(root)
    args = _cli_args(metadata, videos, root / "run", root / "model" / "expressiveness.keras")
    return {"args": args, "run": root / "run", "out": root / "model" / "expressiveness.keras", "rc": main(args)}


@pytest.mark.slow
def test_cli_trains_and_exports_with_manifest(trained: dict[str, object]) -> None:
    assert trained["rc"] == 0
    out, run = Path(str(trained["out"])), Path(str(trained["run"]))
    assert out.is_file()
    manifest = load_manifest(out)
    assert manifest.task == "expressiveness" and manifest.labels == EXPRESSIVENESS_LABELS
    assert manifest.input_size == (48, 48) and manifest.color == "gray" and manifest.format == "keras"
    assert manifest.normalization == Normalization()
    assert set(manifest.verification["validation"]) == {"n", "accuracy", "macro_f1"}
    assert manifest.extra["training"]["config"]["class_weights"] is not None
    report = json.loads((run / "report.json").read_text())
    assert report["validation"]["n"] == 12  # one of three videos per class, four faces each
    assert {"accuracy", "macro_f1"} <= set(report["validation"])
    assert report["data"]["videos"] == {"train": 6, "validation": 3}


@pytest.mark.slow
def test_cli_resumes_instead_of_starting_over(
    trained: dict[str, object], caplog: pytest.LogCaptureFixture
) -> None:
    from convert.train.cli import main

    run = Path(str(trained["run"]))
    last_written = (run / "last.keras").stat().st_mtime_ns
    caplog.set_level(logging.INFO)
    assert main(list(trained["args"])) == 0  # type: ignore[call-overload]
    state = json.loads((run / "state.json").read_text())
    assert state["epoch"] == 1 and len(state["history"]) == 1
    assert (run / "last.keras").stat().st_mtime_ns == last_written
    assert "already finished 1 epochs" in caplog.text


@pytest.mark.slow
def test_cli_refuses_to_resume_a_run_on_other_faces(
    trained: dict[str, object], caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run folder records how its faces were taken: resuming it with another sampling is refused (exit 2) before
    the videos are decoded, and the folder is left as it was."""
    from convert.train.cli import main

    def decoded(*args: object, **kwargs: object) -> None:
        raise AssertionError("the videos were decoded before the run was checked")

    monkeypatch.setattr(expressiveness_trainer, "load_video_faces", decoded)
    run = Path(str(trained["run"]))
    state = (run / "state.json").read_text()
    args = [*map(str, trained["args"]), "--max-frames", "3"]  # type: ignore[call-overload]
    assert main(args) == 2
    assert "holds another run: --max-frames 4 (asked: 3)" in caplog.text
    assert (run / "state.json").read_text() == state


def test_cli_without_usable_rows_exits_2(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from convert.train.cli import main

    metadata = tmp_path / "metadata.jsonl"
    metadata.write_text('{"file_name": "gone.avi", "facial_expression": 0.5}\n{broken\n')
    args = _cli_args(metadata, tmp_path, tmp_path / "run", tmp_path / "out.keras")
    assert main(args) == 2
    assert "has no usable rows (2 skipped" in caplog.text
    assert not (tmp_path / "run").exists()

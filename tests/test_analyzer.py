"""The Analyzer on real detection and a converted expression model: frames, batches, videos, threads, seed API."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
import pytest

from runtime.analyzer import Analyzer, AnalyzerOptions
from tests.videos import truncate, write_video

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "samples" / "astronaut.jpg"
FACE_BOX = (176, 82, 96, 96)  # where BlazeFace finds the astronaut's face (x, y, w, h), +-PIXELS
PIXELS = 8
PROB_TOLERANCE = 1e-5

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def model(converted) -> Path:
    return converted / "tiny_int8.tflite"


def test_finds_the_face_and_reads_its_emotion(analyzer, photo):
    faces = analyzer.analyze(photo)
    assert len(faces) == 1
    box = faces[0].box
    assert np.allclose((box.x, box.y, box.width, box.height), FACE_BOX, atol=PIXELS)
    assert faces[0].detection_score > 0.8
    probs = faces[0].emotion.probabilities
    assert len(probs) == 7 and abs(sum(probs) - 1) < 0.02
    assert faces[0].top_emotion in analyzer.labels


def test_gray_and_bgra_frames_work(analyzer, photo):
    gray = cv2.cvtColor(photo, cv2.COLOR_BGR2GRAY)
    bgra = cv2.cvtColor(photo, cv2.COLOR_BGR2BGRA)
    assert len(analyzer.analyze(bgra)) == 1
    assert len(analyzer.analyze(gray)) <= 1  # gray lowers BlazeFace's scores, but must not fail


def test_no_face_gives_an_empty_list(analyzer):
    assert analyzer.analyze(np.full((240, 320, 3), 127, np.uint8)) == []


@pytest.mark.parametrize("frame", [np.zeros((10, 10, 3), np.float32), np.zeros((0, 5, 3), np.uint8),
                                   np.zeros((5, 5, 2), np.uint8), np.zeros(5, np.uint8), "frame.jpg"])
def test_bad_frames_raise_value_error(analyzer, frame):
    with pytest.raises(ValueError):
        analyzer.analyze(frame)


def test_batch_equals_single_frames_and_max_faces(model, photo):
    smaller = cv2.copyMakeBorder(cv2.resize(photo, (384, 384)), 64, 64, 64, 64, cv2.BORDER_CONSTANT)
    two = np.concatenate([photo, smaller], axis=1)
    blank = np.zeros_like(photo)
    with Analyzer.from_model_path(model, detector=_full()) as a:
        batch = a.analyze_batch([photo, blank, two])
        assert [len(f) for f in batch] == [1, 0, 2]
        single = [a.analyze(frame) for frame in (photo, blank, two)]
        for got, want in zip(batch, single):
            for g, w in zip(got, want):
                assert g.box == w.box
                np.testing.assert_allclose(g.emotion.probabilities, w.emotion.probabilities, atol=PROB_TOLERANCE)
        areas = [f.box.area for f in batch[2]]
        assert areas == sorted(areas, reverse=True)
    with Analyzer.from_model_path(model, max_faces=1, detector=_full()) as a:
        assert len(a.analyze(two)) == 1


def _full():
    from runtime.detection import DetectorOptions

    return DetectorOptions(model="full")


def test_classify_takes_crops_in_order(analyzer):
    from tests.synthetic import synthetic_faces

    images, _ = synthetic_faces(14, seed=3)
    results = analyzer.classify(images)
    assert len(results) == 14
    assert [r.probabilities for r in results[:3]] == [r.probabilities for r in analyzer.classify(images[:3])]


def test_video_report(analyzer, photo, tmp_path):
    video = write_video(tmp_path / "face.avi", 12, image=photo)
    report = analyzer.analyze_video(video, frame_skip=2)
    assert report.frames_analyzed == 6 and report.frames_read == 12
    assert report.frames_without_face == 0 and report.complete
    assert report.dominant_emotion in analyzer.labels
    assert sum(report.emotion_distribution.values()) == pytest.approx(1.0)
    # the default verdict is facial activity, which needs 2 s of face: these 6 frames stand for 1.2 s
    assert report.expressiveness.method == "facial-activity" and report.expressiveness.level is None
    assert "1.2 s" in report.expressiveness.reason
    assert [f.index for f in report.timeline] == [0, 2, 4, 6, 8, 10]


def test_expressiveness_model_replaces_the_derived_measure(model, tiny_expressiveness, photo, tmp_path):
    video = write_video(tmp_path / "face.avi", 5, image=photo)
    with Analyzer.from_model_path(model, expressiveness_model=tiny_expressiveness) as a:
        report = a.analyze_video(video)
    assert report.expressiveness.method == "model:expr_fp32.tflite"
    assert report.expressiveness.level in ("Reserved", "Balanced", "Expressive")
    assert report.expressiveness.score is None


def _relabelled(model: Path, folder: Path, labels: list[str]) -> Path:
    """A copy of the model whose manifest names its outputs ``labels`` (the file itself unchanged)."""
    copy = folder / model.name
    copy.write_bytes(model.read_bytes())
    manifest = json.loads(Path(f"{model}.json").read_text())
    manifest["labels"] = labels
    Path(f"{copy}.json").write_text(json.dumps(manifest))
    return copy


def test_the_expressiveness_level_follows_the_models_own_label_order(model, tiny_expressiveness, photo, tmp_path):
    video = write_video(tmp_path / "face.avi", 5, image=photo)
    shifted = ["Balanced", "Expressive", "Reserved"]  # output i is named differently for every i
    levels = []
    for path in (tiny_expressiveness, _relabelled(tiny_expressiveness, tmp_path, shifted)):
        with Analyzer.from_model_path(model, expressiveness_model=path) as analyzer:
            levels.append(analyzer.analyze_video(video).expressiveness.level)
    assert levels[1] == dict(zip(("Reserved", "Balanced", "Expressive"), shifted))[levels[0]]
    (tmp_path / "other").mkdir()
    with pytest.raises(ValueError, match="labels are Reserved, Balanced, Expressive in any order, not Low, Mid, High"):
        Analyzer.from_model_path(model, expressiveness_model=_relabelled(tiny_expressiveness, tmp_path / "other",
                                                                        ["Low", "Mid", "High"]))


def test_models_given_in_the_wrong_place_are_refused(model, tiny_expressiveness):
    with pytest.raises(ValueError, match="is a 'expressiveness' model, not an 'emotion' model"):
        Analyzer.from_model_path(tiny_expressiveness)
    with pytest.raises(ValueError, match="not an 'expressiveness' model"):
        Analyzer.from_model_path(model, expressiveness_model=model)


def test_stream_yields_one_result_per_frame(analyzer, photo):
    results = list(analyzer.analyze_stream(iter([photo, np.zeros_like(photo), photo]), fps=4.0))
    assert [r.index for r in results] == [0, 1, 2] and [r.timestamp for r in results] == [0.0, 0.25, 0.5]
    assert [len(r.faces) for r in results] == [1, 0, 1] and results[1].primary is None


def test_smoothing_averages_over_time(analyzer, photo, tmp_path):
    video = write_video(tmp_path / "face.avi", 6, image=photo)
    raw = analyzer.analyze_video(video)
    smooth = analyzer.analyze_video(video, smoothing=0.5)
    assert smooth.smoothing == 0.5
    np.testing.assert_allclose(smooth.timeline[0].primary.emotion.probabilities,
                               raw.timeline[0].primary.emotion.probabilities)
    with pytest.raises(ValueError, match="smoothing"):
        analyzer.analyze_video(video, smoothing=0.0)


def test_video_that_ends_early_gives_a_warning_and_a_partial_report(analyzer, photo, tmp_path, caplog):
    video = truncate(write_video(tmp_path / "face.avi", 20, image=photo), 0.5)
    with caplog.at_level("WARNING"):
        report = analyzer.analyze_video(video)
    assert not report.complete and "ended early" in report.warnings[0]
    assert 0 < report.frames_analyzed < 20 and report.frames_without_face == 0


def test_missing_and_bad_videos(analyzer, tmp_path):
    with pytest.raises(FileNotFoundError):
        analyzer.analyze_video(tmp_path / "none.mp4")
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00" * 100)
    with pytest.raises(ValueError, match="cannot open"):
        analyzer.analyze_video(bad)


def test_one_analyzer_shared_by_threads_gives_the_same_results(analyzer, photo):
    frames = [photo, photo[:, ::-1].copy(), cv2.resize(photo, (400, 400)), np.zeros((100, 100, 3), np.uint8)] * 4
    expected = [[(f.box, f.emotion.probabilities) for f in analyzer.analyze(frame)] for frame in frames]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda fr: [(f.box, f.emotion.probabilities) for f in analyzer.analyze(fr)], frames))
    assert got == expected


def test_seed_api(analyzer, photo, tmp_path):
    expressions, no_face = analyzer.predict_facial_expression_batch([photo, np.zeros_like(photo), photo])
    assert len(expressions) == 2 and no_face == 1
    assert expressions[0] == analyzer.analyze(photo)[0].top_emotion
    face = analyzer.crop_face(photo)
    assert face.ndim == 3 and 90 < face.shape[0] < 160 and face.shape[0] == face.shape[1]
    assert analyzer.crop_face(np.zeros_like(photo)) is None
    path = Analyzer.write_frame_to_disk(face, "face", tmp_path / "crops")
    assert path == tmp_path / "crops" / "face.png" and cv2.imread(str(path)).shape == face.shape
    with pytest.raises(ValueError):
        Analyzer.write_frame_to_disk(np.zeros((2, 2), np.float64), "x", tmp_path)


def test_bad_options():
    with pytest.raises(ValueError, match="max_faces"):
        AnalyzerOptions(max_faces=0)
    with pytest.raises(ValueError, match="device"):
        AnalyzerOptions(device="tpu")


def test_missing_model(tmp_path):
    with pytest.raises(FileNotFoundError):
        Analyzer.from_model_path(tmp_path / "none.tflite")


def test_runtime_never_imports_tensorflow_or_convert(model, photo, tmp_path):
    video = write_video(tmp_path / "face.avi", 4, image=photo)
    code = textwrap.dedent(f"""
        import sys
        from runtime import Analyzer
        with Analyzer.from_model_path({str(model)!r}) as a:
            report = a.analyze_video({str(video)!r})
        assert report.frames_analyzed == 4, report
        heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'convert', 'tf2onnx'))
        print('HEAVY', heavy)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "HEAVY []" in out.stdout

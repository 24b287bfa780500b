"""Bad input against the library: each case gets a clear error naming what was wrong, or a warning plus the partial
result. The README's "Bad input" table points here; the CLI cases are in test_cli_outputs.py, model files in
test_integrity.py and test_backends.py, random input in test_fuzz.py."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import cv2
import numpy as np
import pytest

from runtime.analyzer import Analyzer, AnalyzerOptions
from runtime.classifier import ExpressionModel
from runtime.manifest import manifest_path
from runtime.preprocess import MAX_FRAME_SIDE
from runtime.video import FrameReader
from tests.videos import write_video

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def model_path(converted) -> Path:
    return converted / "tiny_int8.tflite"


# --- video sources and options ---------------------------------------------------------------------------------

def test_a_negative_webcam_index_is_refused_before_opencv(model_path):
    """cv2.VideoCapture(-1) segfaults: run in a child so that a regression fails this test, not the whole run."""
    code = textwrap.dedent(f"""
        from runtime.analyzer import Analyzer, AnalyzerOptions
        try:
            Analyzer.from_model_path({str(model_path)!r}).analyze_video(-1)
        except ValueError as error:
            print("ValueError:", error)
    """)
    run = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "ValueError: webcam index must be 0..99, got -1" in run.stdout


@pytest.mark.parametrize("source", [100, True, None, b"video.mp4", 2.0, ""])
def test_sources_that_are_neither_a_path_nor_a_webcam_index(analyzer, source):
    with pytest.raises(ValueError, match=r"source must be|webcam index must be"):
        analyzer.analyze_video(source)


@pytest.mark.parametrize(("option", "value"), [("frame_skip", 1.5), ("frame_skip", True), ("frame_skip", 0),
                                               ("max_frames", 0), ("max_frames", 2.0), ("smoothing", 0.0),
                                               ("smoothing", 1.5), ("smoothing", math.nan), ("smoothing", True)])
def test_video_options_are_checked_before_reading(analyzer, tmp_path, option, value):
    video = write_video(tmp_path / "v.avi", 3)
    with pytest.raises(ValueError, match=option):
        analyzer.analyze_video(video, **{option: value})


def test_a_damaged_stretch_in_the_middle_is_skipped_and_reported(analyzer, photo, tmp_path, caplog):
    video = damage_frames(write_video(tmp_path / "face.avi", 60, image=photo), first=20, last=31)
    with caplog.at_level("WARNING"):
        report = analyzer.analyze_video(video)
    assert report.frames_analyzed == 48 and report.frames_without_face == 0  # 60 - 12 damaged
    assert report.timeline[19].index == 19 and report.timeline[20].index == 32
    assert not report.complete
    assert "12 unreadable frame(s) skipped in 1 damaged stretch(es): frames 20-31 (2.00-3.20 s)" in report.warnings
    assert not any("ended early" in w for w in report.warnings)


def test_a_video_without_a_usable_frame_rate_has_no_timestamps(tmp_path, monkeypatch, caplog):
    video = write_video(tmp_path / "v.avi", 4)
    real = cv2.VideoCapture

    class NanFps:
        def __init__(self, source):
            self._capture = real(source)

        def get(self, prop):
            return math.nan if prop == cv2.CAP_PROP_FPS else self._capture.get(prop)

        def __getattr__(self, name):
            return getattr(self._capture, name)

    monkeypatch.setattr("runtime.video.cv2.VideoCapture", NanFps)
    with caplog.at_level("WARNING"):
        reader = FrameReader(video)
        frames = list(reader)
    assert len(frames) == 4 and all(timestamp is None for _, timestamp, _ in frames)
    assert reader.fps == 0.0 and "no usable frame rate (nan)" in reader.warnings[0]


# --- frames, crops and streams ----------------------------------------------------------------------------------

def test_a_frame_at_opencvs_size_limit_is_a_value_error(analyzer):
    with pytest.raises(ValueError, match=f"each side must be under {MAX_FRAME_SIDE}"):
        analyzer.analyze(np.zeros((MAX_FRAME_SIDE, 2, 3), np.uint8))
    assert analyzer.analyze(np.zeros((MAX_FRAME_SIDE - 1, 2, 3), np.uint8)) == []


def test_one_colour_crop_is_one_face_not_a_batch(analyzer):
    model = analyzer.emotion
    assert len(model.classify(np.zeros((48, 48, 3), np.uint8))) == 1
    assert len(model.classify(np.zeros((48, 48), np.uint8))) == 1
    assert len(model.classify(np.zeros((5, 48, 48), np.uint8))) == 5  # a batch of gray crops
    assert len(model.classify(np.zeros((2, 48, 48, 3), np.uint8))) == 2


@pytest.mark.parametrize("crops", [None, b"face.png", "face.png", np.zeros((1, 1, 48, 48, 3), np.uint8), 7])
def test_crops_of_no_accepted_kind(analyzer, crops):
    with pytest.raises(ValueError, match="face crops must be"):
        analyzer.emotion.classify(crops)


def test_stream_smoothing_is_applied_and_checked(analyzer, photo):
    frames = [photo, photo[:, ::-1].copy(), photo]
    raw = [r.primary.emotion.probabilities for r in analyzer.analyze_stream(iter(frames))]
    smooth = [r.primary.emotion.probabilities for r in analyzer.analyze_stream(iter(frames), smoothing=0.25)]
    np.testing.assert_allclose(smooth[0], raw[0])
    expected = 0.25 * np.array(raw[1]) + 0.75 * np.array(raw[0])
    np.testing.assert_allclose(smooth[1], expected, atol=1e-6)
    for bad in (0.0, 2.0, math.nan, "0.5"):
        with pytest.raises(ValueError, match="smoothing"):
            analyzer.analyze_stream(iter(frames), smoothing=bad)  # at the call, before any frame is asked for
    for bad in (-1.0, 0.0, math.nan, math.inf):
        with pytest.raises(ValueError, match="fps"):
            analyzer.analyze_stream(iter(frames), fps=bad)


def test_one_frame_given_where_many_are_expected_is_refused(analyzer, photo):
    # iterated, a (512, 512, 3) frame read as 512 frames of 512x3 pixels: 512 empty results
    for call in (analyzer.analyze_batch, analyzer.analyze_stream, analyzer.predict_facial_expression_batch):
        for one in (photo, photo[..., 0]):
            with pytest.raises(ValueError, match=r"frames must be several frames, got one frame of shape"):
                call(one)
        with pytest.raises(ValueError, match="frames must be an iterable of frames"):
            call("frames/")
    assert len(analyzer.analyze_batch(np.stack([photo, photo]))) == 2  # an array of frames is a batch
    assert len(analyzer.analyze_batch(np.zeros((3, 40, 50), np.uint8))) == 3  # gray frames
    assert [len(faces) for faces in analyzer.analyze_batch(frame for frame in [photo])] == [1]  # a generator


# --- closed and broken models -----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["tiny_int8.tflite", "tiny_int8.onnx"])
def test_use_after_close_is_a_runtime_error(converted, name):
    model = ExpressionModel(converted / name)
    model.close()
    model.close()  # closing twice is harmless
    with pytest.raises(RuntimeError, match="closed"):
        model.predict(np.zeros((48, 48), np.uint8))


def test_analyzer_used_after_close(model_path, photo):
    analyzer = Analyzer.from_model_path(model_path)
    analyzer.close()
    with pytest.raises(RuntimeError, match="closed"):
        analyzer.analyze(photo)


def test_nan_scores_are_refused_never_reported(converted, tmp_path, photo):
    onnx = pytest.importorskip("onnx")
    import onnxruntime as ort
    from onnx import TensorProto, helper

    original = converted / "tiny_fp32.onnx"
    session = ort.InferenceSession(str(original), providers=["CPUExecutionProvider"])
    inp, out = session.get_inputs()[0], session.get_outputs()[0]
    side = int(np.prod(inp.shape[1:]))
    weights = helper.make_tensor("w", TensorProto.FLOAT, [side, 7], [math.nan] * (side * 7))
    graph = helper.make_graph(
        [helper.make_node("Flatten", [inp.name], ["flat"]), helper.make_node("MatMul", ["flat", "w"], ["logits"]),
         helper.make_node("Softmax", ["logits"], [out.name])],
        "nan", [helper.make_tensor_value_info(inp.name, TensorProto.FLOAT, ["n", *inp.shape[1:]])],
        [helper.make_tensor_value_info(out.name, TensorProto.FLOAT, ["n", 7])], [weights])
    broken = tmp_path / "nan.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8), broken)
    manifest = json.loads(manifest_path(original).read_text())
    manifest_path(broken).write_text(json.dumps(manifest))
    model = ExpressionModel(broken, verify_hash=False)
    with pytest.raises(RuntimeError, match="NaN or infinite scores"):
        model.predict(np.zeros((48, 48), np.uint8))
    options = AnalyzerOptions(emotion_model=broken, verify_model_hash=False)
    with Analyzer(options) as analyzer, pytest.raises(RuntimeError, match="NaN or infinite"):
        analyzer.analyze(photo)


def damage_frames(path: Path, first: int, last: int) -> Path:
    """Overwrites the JPEG data of frames first..last of an MJPG .avi, keeping the container's chunk headers."""
    data = bytearray(path.read_bytes())
    starts = [match.start() for match in re.finditer(rb"\xff\xd8\xff", bytes(data))]
    for frame in range(first, last + 1):
        end = starts[frame + 1] - 16 if frame + 1 < len(starts) else len(data) - 64
        data[starts[frame] : end] = bytes(end - starts[frame])
    path.write_bytes(bytes(data))
    return path


# --- inputs too small to hold a face worth reading ----------------------------------------------------------------

def test_a_frame_smaller_than_the_smallest_face_says_so(analyzer, tmp_path):
    noise = np.random.default_rng(0).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    assert analyzer.analyze(noise) == []
    assert analyzer.too_small(noise) == ("16x16 px is smaller than the smallest face analysed (20 px): no face can "
                                         "be found in it")
    assert analyzer.too_small(np.zeros((20, 64), np.uint8)) is None
    with pytest.raises(ValueError, match="frame must be a numpy array, got NoneType"):
        analyzer.too_small(None)
    report = analyzer.analyze_video(write_video(tmp_path / "tiny.avi", 3, size=(16, 16)))
    assert report.frames_analyzed == 3 and report.frames_without_face == 3
    assert report.warnings[0].startswith("frames of 16x16 px is smaller than the smallest face")


@pytest.mark.parametrize("size", [0, -3, 2.5, True, "20"])
def test_min_face_size_must_be_a_whole_number_of_pixels(size):
    with pytest.raises(ValueError, match="min_face_size"):
        AnalyzerOptions(min_face_size=size)

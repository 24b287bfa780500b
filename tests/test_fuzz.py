"""Fuzzing the public API and the CLI: random frames, random bytes as images, videos and models, random manifests.

Every outcome must be a result or one of the documented exceptions (ValueError/TypeError for bad input,
FileNotFoundError for a missing file, RuntimeError for an engine failure), with a message; never a crash, never a
NaN in an output. Model files that the hash check lets through only when it is switched off are opened in a
subprocess, so that an engine crash on a damaged file fails this test instead of killing the run. Bounded: a fixed
number of examples per property (about a minute in all on a 2-core CPU).
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from runtime.classifier import ExpressionModel
from runtime.cli import main as analyze_main
from runtime.manifest import load_manifest, manifest_path
from tests.videos import write_video

pytestmark = pytest.mark.slow
pytest.importorskip("tensorflow", reason="building the test models needs TensorFlow (extra 'convert')")

REPO = Path(__file__).resolve().parents[1]
DOCUMENTED = (ValueError, TypeError, FileNotFoundError, RuntimeError)
FUZZ = settings(max_examples=40, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def _finite(value) -> bool:
    """True when no float anywhere inside ``value`` (dicts, lists, dataclass dicts) is NaN or infinite."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return all(_finite(v) for v in value)
    return True


def _assert_faces_finite(faces) -> None:
    for face in faces:
        assert _finite([face.box.x, face.box.y, face.box.width, face.box.height, face.detection_score])
        assert _finite(list(face.emotion.probabilities)) and abs(sum(face.emotion.probabilities) - 1) < 1e-3


def _documented(exc: BaseException) -> None:
    assert isinstance(exc, DOCUMENTED), f"undocumented {type(exc).__name__}: {exc}"
    assert str(exc), f"{type(exc).__name__} without a message"


def _result_or_documented_error(call):
    """``call()``'s result, or None when it raised one of the documented exceptions with a message."""
    try:
        return call()
    except DOCUMENTED as exc:
        _documented(exc)
        return None


frames = st.one_of(
    hnp.arrays(st.sampled_from([np.uint8, np.float32, np.int16, np.bool_, np.float64]),
               hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=40)),
    hnp.arrays(np.uint8, st.tuples(st.integers(1, 300), st.integers(1, 300), st.sampled_from([1, 3, 4]))),
    st.sampled_from([None, b"\x00\x01", "frame.jpg", [], [[1, 2], [3]], 3.5]),
)


@FUZZ
@given(frame=frames)
@example(frame=np.zeros((2, 32767, 3), np.uint8))  # OpenCV's limit on a side
@example(frame=np.full((48, 48, 3), np.nan, np.float32))
def test_random_frames(analyzer, frame):
    _assert_faces_finite(_result_or_documented_error(lambda: analyzer.analyze(frame)) or [])


@FUZZ
@given(crops=frames)
def test_random_crops(analyzer, crops):
    for result in _result_or_documented_error(lambda: analyzer.classify(crops)) or []:
        assert _finite(list(result.probabilities))


@settings(FUZZ, max_examples=25)
@given(data=st.binary(max_size=4096), suffix=st.sampled_from([".jpg", ".png", ".mp4", ".avi"]))
def test_random_bytes_as_images_and_videos_in_the_cli(converted, tmp_path_factory, data, suffix, capsys):
    folder = tmp_path_factory.mktemp("bytes")
    path = folder / f"random{suffix}"
    path.write_bytes(data)
    code = analyze_main([str(path), "--model", str(converted / "tiny_int8.tflite"), "--json", "-",
                         "--no-progress"])
    out = capsys.readouterr().out
    assert code in (0, 2)
    if code == 0:
        json.loads(out)  # valid JSON (no NaN) and nothing else on stdout


@settings(FUZZ, max_examples=12)
@given(seed=st.integers(0, 2**31 - 1), cuts=st.integers(1, 4))
def test_videos_damaged_at_random(analyzer, tmp_path_factory, seed, cuts):
    """An MJPG video with random byte ranges overwritten: a report (possibly partial, with warnings) or an error."""
    rng = np.random.default_rng(seed)
    path = write_video(tmp_path_factory.mktemp("video") / "v.avi", 24, size=(96, 72))
    data = bytearray(path.read_bytes())
    for _ in range(cuts):
        start = int(rng.integers(0, len(data)))
        length = int(rng.integers(1, 2000))
        data[start : start + length] = rng.integers(0, 256, min(length, len(data) - start), dtype=np.uint8).tobytes()
    path.write_bytes(bytes(data))
    report = _result_or_documented_error(lambda: analyzer.analyze_video(path))
    if report is None:
        return
    json.dumps(report.to_dict(), allow_nan=False)
    for frame in report.timeline:
        _assert_faces_finite(frame.faces)


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True), st.text(max_size=8)),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=8,
)
MANIFEST_FIELDS = ("schema", "task", "labels", "input_size", "color", "normalization", "format", "precision",
                   "outputs_probabilities", "input_quantization", "output_quantization", "file")


@settings(FUZZ, max_examples=60)
@given(field=st.sampled_from(MANIFEST_FIELDS), value=json_values)
@example(field="normalization", value={"scale": math.nan, "offset": 0.0})
@example(field="normalization", value={"scale": None, "offset": 0.0})
@example(field="normalization", value={"scale": "0.5", "offset": "0"})
@example(field="outputs_probabilities", value="no")
@example(field="labels", value=["Happy"] * 7)
@example(field="labels", value=[0, 1, 2, 3, 4, 5, 6])
def test_random_manifest_fields(converted, tmp_path_factory, field, value):
    """One field of a real manifest replaced by a random JSON value: the model opens and classifies, or a
    documented error names the problem."""
    folder = tmp_path_factory.mktemp("manifest")
    model = folder / "m_fp32.onnx"
    shutil.copy(converted / "tiny_fp32.onnx", model)
    data = json.loads(manifest_path(converted / "tiny_fp32.onnx").read_text())
    data[field] = value
    manifest_path(model).write_text(json.dumps(data))
    try:
        load_manifest(model)
        expression = ExpressionModel(model)
        try:
            probabilities = expression.predict(np.zeros((2, 48, 48), np.uint8))
        finally:
            expression.close()
    except DOCUMENTED as exc:
        _documented(exc)
        return
    assert np.isfinite(probabilities).all()


_OPEN_MODEL = textwrap.dedent("""
    import sys
    import numpy as np
    from runtime.classifier import ExpressionModel
    try:
        model = ExpressionModel(sys.argv[1], verify_hash=False)
        probabilities = model.predict(np.zeros((2, 48, 48), np.uint8))
    except (ValueError, TypeError, FileNotFoundError, RuntimeError) as exc:
        print("documented", type(exc).__name__, exc)
        raise SystemExit(3)
    print("finite" if np.isfinite(probabilities).all() else "NaN")
""")


@pytest.mark.parametrize("name", ["tiny_int8.tflite", "tiny_fp32.onnx"])
def test_damaged_model_files(converted, tmp_path, name):
    """Random bytes and byte flips in real model files: with the hash check on, refused by name; with it off (in a
    subprocess), a documented error or finite probabilities (a NaN must be caught), never a crash."""
    rng = np.random.default_rng(11)
    original = (converted / name).read_bytes()
    variants = [rng.integers(0, 256, len(original), dtype=np.uint8).tobytes(), original[: len(original) // 3]]
    for _ in range(6):
        damaged = bytearray(original)
        for index in rng.integers(0, len(damaged), 16):
            damaged[index] ^= 0xFF
        variants.append(bytes(damaged))
    for i, data in enumerate(variants):
        model = tmp_path / f"{i}_{name}"
        model.write_bytes(data)
        shutil.copy(manifest_path(converted / name), manifest_path(model))
        with pytest.raises(ValueError, match="manifest"):
            ExpressionModel(model)
        done = subprocess.run([sys.executable, "-c", _OPEN_MODEL, str(model)], cwd=REPO, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode in (0, 3), f"variant {i}: crashed ({done.returncode}): {done.stderr[-500:]}"
        assert "NaN" not in done.stdout.split(), f"variant {i}: NaN reached the output"

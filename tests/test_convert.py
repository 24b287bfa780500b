"""fer-convert end to end on a small model trained on generated faces: every format, manifests, bad input."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from convert.cli import main
from convert.formats import FORMATS
from runtime.backends import open_backend
from runtime.manifest import FER2013_LABELS, load_manifest, manifest_path
from runtime.preprocess import prepare_faces
from tests.synthetic import synthetic_faces

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow
pytest.importorskip("tensorflow", reason="the converter needs TensorFlow (extra 'convert')")

# Agreement with the Keras source on held-out generated faces, and the largest probability difference.
MIN_AGREEMENT = {"fp32": 0.999, "fp16": 0.99, "dynamic": 0.97, "int8": 0.95, "onnx": 0.999, "onnx-int8": 0.95}
MAX_DIFF = {"fp32": 1e-4, "fp16": 0.02, "dynamic": 0.1, "int8": 0.15, "onnx": 1e-4, "onnx-int8": 0.15}


def _keras_probs(model_path: Path, images: np.ndarray) -> np.ndarray:
    import keras

    model = keras.models.load_model(model_path, compile=False)
    return model.predict(images[..., None].astype(np.float32), verbose=0)


@pytest.mark.parametrize("fmt", FORMATS, ids=[f.key for f in FORMATS])
def test_every_format_runs_in_the_runtime_and_agrees_with_keras(converted, tiny_keras, fmt):
    path = converted / f"tiny{fmt.suffix}"
    manifest = load_manifest(path)
    images, _ = synthetic_faces(140, seed=99)
    batch = prepare_faces(images, manifest.input_size, manifest.color, manifest.normalization)
    with open_backend(path) as backend:
        probs = backend.run(batch)
    reference = _keras_probs(tiny_keras, images)
    assert probs.shape == reference.shape
    assert np.mean(probs.argmax(1) == reference.argmax(1)) >= MIN_AGREEMENT[fmt.key]
    assert np.abs(probs - reference).max() <= MAX_DIFF[fmt.key]


@pytest.mark.parametrize("fmt", FORMATS, ids=[f.key for f in FORMATS])
def test_manifest_describes_its_file(converted, tiny_keras, fmt):
    path = converted / f"tiny{fmt.suffix}"
    manifest = load_manifest(path)
    assert manifest.labels == FER2013_LABELS
    assert (manifest.format, manifest.precision) == (fmt.engine, fmt.precision)
    assert manifest.input_size == (48, 48) and manifest.color == "gray"
    assert manifest.file["bytes"] == path.stat().st_size
    assert manifest.source["name"] == "tiny.keras"
    assert manifest.verification["keras"]["top1_agreement"] >= MIN_AGREEMENT[fmt.key]
    assert manifest.outputs_probabilities
    if fmt.key == "int8":
        assert manifest.input_quantization.dtype == "int8"
        assert manifest.output_quantization is not None
    else:
        assert manifest.input_quantization is None


def test_manifest_round_trips(converted):
    from runtime.manifest import Manifest

    path = converted / "tiny_int8.tflite"
    manifest = load_manifest(path)
    assert Manifest.from_dict(json.loads(json.dumps(manifest.to_dict()))) == manifest


def test_int8_is_smaller_than_fp32(converted):
    assert (converted / "tiny_int8.tflite").stat().st_size < (converted / "tiny_fp32.tflite").stat().st_size
    assert (converted / "tiny_int8.onnx").stat().st_size < (converted / "tiny_fp32.onnx").stat().st_size


def test_no_staging_left_behind(converted):
    assert not [p for p in converted.iterdir() if p.name.startswith(".fer-convert-")]


def test_uint8_io_and_sequential_model_without_manifest(tiny_sequential, calibration_npz, tmp_path, capsys):
    code = main([str(tiny_sequential), "--int8", "--onnx", "--int8-io", "uint8", "--out", str(tmp_path),
                 "--no-data", "--calibration", str(calibration_npz), "--calibration-count", "70",
                 "--scale", "1", "--offset", "0"])
    assert code == 0
    assert "seq_int8.tflite" in capsys.readouterr().out
    manifest = load_manifest(tmp_path / "seq_int8.tflite")
    assert manifest.input_quantization.dtype == "uint8"
    assert manifest.labels == FER2013_LABELS  # 7 outputs and no manifest: FER-2013 order
    assert sorted(p.name for p in tmp_path.iterdir()) == ["seq_fp32.onnx", "seq_fp32.onnx.json",
                                                          "seq_int8.tflite", "seq_int8.tflite.json"]


# ---- bad input: a clear message, a non-zero exit, nothing written ----

def _run_bad(args: list[str], out: Path, caplog) -> tuple[int, str]:
    with caplog.at_level("ERROR"):
        try:
            code = main(args)
        except SystemExit as exc:  # argparse errors
            code = exc.code
    assert not out.exists() or not any(out.iterdir()), f"files left in {out}: {list(out.iterdir())}"
    return code, caplog.text


@pytest.mark.parametrize(("name", "content", "message"), [
    ("nope.keras", None, "not found"),
    ("model.keras", b"this is not a zip", "cannot be loaded as a Keras model"),
    ("model.onnx", b"x", "not a Keras model file"),
], ids=["missing", "not-keras", "wrong-suffix"])
def test_missing_or_wrong_model_file(tmp_path, caplog, calibration_npz, name, content, message):
    model = tmp_path / name
    if content is not None:
        model.write_bytes(content)
    code, text = _run_bad([str(model), "--out", str(tmp_path / "o"), "--no-data", "--calibration",
                           str(calibration_npz)], tmp_path / "o", caplog)
    assert code == 2 and message in text


def test_model_whose_input_is_not_an_image(tmp_path, caplog, calibration_npz):
    import keras

    inputs = keras.Input((10,))
    model = keras.Model(inputs, keras.layers.Dense(7, activation="softmax")(inputs))
    path = tmp_path / "vector.keras"
    model.save(path)
    code, text = _run_bad([str(path), "--out", str(tmp_path / "o"), "--no-data", "--calibration",
                           str(calibration_npz)], tmp_path / "o", caplog)
    assert code == 2 and "input must be one image batch" in text


@pytest.mark.parametrize("problem", ["missing", "no-images", "wrong-dtype", "corrupt", "empty-folder", "one-hot",
                                     "0-d-images", "string-labels", "nan-labels"])
def test_bad_calibration_data(tiny_keras, tmp_path, caplog, problem):
    calib = tmp_path / "calib.npz"
    images = np.zeros((14, 48, 48), np.uint8)
    if problem == "one-hot":  # was an IndexError traceback in the stratified sampling, exit 1
        np.savez(calib, images=images, labels=np.eye(7)[np.arange(14) % 7])
    elif problem == "0-d-images":  # was a TypeError traceback
        np.savez(calib, images=np.array(3, np.uint8))
    elif problem == "string-labels":  # was a ValueError that did not name the file
        np.savez(calib, images=images, labels=np.array(["happy", "sad"] * 7))
    elif problem == "nan-labels":  # was cast silently to -2**63 and used
        np.savez(calib, images=images, labels=np.where(np.arange(14) == 3, np.nan, np.arange(14) % 7))
    elif problem == "no-images":
        np.savez(calib, faces=np.zeros((3, 48, 48), np.uint8))
    elif problem == "wrong-dtype":
        np.savez(calib, images=np.zeros((3, 48, 48), np.float32))
    elif problem == "corrupt":
        calib.write_bytes(b"PK\x03\x04 broken")
    elif problem == "empty-folder":
        calib = tmp_path / "faces"
        calib.mkdir()
    code, text = _run_bad([str(tiny_keras), "--int8", "--out", str(tmp_path / "o"), "--no-data",
                           "--calibration", str(calib)], tmp_path / "o", caplog)
    assert code == 2 and str(calib.name) in text


def test_no_calibration_source_at_all(tiny_keras, tmp_path, caplog, monkeypatch):
    code, text = _run_bad([str(tiny_keras), "--int8", "--out", str(tmp_path / "o"), "--data", str(tmp_path / "x.csv")],
                          tmp_path / "o", caplog)
    assert code == 2 and "x.csv" in text


def test_unwritable_output_folder(tiny_keras, tmp_path, caplog, calibration_npz):
    out = tmp_path / "ro"
    out.mkdir()
    out.chmod(0o500)
    try:
        import os

        if os.access(out, os.W_OK):
            pytest.skip("running as a user who can write anywhere (root): permissions are not enforced")
        code, text = _run_bad([str(tiny_keras), "--out", str(out), "--no-data", "--calibration",
                               str(calibration_npz)], out, caplog)
        assert code == 2 and "not writable" in text
    finally:
        out.chmod(0o700)


def test_output_is_a_file(tiny_keras, tmp_path, caplog, calibration_npz):
    out = tmp_path / "file"
    out.write_text("x")
    with caplog.at_level("ERROR"):
        code = main([str(tiny_keras), "--out", str(out), "--no-data", "--calibration", str(calibration_npz)])
    assert code == 2 and "not a folder" in caplog.text


@pytest.mark.parametrize("args", [
    ["--onnx", "--int8-io", "uint8"],
    ["--no-data"],
    ["--scale", "0.5"],
    ["--calibration-count", "0"],
])
def test_conflicting_flags(tiny_keras, tmp_path, args, capsys):
    with pytest.raises(SystemExit) as exc:
        main([str(tiny_keras), "--out", str(tmp_path / "o"), *args])
    assert exc.value.code == 2
    assert "error:" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_labels_that_do_not_match_the_model(tiny_sequential, tmp_path, caplog, calibration_npz):
    code, text = _run_bad([str(tiny_sequential), "--fp32", "--labels", "a,b,c", "--out", str(tmp_path / "o"),
                           "--no-data", "--calibration", str(calibration_npz)], tmp_path / "o", caplog)
    assert code == 2 and "7 outputs but 3 labels" in text


def test_manifest_path_is_beside_the_model(converted):
    assert manifest_path(converted / "tiny_int8.tflite") == converted / "tiny_int8.tflite.json"


@pytest.mark.data
def test_conversion_measures_accuracy_on_the_real_fer2013(tiny_keras, tmp_path):
    """With FER-2013 present: calibration from Training, agreement on PublicTest, accuracy on all of PrivateTest."""
    from convert.data.paths import default_fer2013, default_ferplus

    data = default_fer2013()
    if data is None:
        pytest.skip("FER-2013 not found: set FER2013_CSV or FER_EDGE_DATA, or put ../shared/data beside the project")
    args = [str(tiny_keras), "--int8", "--out", str(tmp_path), "--data", str(data), "--calibration-count", "70",
            "--validation-count", "70", "-q"]
    ferplus = default_ferplus()
    assert main(args + (["--ferplus", str(ferplus)] if ferplus else [])) == 0
    manifest = load_manifest(tmp_path / "tiny_int8.tflite")
    assert manifest.verification["privatetest"]["fer2013"]["n"] == 3589
    assert manifest.extra["calibration"] == {"source": f"{data.name}:Training", "count": 70}
    if ferplus:
        assert manifest.verification["privatetest"]["ferplus"]["n"] == 3137


def test_output_below_a_file_is_refused_before_the_work(tiny_keras, tmp_path, caplog, calibration_npz,
                                                         monkeypatch):
    import convert.cli

    (tmp_path / "afile").write_text("x")
    monkeypatch.setattr(convert.cli, "convert_model", lambda *a: pytest.fail("the conversion started"))
    with caplog.at_level("ERROR"):
        code = main([str(tiny_keras), "--out", str(tmp_path / "afile" / "sub"), "--no-data", "--calibration",
                     str(calibration_npz)])
    assert code == 2 and "afile is a file, not a folder" in caplog.text


def test_sigterm_during_a_conversion_leaves_no_partial_files(tiny_keras, calibration_npz, tmp_path):
    """A conversion killed with SIGTERM (as a job scheduler does) removes its staging folder, like Ctrl-C."""
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-m", "convert.cli", str(tiny_keras), "--all", "--out", str(out),
                                "--no-data", "--calibration", str(calibration_npz), "-q"],
                               cwd=REPO, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(REPO)})
    deadline = time.monotonic() + 120
    while not list(out.glob(".fer-convert-*/*")) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    assert process.poll() is None, "the conversion ended before it could be interrupted"
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=120) == 128 + signal.SIGTERM
    assert not list(out.glob(".fer-convert-*")) and not list(out.glob("*.tflite")) and not list(out.glob("*.onnx"))


def test_a_missing_keras_names_the_extra(tmp_path, monkeypatch, calibration_npz, caplog):
    import builtins

    model = tmp_path / "m.keras"
    model.write_bytes(b"PK")
    real_import = builtins.__import__

    def no_keras(name, *args, **kwargs):
        if name == "keras":
            raise ModuleNotFoundError("No module named 'keras'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_keras)
    with caplog.at_level("ERROR"):
        code = main([str(model), "--out", str(tmp_path / "o"), "--no-data", "--calibration", str(calibration_npz)])
    assert code == 2 and "fer-edge[convert]" in caplog.text


def test_a_stop_that_a_library_swallowed_still_writes_nothing(tiny_keras, calibration_npz, tmp_path, monkeypatch):
    """SIGTERM's SystemExit can be caught inside TensorFlow or tf2onnx; the stop flag still ends the run unpublished."""
    import threading

    import convert.pipeline as pipeline
    from convert.formats import BY_KEY

    stop = threading.Event()
    build = pipeline._build

    def build_then_stop(*args, **kwargs):
        build(*args, **kwargs)
        stop.set()  # as if SIGTERM came here and a library caught its SystemExit

    monkeypatch.setattr(pipeline, "_build", build_then_stop)
    out = tmp_path / "o"
    options = pipeline.ConvertOptions(formats=(BY_KEY["fp32"],), out_dir=out, calibration=calibration_npz,
                                      cancel=stop)
    with pytest.raises(pipeline.ConversionCancelled, match="nothing was written"):
        pipeline.convert_model(tiny_keras, options)
    assert list(out.iterdir()) == []


def test_a_failed_write_exits_1_naming_it_without_a_traceback(tmp_path, monkeypatch, caplog, calibration_npz):
    """An OSError past the input checks (the disk full while writing) is a failed conversion: exit 1 with the
    error, not a traceback."""
    import errno

    import convert.cli as cli

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "o" / "m_fp32.tflite"))

    monkeypatch.setattr(cli, "convert_model", disk_full)
    model = tmp_path / "m.keras"
    model.write_bytes(b"PK")
    code = cli.main([str(model), "--fp32", "--out", str(tmp_path / "o"), "--no-data", "--calibration",
                     str(calibration_npz)])
    assert code == 1 and "conversion failed" in caplog.text and "No space left on device" in caplog.text


def test_a_stop_that_a_library_turned_into_another_error_exits_as_stopped(tmp_path, monkeypatch, caplog,
                                                                        calibration_npz):
    """SIGTERM's SystemExit re-raised by TensorFlow's converter as its own error (so a RuntimeError from our export
    step): the run still ends as stopped (143), not as a failed conversion (1); CI saw exit 1 once."""
    import signal

    import convert.cli as cli

    def stopped_inside_a_library(*args, **kwargs):
        cli._STOP.set()  # what _terminate does first
        raise RuntimeError("int8 export failed: ConverterError: SystemExit(143)")

    monkeypatch.setattr(cli, "convert_model", stopped_inside_a_library)
    model = tmp_path / "m.keras"
    model.write_bytes(b"PK")
    try:
        code = cli.main([str(model), "--fp32", "--out", str(tmp_path / "o"), "--no-data", "--calibration",
                         str(calibration_npz)])
        assert code == 128 + signal.SIGTERM
    finally:
        cli._STOP.clear()
    assert "stopped by SIGTERM; nothing was written" in caplog.text


# ---- which faces calibrate and which verify ----

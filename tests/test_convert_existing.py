"""What is already in fer-convert's --out: --verify-existing re-measures only the files fer-convert wrote from the
given model, output names stay inside --out, and staging folders of killed runs are removed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from convert.cli import main
from runtime.manifest import load_manifest, manifest_path
from tests.test_convert import MIN_AGREEMENT

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow
pytest.importorskip("tensorflow", reason="the converter needs TensorFlow (extra 'convert')")


def _copy_converted(converted: Path, out: Path, keys: tuple[str, ...] = ("fp32", "int8")) -> dict[str, Path]:
    import shutil

    from convert.formats import BY_KEY

    out.mkdir()
    paths = {}
    for key in keys:
        name = f"tiny{BY_KEY[key].suffix}"
        for file in (name, f"{name}.json"):
            shutil.copy2(converted / file, out / file)
        paths[key] = out / name
    return paths


def _reverify(model: Path, out: Path, calibration: Path, *extra: str) -> int:
    """--verify-existing with the counts the `converted` fixture was built with (so the same faces are held out)."""
    return main([str(model), "--fp32", "--int8", "--verify-existing", "--out", str(out), "--no-data",
                 "--calibration", str(calibration), "--calibration-count", "140", "--validation-count", "210", "-q",
                 *extra])


def _dead_pid() -> int:
    """The pid of a process that has ended."""
    import subprocess
    import sys

    return int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True, check=True).stdout)


def test_verify_existing_remeasures_and_keeps_each_file_byte_for_byte(converted, tiny_keras, calibration_npz,
                                                                       tmp_path):
    from convert.staging import STAGING_PREFIX, host_tag
    from runtime.manifest import save_manifest

    paths = _copy_converted(converted, tmp_path / "out")
    before = {key: (path.read_bytes(), load_manifest(path)) for key, path in paths.items()}
    for path in paths.values():  # an old measurement, to see it replaced
        old = load_manifest(path)
        save_manifest(type(old).from_dict({**old.to_dict(), "verification": {"keras": {"top1_agreement": 0.5}}}),
                      path)
    stale = tmp_path / "out" / f"{STAGING_PREFIX}{host_tag()}-{_dead_pid()}-x1y2"
    (stale / "sub").mkdir(parents=True)  # as a run killed with SIGKILL leaves it

    assert _reverify(tiny_keras, tmp_path / "out", calibration_npz) == 0
    for key, path in paths.items():
        data, original = before[key]
        assert path.read_bytes() == data
        manifest = load_manifest(path)
        assert manifest.file == original.file
        assert (manifest.precision, manifest.input_quantization, manifest.output_quantization) == (
            original.precision, original.input_quantization, original.output_quantization)
        assert manifest.verification["keras"]["n"] == 210
        assert manifest.verification["keras"]["top1_agreement"] >= MIN_AGREEMENT[key]
        assert manifest.extra["reverified_by"].startswith("fer-convert")
    assert load_manifest(paths["int8"]).verification["keras"]["calibration_overlap"] == 140
    assert not stale.exists()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        n for p in paths.values() for n in (p.name, f"{p.name}.json"))


def test_verify_existing_refuses_a_file_that_changed_since_it_was_written(converted, tiny_keras, calibration_npz,
                                                                        tmp_path, caplog):
    """The reviewer's case: the fp32 file copied over the int8 one was re-signed as int8 (exit 0, a warning)."""
    import shutil

    paths = _copy_converted(converted, tmp_path / "out")
    shutil.copy2(paths["fp32"], paths["int8"])
    manifest_before = manifest_path(paths["int8"]).read_text()
    with caplog.at_level("ERROR"):
        assert _reverify(tiny_keras, tmp_path / "out", calibration_npz) == 2
    assert "tiny_int8.tflite changed since fer-convert wrote it" in caplog.text
    assert manifest_path(paths["int8"]).read_text() == manifest_before
    assert paths["int8"].read_bytes() == paths["fp32"].read_bytes()
    assert not list((tmp_path / "out").glob(".fer-convert-*"))


def test_verify_existing_refuses_a_file_renamed_with_its_manifest(converted, tiny_keras, calibration_npz, tmp_path,
                                                                  caplog):
    """The fp32 file and its manifest, both renamed to the int8 names: each matches the other, not the name."""
    import shutil

    paths = _copy_converted(converted, tmp_path / "out")
    shutil.copy2(paths["fp32"], paths["int8"])
    shutil.copy2(manifest_path(paths["fp32"]), manifest_path(paths["int8"]))
    with caplog.at_level("ERROR"):
        assert _reverify(tiny_keras, tmp_path / "out", calibration_npz) == 2
    assert "tiny_int8.tflite.json describes a tflite fp32 file, not tflite int8" in caplog.text


def test_verify_existing_refuses_files_converted_from_another_model(converted, tiny_sequential, calibration_npz,
                                                                    tmp_path, caplog):
    paths = _copy_converted(converted, tmp_path / "out")
    manifests_before = {key: manifest_path(p).read_text() for key, p in paths.items()}
    with caplog.at_level("ERROR"):
        assert _reverify(tiny_sequential, tmp_path / "out", calibration_npz, "--name", "tiny") == 2
    assert "tiny_fp32.tflite was converted from another model" in caplog.text
    assert "names tiny.keras" in caplog.text
    assert {key: manifest_path(p).read_text() for key, p in paths.items()} == manifests_before


@pytest.mark.parametrize(("extra", "changed"), [(("--scale", "0.5", "--offset", "0"), "normalization"),
                                               (("--labels", "a,b,c,d,e,f,g"), "labels")])
def test_verify_existing_refuses_to_change_how_the_runtime_feeds_the_file(converted, tiny_keras, calibration_npz,
                                                                          tmp_path, caplog, extra, changed):
    paths = _copy_converted(converted, tmp_path / "out")
    manifests_before = {key: manifest_path(p).read_text() for key, p in paths.items()}
    with caplog.at_level("ERROR"):
        assert _reverify(tiny_keras, tmp_path / "out", calibration_npz, *extra) == 2
    assert f"tiny_fp32.tflite.json records {changed} " in caplog.text and "re-convert it to change that" in caplog.text
    assert {key: manifest_path(p).read_text() for key, p in paths.items()} == manifests_before


@pytest.mark.parametrize(("pool", "count", "said"), [
    ("faces.npz", "100", "this run would hold 100 faces of faces.npz"),
    ("other.npz", "140", "this run would hold 140 faces of other.npz")])
def test_verify_existing_refuses_agreement_faces_that_may_be_calibration_faces(converted, tiny_keras,
                                                                               calibration_npz, tmp_path, caplog,
                                                                               pool, count, said):
    """The int8 files were calibrated on 140 faces of faces.npz: another count or pool holds other faces out of
    the agreement faces, so the agreement was measured partly on calibration faces (and exit 0)."""
    import shutil

    paths = _copy_converted(converted, tmp_path / "out")
    manifests_before = {key: manifest_path(p).read_text() for key, p in paths.items()}
    shutil.copy2(calibration_npz, tmp_path / pool)
    with caplog.at_level("ERROR"):
        assert _reverify(tiny_keras, tmp_path / "out", tmp_path / pool, "--calibration-count", count) == 2
    assert "tiny_int8.tflite.json records calibration on 140 faces of faces.npz" in caplog.text
    assert said in caplog.text and "--calibration-count tiny_int8.tflite was converted with" in caplog.text
    assert {key: manifest_path(p).read_text() for key, p in paths.items()} == manifests_before


def test_verify_existing_refuses_int8_io_it_cannot_honour(tiny_keras, tmp_path, monkeypatch, capsys):
    """--int8-io uint8 was ignored: the int8 file kept its int8 tensors, re-signed, exit 0."""
    import convert.cli

    monkeypatch.setattr(convert.cli, "convert_model", lambda *a: pytest.fail("the conversion started"))
    with pytest.raises(SystemExit) as exc:
        main([str(tiny_keras), "--int8", "--verify-existing", "--int8-io", "uint8", "--out", str(tmp_path)])
    assert exc.value.code == 2 and "--int8-io" in capsys.readouterr().err


# ---- --name and staging folders ----

@pytest.mark.parametrize("name", ["../x", "a/b", "", "  ", ".."])
def test_a_name_that_is_not_a_file_stem_is_refused_before_any_work(tiny_keras, tmp_path, monkeypatch, capsys, name):
    import convert.cli

    monkeypatch.setattr(convert.cli, "convert_model", lambda *a: pytest.fail("the conversion started"))
    with pytest.raises(SystemExit) as exc:
        main([str(tiny_keras), "--fp32", "--name", name, "--out", str(tmp_path / "o")])
    assert exc.value.code == 2 and "--name" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_convert_model_refuses_a_name_that_leaves_the_output_folder(tmp_path):
    from convert.formats import BY_KEY
    from convert.pipeline import ConvertOptions, convert_model

    options = ConvertOptions(formats=(BY_KEY["fp32"],), out_dir=tmp_path / "o", name="../escaped")
    with pytest.raises(ValueError, match="without a path separator"):
        convert_model(tmp_path / "never-read.keras", options)  # refused before the model is even looked for
    assert not (tmp_path / "o").exists()


def test_stale_staging_folders_are_removed_only_when_their_run_is_gone(tmp_path, caplog):
    from convert.staging import STAGING_PREFIX, host_tag, remove_stale_staging

    dead, here = _dead_pid(), f"{STAGING_PREFIX}{host_tag()}"
    folders = {"dead": f"{here}-{dead}-abc", "alive": f"{here}-{os.getppid()}-def",
               "other-host": f"{STAGING_PREFIX}elsewhere-{dead}-ghi", "old-style": f"{STAGING_PREFIX}k3j_9x"}
    for folder in folders.values():
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "m_int8.tflite").write_bytes(b"partial")
    with caplog.at_level("WARNING"):
        assert remove_stale_staging(tmp_path) == [tmp_path / folders["dead"]]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(v for k, v in folders.items() if k != "dead")
    assert ".fer-convert-k3j_9x" in caplog.text  # named in a warning: it cannot be told whether its run still lives


def test_a_staging_folder_naming_an_impossible_pid_is_kept(tmp_path):
    """A pid too large for os.kill raised OverflowError out of fer-convert (a traceback, nothing converted)."""
    from convert.staging import STAGING_PREFIX, host_tag, remove_stale_staging

    folder = tmp_path / f"{STAGING_PREFIX}{host_tag()}-{'9' * 30}-abc"
    folder.mkdir()
    assert remove_stale_staging(tmp_path) == [] and folder.is_dir()


def test_a_run_killed_with_sigkill_leaves_a_staging_folder_the_next_run_removes(tiny_keras, calibration_npz,
                                                                               tmp_path):
    import signal
    import subprocess
    import sys
    import time

    from convert.staging import remove_stale_staging

    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-m", "convert.cli", str(tiny_keras), "--all", "--out", str(out),
                                "--no-data", "--calibration", str(calibration_npz), "-q"],
                               cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env={**os.environ, "PYTHONPATH": str(REPO)})
    deadline = time.monotonic() + 120
    while not list(out.glob(".fer-convert-*/*")) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    assert process.poll() is None, "the conversion ended before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    (left,) = out.glob(".fer-convert-*")
    assert f"-{process.pid}-" in left.name  # the folder names the run that made it
    assert remove_stale_staging(out) == [left] and not left.exists()

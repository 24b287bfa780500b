"""fer-train emotion on a generated file in the FER-2013 layout: one short epoch, checkpoint, resume, export."""

from __future__ import annotations

import json

import pytest

from convert.train.cli import main
from runtime.manifest import FER2013_LABELS, load_manifest
from tests.fer_csv import write_fer_csv

pytestmark = pytest.mark.slow
pytest.importorskip("tensorflow", reason="training needs TensorFlow (extra 'convert')")


@pytest.mark.parametrize(("arch", "side"), [("cnn", None), ("mobilenetv2", "32")])
def test_one_epoch_writes_a_model_with_its_manifest_and_resumes(tmp_path, arch, side, caplog):
    data = write_fer_csv(tmp_path / "fer.csv.gz", {"Training": 70, "PublicTest": 14, "PrivateTest": 14})
    run, out = tmp_path / "run", tmp_path / f"{arch}.keras"
    args = ["emotion", "--arch", arch, "--data", str(data), "--run-dir", str(run), "--out", str(out),
            "--epochs", "1", "--batch-size", "16", "--no-ferplus"]
    args += ["--input-side", side] if side else []
    assert main(["--threads", "2", *args]) == 0
    state = json.loads((run / "state.json").read_text())
    assert state["epoch"] == 1 and (run / "last.keras").is_file() and (run / "best.keras").is_file()
    manifest = load_manifest(out)
    assert manifest.labels == FER2013_LABELS and manifest.format == "keras" and manifest.color == "gray"
    assert manifest.extra["architecture"] == arch
    assert 0.0 <= manifest.verification["privatetest"]["fer2013"]["accuracy"] <= 1.0
    mtime = (run / "last.keras").stat().st_mtime
    with caplog.at_level("INFO"):
        assert main(args) == 0
    assert "already finished" in caplog.text and (run / "last.keras").stat().st_mtime == mtime


def test_resume_with_another_configuration_is_refused(tmp_path, caplog):
    data = write_fer_csv(tmp_path / "fer.csv", {"Training": 35, "PublicTest": 7, "PrivateTest": 7})
    base = ["emotion", "--data", str(data), "--run-dir", str(tmp_path / "run"), "--batch-size", "16", "--no-ferplus"]
    assert main([*base, "--epochs", "1"]) == 0
    with caplog.at_level("ERROR"):
        assert main([*base, "--epochs", "2"]) == 2
    assert "another configuration" in caplog.text


def test_missing_and_malformed_data(tmp_path, caplog):
    with caplog.at_level("ERROR"):
        assert main(["emotion", "--data", str(tmp_path / "none.csv"), "--run-dir", str(tmp_path / "r")]) == 2
    assert "not found" in caplog.text
    bad = tmp_path / "bad.csv"
    bad.write_text("emotion,pixels,Usage\n0,1 2 3,Training\n")
    with caplog.at_level("ERROR"):
        assert main(["emotion", "--data", str(bad), "--run-dir", str(tmp_path / "r2")]) == 2
    assert "line 2" in caplog.text

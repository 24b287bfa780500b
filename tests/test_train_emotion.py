"""fer-train emotion on a generated file in the FER-2013 layout: one short epoch, checkpoint, resume, export."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from convert.train.cli import main
from runtime.manifest import FER2013_LABELS, load_manifest
from tests.fer_csv import write_fer_csv

pytestmark = pytest.mark.slow
pytest.importorskip("tensorflow", reason="training needs TensorFlow (extra 'convert')")


@pytest.mark.parametrize(("arch", "side"), [("cnn", None), ("mobilenetv2", "32"), ("resnet", None), ("sepnet", None)])
def test_one_epoch_writes_a_model_with_its_manifest_and_resumes(tmp_path, arch, side, caplog):
    data = write_fer_csv(tmp_path / "fer.csv.gz", {"Training": 70, "PublicTest": 14, "PrivateTest": 14})
    run, out = tmp_path / "run", tmp_path / f"{arch}.keras"
    args = ["emotion", "--arch", arch, "--data", str(data), "--run-dir", str(run), "--out", str(out),
            "--epochs", "1", "--batch-size", "16", "--no-ferplus"]
    args += ["--input-side", side] if side else []
    assert main(["--threads", "2", *args]) == 0
    state = json.loads((run / "state.json").read_text())
    assert state["epoch"] == 1 and (run / "last.keras").is_file() and (run / "best.keras").is_file()
    assert 0 < state["history"][0]["seconds"] <= state["seconds"]  # each epoch's time: campaign_status's pace
    manifest = load_manifest(out)
    assert manifest.labels == FER2013_LABELS and manifest.format == "keras" and manifest.color == "gray"
    assert manifest.extra["architecture"] == arch
    assert 0.0 <= manifest.verification["privatetest"]["fer2013"]["accuracy"] <= 1.0
    mtime = (run / "last.keras").stat().st_mtime
    with caplog.at_level("INFO"):
        assert main(args) == 0
    assert "already finished" in caplog.text and (run / "last.keras").stat().st_mtime == mtime


@pytest.fixture(scope="module")
def one_epoch(tmp_path_factory):
    """A run folder holding one finished epoch of the cnn (copy it before changing it) and its arguments."""
    root = tmp_path_factory.mktemp("one_epoch")
    data = write_fer_csv(root / "fer.csv", {"Training": 35, "PublicTest": 7, "PrivateTest": 7})
    args = ["emotion", "--data", str(data), "--run-dir", str(root / "run"), "--epochs", "1", "--batch-size", "16",
            "--no-ferplus"]
    assert main(args) == 0
    return {"data": data, "run": root / "run", "args": args}


def _copy_run(one_epoch, tmp_path):
    """A copy of the fixture's run folder and the arguments that resume it."""
    run = tmp_path / "run"
    shutil.copytree(one_epoch["run"], run)
    args = list(one_epoch["args"])
    args[args.index("--run-dir") + 1] = str(run)
    return run, args


@pytest.mark.parametrize("damaged", ["state.json", "last.keras"])
def test_a_corrupt_run_folder_is_named(one_epoch, tmp_path, caplog, damaged):
    """A corrupt state.json gave a JSON error without the file's name, a corrupt last.keras Keras' 'File not
    found' although the file is there."""
    run, args = _copy_run(one_epoch, tmp_path)
    (run / damaged).write_bytes(b"{" if damaged == "state.json" else b"PK\x03\x04 not a zip")
    with caplog.at_level("ERROR"):
        assert main(args) == 2
    assert f"{run / damaged} is corrupt" in caplog.text and "delete the run folder" in caplog.text
    assert "not found" not in caplog.text


@pytest.mark.parametrize(("change", "said"), [
    (["--arch", "resnet"], "architecture 'cnn' (asked: 'resnet')"),
    (["--input-side", "40"], "input side 48 (asked: 40)"),
    (["--limit", "10"], "--limit None (asked: 10)"),
    (["--data", "{other}"], "data file"),
    (["--arch", "resnet", "--width", "16"], "width 32 (asked: 16)"),
])
def test_resuming_another_run_is_refused_naming_what_differs(one_epoch, tmp_path, caplog, change, said):
    """The FitConfig says none of these: the run folder used to be taken as finished, and --out got the cnn under a
    manifest saying resnet."""
    run, args = _copy_run(one_epoch, tmp_path)
    if "--width" in change:  # a resnet of width 32's folder, asked for width 16
        state = json.loads((run / "state.json").read_text())
        state["run"].update(architecture="resnet", width=32)
        (run / "state.json").write_text(json.dumps(state))
    other = write_fer_csv(tmp_path / "other.csv", {"Training": 30, "PublicTest": 7, "PrivateTest": 7}, seed=5)
    out = tmp_path / "b.keras"
    with caplog.at_level("ERROR"):
        assert main([*args, *[c.format(other=other) for c in change], "--out", str(out)]) == 2
    assert f"{run} holds another run" in caplog.text and said in caplog.text and not out.exists()


def test_a_run_folder_without_the_record_resumes_and_records_it(one_epoch, tmp_path, caplog):
    """A run folder of the fer-train before the record (the campaign's teachers'): resumed on its FitConfig, whose
    later fields it may lack too, and the record is written then, for the resumes after it."""
    run, args = _copy_run(one_epoch, tmp_path)
    state = json.loads((run / "state.json").read_text())
    record = state.pop("run")
    assert record == {"architecture": "cnn", "width": None, "input_side": 48, "limit": None,
                      "data": one_epoch["data"].name, "data_bytes": one_epoch["data"].stat().st_size}
    for later in ("erasing", "soft_labels", "soft_label_weight", "distill_offline"):  # FitConfig fields added later
        del state["config"][later]
    del state["machine"]
    (run / "state.json").write_text(json.dumps(state))
    with caplog.at_level("INFO"):
        assert main(args) == 0
    assert "already finished" in caplog.text and json.loads((run / "state.json").read_text())["run"] == record
    caplog.clear()
    with caplog.at_level("ERROR"):
        assert main([*args, "--arch", "resnet"]) == 2
    assert "holds another run: architecture 'cnn' (asked: 'resnet')" in caplog.text


def test_ctrl_c_stops_without_a_traceback_and_a_state_of_todays_format_resumes(tmp_path, caplog, monkeypatch):
    """Ctrl-C used to end in a TensorFlow traceback. The run folder it leaves, its state.json rewritten as the
    fer-train before the record wrote it (no record of what it trains, nor the later FitConfig fields or machine),
    resumes with the same command (the campaign's teachers' case) and gets the record."""
    from convert.train import loop

    data = write_fer_csv(tmp_path / "fer.csv", {"Training": 35, "PublicTest": 7, "PrivateTest": 7})
    run = tmp_path / "run"
    args = ["emotion", "--data", str(data), "--run-dir", str(run), "--epochs", "2", "--batch-size", "16",
            "--no-ferplus"]
    save_state = loop.save_state

    def ctrl_c_after_the_first_epoch(run_dir, state):
        save_state(run_dir, state)
        raise KeyboardInterrupt

    monkeypatch.setattr(loop, "save_state", ctrl_c_after_the_first_epoch)
    with caplog.at_level("INFO"):
        assert main(args) == 130
    assert (f"stopped (Ctrl-C) with 1 of 2 epochs saved in {run} (the epoch under way, if any, is lost); run the "
            "same command again to resume from epoch 2") in caplog.text
    monkeypatch.setattr(loop, "save_state", save_state)
    state = json.loads((run / "state.json").read_text())
    record = state.pop("run")
    for later in ("erasing", "soft_labels", "soft_label_weight", "distill_offline"):
        del state["config"][later]
    del state["machine"]
    (run / "state.json").write_text(json.dumps(state))
    caplog.clear()
    with caplog.at_level("INFO"):
        assert main(args) == 0
    assert f"resuming {run} at epoch 1" in caplog.text
    state = json.loads((run / "state.json").read_text())
    assert state["epoch"] == 2 and [h["epoch"] for h in state["history"]] == [1, 2] and state["run"] == record


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


@pytest.mark.parametrize("empty", ["PrivateTest", "PublicTest", "Training"])
def test_a_split_without_faces_is_refused_before_training(tmp_path, caplog, empty):
    """It used to train, then end in an UnboundLocalError traceback or a misleading 'best.keras not found'."""
    counts = {split: 0 if split == empty else 14 for split in ("Training", "PublicTest", "PrivateTest")}
    data = write_fer_csv(tmp_path / "fer.csv", counts)
    run = tmp_path / "run"
    with caplog.at_level("ERROR"):
        assert main(["emotion", "--data", str(data), "--run-dir", str(run), "--epochs", "1", "--batch-size", "16",
                     "--no-ferplus"]) == 2
    assert f"has no {empty} rows" in caplog.text and not run.exists()


VOTE_HEADER = "Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF\n"


@pytest.mark.parametrize("option", ["--ferplus", "--ferplus-votes"])
def test_a_ferplus_file_of_other_rows_is_refused_before_training(tmp_path, caplog, option):
    """A shorter FER+ label file ended in an IndexError traceback after training; a vote file covering the
    training rows but not the file's was used silently."""
    counts = {"Training": 35, "PublicTest": 7, "PrivateTest": 7}
    data = write_fer_csv(tmp_path / "fer.csv", counts)
    other = tmp_path / "other.csv"
    if option == "--ferplus":
        other.write_text("ferplus_majority\n" + "Happy\n" * 40)
    else:
        other.write_text(VOTE_HEADER + "Training,f.png,1,2,0,0,0,0,0,0,0,0\n" * 40)
    run = tmp_path / "run"
    with caplog.at_level("ERROR"):
        assert main(["emotion", "--data", str(data), "--run-dir", str(run), "--epochs", "1", "--batch-size", "16",
                     option, str(other)]) == 2
    assert f"{other} has 40 rows but {data} has 49" in caplog.text and not (run / "state.json").exists()


def test_random_erasing_replaces_one_rectangle_of_the_chosen_faces():
    import tensorflow as tf

    from convert.train.augment import random_erasing

    tf.random.set_seed(3)
    faces = tf.fill((64, 48, 48, 1), 100.0)
    erased = random_erasing(faces, probability=1.0).numpy()
    changed = erased[..., 0] != 100.0
    fractions = changed.mean(axis=(1, 2))
    assert (fractions > 0.01).all() and (fractions < 0.25).all()  # 2-20% of the face, noise may hit 100 exactly
    for mask in changed:  # one axis-aligned rectangle: rows and columns touched form one run each
        rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
        assert np.ptp(rows) + 1 == len(rows) and np.ptp(cols) + 1 == len(cols)
    assert erased.min() >= 0.0 and erased.max() <= 255.0
    assert np.array_equal(random_erasing(faces, probability=0.0).numpy(), faces.numpy())


def test_ferplus_votes_become_soft_targets(tmp_path):
    from convert.data.fer2013 import FaceSet, MalformedDataError, load_ferplus_votes
    from convert.train.emotion import training_targets

    votes = tmp_path / "fer2013new.csv"
    votes.write_text(VOTE_HEADER + "Training,a.png,6,4,0,0,0,0,0,0,0,0\n"  # neutral 6, happiness 4
                     + "Training,b.png,0,0,0,0,0,0,0,3,2,5\n")  # contempt, unknown, not a face
    faces = FaceSet(np.zeros((2, 48, 48), np.uint8), np.array([3, 0]), np.array([0, 1]))
    targets = training_targets(faces, votes, 0.5)
    np.testing.assert_allclose(targets[0], [0, 0, 0, 0.5 + 0.2, 0, 0, 0.3])  # Happy one-hot, votes 0.4 / 0.6
    np.testing.assert_allclose(targets[1], [1, 0, 0, 0, 0, 0, 0])  # no vote for the 7 classes: one-hot kept
    assert training_targets(faces, None, 0.5) is faces.labels
    (tmp_path / "bad.csv").write_text(VOTE_HEADER + "Training,a.png,6,x,0,0,0,0,0,0,0,0\n")
    with pytest.raises(MalformedDataError, match="line 2"):
        load_ferplus_votes(tmp_path / "bad.csv")
    (tmp_path / "short.csv").write_text(VOTE_HEADER.replace("fear,", ""))
    with pytest.raises(MalformedDataError, match="fear"):
        load_ferplus_votes(tmp_path / "short.csv")
    with pytest.raises(ValueError, match="has 2 rows"):
        training_targets(FaceSet(faces.images, faces.labels, np.array([0, 5])), votes, 0.5)


def test_a_run_with_erasing_and_ferplus_votes_records_them(tmp_path):
    counts = {"Training": 40, "PublicTest": 8, "PrivateTest": 8}
    data = write_fer_csv(tmp_path / "fer.csv", counts)
    rng = np.random.default_rng(0)
    votes = tmp_path / "fer2013new.csv"
    votes.write_text(VOTE_HEADER + "".join(f"x,f.png,{','.join(map(str, rng.integers(0, 5, 7)))},0,0,0\n"
                                           for _ in range(sum(counts.values()))))
    out = tmp_path / "m.keras"
    args = ["emotion", "--data", str(data), "--run-dir", str(tmp_path / "run"), "--out", str(out), "--epochs", "1",
            "--batch-size", "16", "--no-ferplus", "--erasing", "0.5", "--ferplus-votes", str(votes),
            "--ferplus-weight", "0.3"]
    assert main(args) == 0
    config = load_manifest(out).extra["training"]["config"]
    assert config["erasing"] == 0.5 and config["soft_labels"] == str(votes) and config["soft_label_weight"] == 0.3
    assert main([*args[:4], str(tmp_path / "r2"), *args[5:-1], "1.5"]) == 2

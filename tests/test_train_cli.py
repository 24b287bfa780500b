"""`fer-train`'s checks of its arguments, before any data is read or any model trained (no TensorFlow needed)."""

from __future__ import annotations

import os
import signal
import time

import pytest

from convert.train import emotion as emotion_trainer
from convert.train import expressiveness as expressiveness_trainer
from convert.train.cli import main


@pytest.fixture
def no_training(monkeypatch):
    """The trainers replaced by recorders: a check that lets bad arguments through trains nothing."""
    calls = []
    monkeypatch.setattr(emotion_trainer, "train_emotion", lambda *a, **k: calls.append(("emotion", a, k)))
    monkeypatch.setattr(expressiveness_trainer, "train_expressiveness", lambda *a, **k: calls.append(("exp", a, k)))
    monkeypatch.setattr("convert.train.activity.train_activity_head", lambda *a, **k: calls.append(("act", a, k)))
    return calls


@pytest.mark.parametrize(("option", "value"), [
    ("--epochs", "0"), ("--epochs", "-1"), ("--batch-size", "0"), ("--batch-size", "-4"), ("--limit", "-1"),
    ("--limit", "0"), ("--input-side", "-8"), ("--learning-rate", "0"), ("--learning-rate", "-0.1"),
    ("--learning-rate", "nan"), ("--epochs", "two"),
])
def test_emotion_refuses_numbers_out_of_range(tmp_path, no_training, capsys, option, value):
    with pytest.raises(SystemExit) as stop:
        main(["emotion", "--data", str(tmp_path / "fer.csv"), "--run-dir", str(tmp_path / "run"), option, value])
    assert stop.value.code == 2 and option in capsys.readouterr().err and not no_training


@pytest.mark.parametrize(("task", "option", "value"), [
    ("expressiveness", "--epochs", "0"), ("expressiveness", "--batch-size", "0"),
    ("expressiveness", "--learning-rate", "0"), ("expressiveness", "--frame-skip", "0"),
    ("expressiveness", "--max-frames", "0"), ("activity", "--frame-skip", "0"),
])
def test_the_video_trainers_refuse_numbers_out_of_range(tmp_path, no_training, capsys, task, option, value):
    where = ["--run-dir", str(tmp_path / "run")] if task == "expressiveness" else ["--out", str(tmp_path / "h.json")]
    with pytest.raises(SystemExit) as stop:
        main([task, "--metadata", str(tmp_path / "m.jsonl"), "--videos", str(tmp_path), *where, option, value])
    assert stop.value.code == 2 and option in capsys.readouterr().err and not no_training


def test_threads_may_be_zero_but_not_negative(tmp_path, no_training, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--threads", "-1", "emotion", "--data", str(tmp_path / "f.csv"), "--run-dir", str(tmp_path / "r")])
    assert stop.value.code == 2 and "--threads" in capsys.readouterr().err


@pytest.mark.parametrize("keyword", ["epochs", "batch_size", "learning_rate", "input_side", "limit"])
def test_train_emotion_refuses_zero_instead_of_taking_the_default(tmp_path, keyword):
    """0 used to mean 'the architecture's default' (``epochs or spec.epochs``): 40 epochs for --epochs 0."""
    with pytest.raises(ValueError, match=keyword.replace("_", "-")):
        emotion_trainer.train_emotion("cnn", tmp_path / "absent.csv", tmp_path / "run", None, **{keyword: 0})


def test_the_video_trainers_refuse_zero_before_reading_any_video(tmp_path):
    from convert.data.recruitview import SamplingOptions
    from convert.train.activity import train_activity_head

    with pytest.raises(ValueError, match="epochs"):  # no metadata file: it fails before reading it
        expressiveness_trainer.train_expressiveness_model(tmp_path / "absent.jsonl", tmp_path, tmp_path / "run",
                                                          None, None, SamplingOptions(), epochs=0)
    with pytest.raises(ValueError, match="frame_skip"):
        train_activity_head(tmp_path / "absent.jsonl", tmp_path, tmp_path / "h.json", frame_skip=0)


def _emotion(tmp_path, *extra):
    return ["emotion", "--data", str(tmp_path / "fer.csv"), "--run-dir", str(tmp_path / "run"), *extra]


@pytest.mark.parametrize(("extra", "said"), [
    (("--out", "{t}/a.onnx"), "must name a .keras or .h5 file"),
    (("--out", "{t}/folder.keras"), "is a folder"),
    (("--out", "{t}/a_file/m.keras"), "is a file, not a folder"),
    (("--run-dir", "{t}/a_file"), "is a file, not a run folder"),
    (("--log", "{t}/folder.keras"), "is a folder"),
])
def test_outputs_are_checked_before_any_work(tmp_path, no_training, caplog, extra, said):
    """Each used to fail only after training (--out), or with a traceback (--run-dir, --log)."""
    (tmp_path / "folder.keras").mkdir()
    (tmp_path / "a_file").write_text("x")
    option, value = extra
    args = [option, value.format(t=tmp_path)]
    argv = args + _emotion(tmp_path) if option == "--log" else _emotion(tmp_path, *args)
    with caplog.at_level("ERROR"):
        assert main(argv) == 2
    assert said in caplog.text and not no_training


def test_the_video_trainers_check_their_outputs_first(tmp_path, no_training, caplog):
    (tmp_path / "h.json").mkdir()
    videos = ["--metadata", str(tmp_path / "m.jsonl"), "--videos", str(tmp_path)]
    with caplog.at_level("ERROR"):
        run = ["--run-dir", str(tmp_path / "r")]
        assert main(["expressiveness", *videos, *run, "--out", str(tmp_path / "a.tflite")]) == 2
        assert main(["activity", *videos, "--out", str(tmp_path / "h.json")]) == 2
        assert main(["activity", *videos, "--out", str(tmp_path / "h.txt")]) == 2
    assert "must name a .keras or .h5 file" in caplog.text and "is a folder" in caplog.text
    assert "must name a .json file" in caplog.text and not no_training


def test_outputs_in_folders_still_to_be_made_are_accepted(tmp_path, no_training):
    out = tmp_path / "new" / "deeper" / "m.h5"
    assert main(["--log", str(tmp_path / "logs" / "t.log"), *_emotion(tmp_path, "--out", str(out))]) == 0
    assert len(no_training) == 1 and not out.parent.exists()


@pytest.mark.parametrize("task", ["emotion", "expressiveness"])
def test_without_tensorflow_the_keras_trainers_name_the_extra_up_front(tmp_path, no_training, caplog, monkeypatch,
                                                                       task):
    """The minimal install said only "No module named 'keras'" (expressiveness after decoding every video)."""
    import convert.train.cli as cli

    monkeypatch.setattr(cli, "find_spec", lambda name: None if name in ("tensorflow", "keras") else object())
    args = _emotion(tmp_path) if task == "emotion" else [
        "expressiveness", "--metadata", str(tmp_path / "m.jsonl"), "--videos", str(tmp_path), "--run-dir",
        str(tmp_path / "r")]
    with caplog.at_level("ERROR"):
        assert main(["--threads", "1", *args]) == 2
    assert "pip install 'fer-edge[convert]'" in caplog.text and not no_training


def test_the_activity_head_needs_no_tensorflow_even_with_threads(tmp_path, no_training, monkeypatch):
    import builtins

    import convert.train.cli as cli

    real_import = builtins.__import__

    def no_tensorflow(name, *args, **kwargs):
        if name.split(".")[0] in ("tensorflow", "keras"):
            raise ModuleNotFoundError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(cli, "find_spec", lambda name: None if name in ("tensorflow", "keras") else object())
    monkeypatch.setattr(builtins, "__import__", no_tensorflow)
    assert main(["--threads", "2", "activity", "--metadata", str(tmp_path / "m.jsonl"), "--videos", str(tmp_path),
                 "--out", str(tmp_path / "h.json")]) == 0
    assert len(no_training) == 1


@pytest.fixture
def shared_data(tmp_path, monkeypatch):
    """A shared data folder ($FER_EDGE_DATA) with its FER-2013 file and FER+ labels."""
    root = tmp_path / "shared"
    (root / "fer2013").mkdir(parents=True)
    (root / "fer2013" / "fer2013.csv.gz").write_bytes(b"")
    (root / "fer2013" / "ferplus_majority_labels.csv").write_text("ferplus_majority\n")
    monkeypatch.setenv("FER_EDGE_DATA", str(root))
    monkeypatch.delenv("FER2013_CSV", raising=False)
    return root / "fer2013"


@pytest.mark.parametrize(("extra", "expected"), [
    ([], "shared"),  # --data by default: the shared file, with the shared FER+ labels
    (["--data", "{shared}/fer2013.csv.gz"], "shared"),
    (["--data", "{t}/own.csv"], None),  # another file: the shared FER+ labels are not its rows'
    (["--data", "{t}/own.csv", "--ferplus", "{t}/own_ferplus.csv"], "own"),
    (["--no-ferplus"], None),
])
def test_the_shared_ferplus_labels_go_with_the_shared_data_only(tmp_path, shared_data, no_training, caplog, extra,
                                                                expected):
    """The shared FER+ file used to be applied to any --data file: a report on mismatched rows, or an IndexError."""
    args = [a.format(t=tmp_path, shared=shared_data) for a in extra]
    with caplog.at_level("INFO"):
        assert main(["emotion", "--run-dir", str(tmp_path / "run"), *args]) == 0
    ferplus = no_training[0][2]["ferplus"]
    wanted = {"shared": shared_data / "ferplus_majority_labels.csv", "own": tmp_path / "own_ferplus.csv"}
    assert ferplus == wanted.get(expected)
    if extra[:1] == ["--data"] and expected is None:
        assert "no FER+ labels" in caplog.text and "--ferplus FILE" in caplog.text


@pytest.mark.parametrize("task", ["emotion", "activity"])
def test_ctrl_c_before_any_epoch_says_so_without_a_traceback(tmp_path, monkeypatch, caplog, task):
    def ctrl_c(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(emotion_trainer, "train_emotion", ctrl_c)
    monkeypatch.setattr("convert.train.activity.train_activity_head", ctrl_c)
    args = _emotion(tmp_path) if task == "emotion" else [
        "activity", "--metadata", str(tmp_path / "m.jsonl"), "--videos", str(tmp_path),
        "--out", str(tmp_path / "h.json")]
    with caplog.at_level("ERROR"):
        assert main(args) == 130
    assert "stopped (Ctrl-C) before" in caplog.text and "run the same command again to start over" in caplog.text


@pytest.mark.parametrize(("sig", "how"), [(signal.SIGTERM, "SIGTERM"), (signal.SIGINT, "Ctrl-C")])
def test_a_real_signal_stops_with_a_note_and_its_exit_code(tmp_path, monkeypatch, caplog, sig, how):
    """SIGTERM (kill, a scheduler, the end of a session) ended fer-train without a word; it now stops as Ctrl-C does,
    says what the run folder holds, exits 143, and leaves the process's SIGTERM handler as it found it."""
    def signalled(*args, **kwargs):
        os.kill(os.getpid(), sig)
        time.sleep(5)  # the handler raises here
        raise AssertionError("the signal did not stop the run")

    monkeypatch.setattr(emotion_trainer, "train_emotion", signalled)
    handler = signal.getsignal(signal.SIGTERM)
    with caplog.at_level("ERROR"):
        assert main(_emotion(tmp_path)) == 128 + sig
    assert f"stopped ({how}) before a first epoch was saved" in caplog.text
    assert signal.getsignal(signal.SIGTERM) is handler

"""Which run folders a resume accepts (convert.train.loop.check_resume), without TensorFlow: the state.json of a run
started by an earlier fer-train, of another run, or corrupt."""

from __future__ import annotations

import json

import pytest

from convert.train.loop import RUN, FitConfig, check_resume

# the state.json that issue 11's teacher-cnn run wrote (fer-train of 2026-12-01): no record of what it trains, no
# machine, no per-epoch seconds; its FitConfig as written then
CAMPAIGN_STATE = {
    "config": {"weight_decay": 0.0001, "label_smoothing": 0.1, "warmup_epochs": 1, "augment": True, "seed": 1234,
               "class_weights": None, "init_from": None, "teachers": [], "distill_weight": 0.0,
               "distill_offline": False, "erasing": 0.5, "soft_labels": "/work/shared/data/fer2013/fer2013new.csv",
               "soft_label_weight": 0.5, "epochs": 150, "batch_size": 64, "learning_rate": 0.002},
    "epoch": 99, "best_val_accuracy": 0.66, "best_epoch": 79, "seconds": 31836.0,
    "history": [{"epoch": 99, "accuracy": 0.676, "loss": 1.128, "val_accuracy": 0.656, "val_loss": 1.149}],
}
# what scripts/train-default-model.sh teacher-cnn asks: --arch cnn --epochs 150 --erasing 0.5 --ferplus-votes
# --ferplus-weight 0.5 (the cnn's batch size and learning rate by default)
CAMPAIGN_CONFIG = FitConfig(epochs=150, batch_size=64, learning_rate=0.002, erasing=0.5,
                            soft_labels="/work/shared/data/fer2013/fer2013new.csv", soft_label_weight=0.5)
IDENTITY = {"architecture": "cnn", "width": None, "input_side": 48, "limit": None,
            "data": "/work/shared/data/fer2013/fer2013.csv.gz", "data_bytes": 93930393}


def _run_folder(tmp_path, state):
    run = tmp_path / "run"
    run.mkdir()
    (run / "state.json").write_text(json.dumps(state) if isinstance(state, dict) else state)
    (run / "last.keras").write_bytes(b"")  # not loaded by check_resume
    return run


def test_the_campaigns_run_folder_is_accepted_without_the_record(tmp_path):
    state = check_resume(_run_folder(tmp_path, CAMPAIGN_STATE), CAMPAIGN_CONFIG, IDENTITY)
    assert state is not None and state["epoch"] == 99 and RUN not in state


def test_a_state_of_an_earlier_fitconfig_is_accepted_with_its_defaults(tmp_path):
    old = json.loads(json.dumps(CAMPAIGN_STATE))
    for later in ("erasing", "soft_labels", "soft_label_weight", "distill_offline"):
        del old["config"][later]
    config = FitConfig(epochs=150, batch_size=64, learning_rate=0.002)
    assert check_resume(_run_folder(tmp_path, old), config, IDENTITY)["epoch"] == 99
    with pytest.raises(ValueError, match="another configuration"):  # a later field asked away from its default
        check_resume(tmp_path / "run", CAMPAIGN_CONFIG, IDENTITY)


def test_a_recorded_run_is_checked_and_what_differs_named(tmp_path):
    run = _run_folder(tmp_path, {**CAMPAIGN_STATE, RUN: IDENTITY})
    assert check_resume(run, CAMPAIGN_CONFIG, IDENTITY)[RUN] == IDENTITY
    with pytest.raises(ValueError, match=r"architecture 'cnn' \(asked: 'resnet'\), width None \(asked: 32\)"):
        check_resume(run, CAMPAIGN_CONFIG, {**IDENTITY, "architecture": "resnet", "width": 32})
    with pytest.raises(ValueError, match=r"data file size \(bytes\) 93930393 \(asked: 12\)"):
        check_resume(run, CAMPAIGN_CONFIG, {**IDENTITY, "data_bytes": 12})
    # a key recorded by no fer-train yet is not held against the run
    assert check_resume(run, CAMPAIGN_CONFIG, {**IDENTITY, "later_key": 1}) is not None


def test_no_state_or_no_last_model_is_a_fresh_run(tmp_path):
    assert check_resume(tmp_path / "absent", CAMPAIGN_CONFIG, IDENTITY) is None
    run = _run_folder(tmp_path, CAMPAIGN_STATE)
    (run / "last.keras").unlink()
    assert check_resume(run, CAMPAIGN_CONFIG, IDENTITY) is None


@pytest.mark.parametrize("text", ["{", "[]", '{"epoch": 3}', "\udcff"])
def test_a_corrupt_state_is_named(tmp_path, text):
    run = tmp_path / "run"
    run.mkdir()
    (run / "state.json").write_text(text, errors="surrogateescape")
    (run / "last.keras").write_bytes(b"")
    with pytest.raises(ValueError, match=f"{run / 'state.json'} is corrupt .*delete the run folder"):
        check_resume(run, CAMPAIGN_CONFIG, IDENTITY)


def test_another_configuration_is_named_by_what_differs(tmp_path):
    """The message named the whole stored configuration (16 fields), not the one asked away from it."""
    run = _run_folder(tmp_path, CAMPAIGN_STATE)
    asked = FitConfig(epochs=40, batch_size=64, learning_rate=0.002, erasing=0.5,
                      soft_labels="/work/shared/data/fer2013/fer2013new.csv", soft_label_weight=0.25)
    with pytest.raises(ValueError, match="another configuration") as exc:
        check_resume(run, asked, IDENTITY)
    message = str(exc.value)
    assert "--epochs 150 (asked: 40)" in message and "--ferplus-weight 0.5 (asked: 0.25)" in message
    assert "weight_decay" not in message and "another --run-dir" in message


@pytest.mark.parametrize("record", ["cnn", ["cnn"], None, 3])
def test_a_run_record_that_is_not_an_object_is_corrupt(tmp_path, record):
    """It was accepted (a string even matched keys as substrings) and training failed later with a TypeError."""
    run = _run_folder(tmp_path, {**CAMPAIGN_STATE, RUN: record})
    with pytest.raises(ValueError, match=f"{run / 'state.json'} is corrupt .*'run' record is not an object"):
        check_resume(run, CAMPAIGN_CONFIG, IDENTITY)


def test_finished_agrees_with_what_a_resume_would_do(tmp_path):
    """A state.json and best.keras without last.keras were taken as finished (so --distill-offline skipped the
    teachers) while fit started that folder over; a state.json holding a list raised AttributeError."""
    from convert.train.loop import finished

    run = _run_folder(tmp_path, {**CAMPAIGN_STATE, "epoch": 150})
    (run / "best.keras").write_bytes(b"")
    assert finished(run, 150) and not finished(run, 151)
    (run / "last.keras").unlink()
    assert check_resume(run, CAMPAIGN_CONFIG, IDENTITY) is None and not finished(run, 150)
    (run / "last.keras").write_bytes(b"")
    (run / "state.json").write_text("[]")
    assert not finished(run, 150)

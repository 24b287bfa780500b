"""scripts/campaign_status.py: the campaign's table, read from run folders and exported manifests alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runtime.manifest import Manifest, Normalization, save_manifest
from tests.scripts import load_script


def _run(runs: Path, name: str, epoch: int, epochs: int, seconds: float, history: list | None = None) -> Path:
    folder = runs / name
    folder.mkdir(parents=True)
    state = {"config": {"epochs": epochs}, "epoch": epoch, "best_val_accuracy": 0.6512, "best_epoch": epoch - 1,
             "seconds": seconds, "history": history or []}
    (folder / "state.json").write_text(json.dumps(state))
    return folder


def test_rows_show_progress_and_the_exported_models_accuracy(tmp_path, capsys):
    status = load_script("campaign_status")
    _run(tmp_path, "teacher", 61, 150, 61 * 300.0)
    _run(tmp_path, "student", 150, 150, 150 * 60.0)
    exported = tmp_path / "student.keras"
    exported.write_bytes(b"model")
    save_manifest(Manifest(task="emotion", labels=tuple("abcdefg"), input_size=(48, 48), color="gray",
                           normalization=Normalization(), format="keras", precision="fp32",
                           file={"name": exported.name, "sha256": "0" * 64, "bytes": 5},
                           verification={"privatetest": {"fer2013": {"accuracy": 0.7123},
                                                         "ferplus": {"accuracy": 0.8234}}}), exported)
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "state.json").write_text("{not json")  # a run killed while writing: left out
    (tmp_path / "notes.txt").write_text("not a run")
    assert status.main([str(tmp_path)]) == 0
    header, rule, student, teacher = capsys.readouterr().out.splitlines()
    assert header.startswith("| run | epochs |") and rule.startswith("|---|")
    assert student == "| student | 150 of 150 | 65.12% (epoch 149) | 2.5 | 1.0 | 0 | 71.23% | 82.34% |"
    # no epoch recorded its time (a run started before they did): the pace is the run's mean, 89 x 5 min left
    assert teacher == "| teacher | 61 of 150 (89 left) | 65.12% (epoch 60) | 5.1 | 5.0 | 7.4 | - | - |"


def test_the_pace_is_the_recent_epochs_not_the_whole_runs_mean(tmp_path, capsys):
    # slow early epochs (the cores were shared), then five at 3 min and one odd slow one: the median of the last 5
    history = ([{"epoch": e, "seconds": 600.0} for e in range(1, 5)]
               + [{"epoch": e, "seconds": 180.0} for e in range(5, 9)] + [{"epoch": 9, "seconds": 900.0}])
    _run(tmp_path, "teacher", 10, 110, 10 * 400.0, [{"epoch": 0}] + history)
    assert load_script("campaign_status").main([str(tmp_path)]) == 0
    row = capsys.readouterr().out.splitlines()[2]
    assert row == "| teacher | 10 of 110 (100 left) | 65.12% (epoch 9) | 1.1 | 3.0 | 5.0 | - | - |"


def test_a_missing_campaign_folder_is_named(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        load_script("campaign_status").main([str(tmp_path / "none")])
    assert stop.value.code == 2 and "no campaign folder at" in capsys.readouterr().err

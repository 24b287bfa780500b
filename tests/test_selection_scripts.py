"""The campaign's choices on PublicTest, the selection split: scripts/choose_teachers.py (which teachers the student
learns from) and scripts/better_on_publictest.py (whether a new emotion model replaces the shipped one)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fer_csv import write_fer_csv
from tests.scripts import load_script

pytestmark = pytest.mark.slow
pytest.importorskip("tensorflow", reason="reading Keras models needs TensorFlow (extra 'convert')")

@pytest.fixture(scope="module")
def two_models(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two untrained small CNNs with different weights (their PublicTest accuracies differ by chance)."""
    import keras

    from convert.train.models import build_cnn

    folder = tmp_path_factory.mktemp("models")
    paths = []
    for seed in (1, 2):
        keras.utils.set_random_seed(seed)
        path = folder / f"model{seed}.keras"
        build_cnn(7).save(path)
        paths.append(path)
    return paths[0], paths[1]


@pytest.fixture
def shared_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data root whose FER-2013 file has 70 PublicTest faces and no FER+ labels."""
    monkeypatch.setenv("FER_EDGE_DATA", str(tmp_path / "data"))
    monkeypatch.delenv("FER2013_CSV", raising=False)
    (tmp_path / "data" / "fer2013").mkdir(parents=True)
    return write_fer_csv(tmp_path / "data" / "fer2013" / "fer2013.csv",
                         {"Training": 7, "PublicTest": 70, "PrivateTest": 7})


def test_exit_code_and_record_follow_the_accuracies(two_models, tmp_path, shared_data):
    script = load_script("better_on_publictest")
    first, second = two_models
    codes = {}
    for candidate, current in ((first, second), (second, first)):
        record = tmp_path / f"{candidate.stem}.json"
        codes[candidate.stem] = script.main([str(candidate), str(current), "--record", str(record)])
        written = json.loads(record.read_text())
        assert written["better"] == (written["candidate"]["fer2013"] > written["current"]["fer2013"])
        assert codes[candidate.stem] == (0 if written["better"] else 1)
        assert written["candidate"]["file"] == str(candidate) and "ferplus" not in written["candidate"]
        assert written["on"].startswith("PublicTest, 70 faces")
    assert sorted(codes.values()) != [0, 0]  # the two cannot both be better than the other
    same = script.main([str(first), str(first), "--record", str(tmp_path / "same.json")])
    assert same == 1  # no better than itself: the shipped model stays


def test_a_missing_model_or_data_is_refused(two_models, tmp_path, monkeypatch, capsys):
    script = load_script("better_on_publictest")
    record = tmp_path / "r.json"
    assert script.main([str(tmp_path / "gone.keras"), str(two_models[0]), "--record", str(record)]) == 2
    assert "gone.keras" in capsys.readouterr().err and not record.exists()
    monkeypatch.setenv("FER_EDGE_DATA", str(tmp_path / "nothing"))
    monkeypatch.delenv("FER2013_CSV", raising=False)
    assert script.main([*map(str, two_models), "--record", str(record)]) == 2
    assert "no FER-2013 file" in capsys.readouterr().err and not record.exists()


def test_the_teachers_chosen_are_the_best_candidate_on_publictest(two_models, tmp_path, shared_data, capsys):
    script = load_script("choose_teachers")
    record = tmp_path / "choice.json"
    assert script.main([*map(str, two_models), "--student-run", str(tmp_path / "student"), "--record",
                        str(record)]) == 0
    chosen = capsys.readouterr().out.split()
    written = json.loads(record.read_text())
    assert written["chosen"] == chosen and len(written["candidates"]) == 3  # each alone, and both
    best = max(written["candidates"], key=lambda row: (row["fer2013"], len(row["teachers"])))
    assert best["teachers"] == chosen and written["on"].startswith("PublicTest, 70 faces")


def test_a_started_student_keeps_its_teachers(two_models, tmp_path, monkeypatch, capsys):
    """Every resume must ask for the same run: the teachers are read back from the student's state, and no data
    is needed for it."""
    monkeypatch.setenv("FER_EDGE_DATA", str(tmp_path / "nothing"))
    monkeypatch.delenv("FER2013_CSV", raising=False)
    student = tmp_path / "student"
    student.mkdir()
    (student / "state.json").write_text(json.dumps({"config": {"teachers": [str(two_models[1])]}, "epoch": 3}))
    script = load_script("choose_teachers")
    assert script.main([*map(str, two_models), "--student-run", str(student), "--record",
                        str(tmp_path / "r.json")]) == 0
    assert capsys.readouterr().out.split() == [str(two_models[1])] and not (tmp_path / "r.json").exists()


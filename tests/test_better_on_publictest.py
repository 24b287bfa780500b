"""scripts/better_on_publictest.py: whether a new emotion model reads PublicTest better than the shipped one."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from tests.fer_csv import write_fer_csv

pytestmark = pytest.mark.slow
pytest.importorskip("tensorflow", reason="reading Keras models needs TensorFlow (extra 'convert')")

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "better_on_publictest.py"


def _script():
    spec = importlib.util.spec_from_file_location("better_on_publictest", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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


def test_exit_code_and_record_follow_the_accuracies(two_models, tmp_path, monkeypatch):
    monkeypatch.setenv("FER_EDGE_DATA", str(tmp_path / "data"))
    monkeypatch.delenv("FER2013_CSV", raising=False)
    (tmp_path / "data" / "fer2013").mkdir(parents=True)
    write_fer_csv(tmp_path / "data" / "fer2013" / "fer2013.csv", {"Training": 7, "PublicTest": 70, "PrivateTest": 7})
    script = _script()
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
    script = _script()
    record = tmp_path / "r.json"
    assert script.main([str(tmp_path / "gone.keras"), str(two_models[0]), "--record", str(record)]) == 2
    assert "gone.keras" in capsys.readouterr().err and not record.exists()
    monkeypatch.setenv("FER_EDGE_DATA", str(tmp_path / "nothing"))
    monkeypatch.delenv("FER2013_CSV", raising=False)
    assert script.main([*map(str, two_models), "--record", str(record)]) == 2
    assert "no FER-2013 file" in capsys.readouterr().err and not record.exists()

"""The student's teachers are chosen on PublicTest: each teacher alone or all together, the best on the original
labels, the ensemble on a tie; a started student keeps the teachers it started with."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from convert.train.teachers import choose

REPO = Path(__file__).resolve().parents[1]


def _answers(labels: np.ndarray, right: np.ndarray, confidence: float = 0.6) -> np.ndarray:
    """Probabilities that put ``confidence`` on the true class where ``right``, else on the next class."""
    top = np.where(right, labels, (labels + 1) % 7)
    probabilities = np.full((len(labels), 7), (1 - confidence) / 6)
    probabilities[np.arange(len(labels)), top] = confidence
    return probabilities


def test_an_ensemble_worse_than_its_best_member_is_not_chosen():
    labels = np.arange(100) % 7
    strong = _answers(labels, np.arange(100) < 80, confidence=0.5)  # 80% right, never sure
    weak = _answers(labels, np.arange(100) >= 50, confidence=0.9)  # 50% right, sure when wrong too
    chosen, table = choose(["weak", "strong"], [weak, strong], labels)
    assert chosen == ["strong"]  # together they follow the sure one: right on 50-99 only
    assert [(row["teachers"], row["fer2013"]) for row in table] == [
        (["weak"], 0.5), (["strong"], 0.8), (["weak", "strong"], 0.5)]


def test_an_ensemble_as_good_as_its_best_member_is_chosen_and_ferplus_is_reported():
    labels = np.arange(70) % 7
    answers = _answers(labels, np.ones(70, bool))
    ferplus = np.where(np.arange(70) < 35, labels, -1)  # half the faces without a FER+ majority
    chosen, table = choose(["a", "b"], [answers, answers.copy()], labels, ferplus)
    assert chosen == ["a", "b"] and all(row["fer2013"] == row["ferplus"] == 1.0 for row in table)


def test_one_teacher_is_its_own_choice_and_a_mismatch_is_refused():
    labels = np.zeros(7, int)
    assert choose(["only"], [_answers(labels, np.ones(7, bool))], labels)[0] == ["only"]
    with pytest.raises(ValueError, match="2 teacher names for 1 sets of answers"):
        choose(["a", "b"], [np.zeros((7, 7))], labels)


def test_a_started_student_keeps_its_teachers_without_loading_anything(tmp_path):
    run = tmp_path / "student"
    run.mkdir()
    (run / "state.json").write_text(json.dumps({"config": {"teachers": ["/runs/teacher-resnet.keras"]}}))
    done = subprocess.run([sys.executable, "scripts/choose_teachers.py", "--student-run", str(run), "--record",
                           str(tmp_path / "choice.json"), "/missing/a.keras", "/missing/b.keras"],
                          capture_output=True, text=True, cwd=REPO, timeout=60)
    assert done.returncode == 0 and done.stdout.splitlines() == ["/runs/teacher-resnet.keras"]
    assert not (tmp_path / "choice.json").exists()
    fresh = subprocess.run([sys.executable, "scripts/choose_teachers.py", "--student-run", str(tmp_path / "new"),
                            "--record", str(tmp_path / "choice.json"), "/missing/a.keras"],
                           capture_output=True, text=True, cwd=REPO, timeout=60)
    assert fresh.returncode == 2 and fresh.stdout == "" and "teacher(s) not found: /missing/a.keras" in fresh.stderr

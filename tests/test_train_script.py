"""scripts/train-default-model.sh: the stages hand fer-train the recipe, in run folders under $FER_RUNS."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "train-default-model.sh"
# the fake python as scripts/choose_teachers.py: $CHOSEN's teachers (none for "-"), else all it is given
CHOOSER = ('case "$1" in *choose_teachers.py) shift; if [ "$CHOSEN" = - ]; then :; elif [ -n "$CHOSEN" ]; then\n'
           'echo "$CHOSEN"; else\n'
           'while [ $# -gt 0 ]; do case "$1" in --*) shift 2 ;; *) echo "$1"; shift ;; esac; done; fi ;; esac\n'
           # as scripts/better_on_publictest.py: exits $BETTER (0: the student is better)
           'case "$1" in *better_on_publictest.py) exit "${BETTER:-0}" ;; esac\n')


def _run(tmp_path: Path, *args: str, exit_code: int = 0, **env: str) -> subprocess.CompletedProcess:
    fake = tmp_path / "python"  # records its arguments instead of training, and exits with exit_code
    fake.write_text(f'#!/bin/sh\necho "$@" >> {tmp_path / "calls.txt"}\n{CHOOSER}exit {exit_code}\n')
    fake.chmod(0o755)
    environment = {**os.environ, "FER_RUNS": str(tmp_path / "runs"), "PYTHON": str(fake), "NICE": "0", "POLL": "0.1",
                   **env}
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, env=environment, timeout=60)


def _calls(tmp_path: Path) -> list[str]:
    return (tmp_path / "calls.txt").read_text().splitlines()


@pytest.mark.parametrize("args", [(), ("teacher",)])
def test_an_unknown_or_missing_stage_prints_the_usage(tmp_path, args):
    done = _run(tmp_path, *args)
    assert done.returncode == 2 and "usage:" in done.stderr and not (tmp_path / "calls.txt").exists()


def test_the_student_waits_for_both_teachers(tmp_path):
    done = _run(tmp_path, "student")
    assert done.returncode == 2 and "train the teacher-cnn stage first" in done.stderr
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "teacher-cnn.keras").write_bytes(b"")
    done = _run(tmp_path, "student")
    assert done.returncode == 2 and "train the teacher-resnet stage first" in done.stderr
    (tmp_path / "runs" / "teacher-resnet.keras").write_bytes(b"")
    assert _run(tmp_path, "student").returncode == 0
    choice, call = _calls(tmp_path)
    runs = tmp_path / "runs"
    assert choice == (f"scripts/choose_teachers.py --student-run {runs}/student --record {runs}/teacher-choice.json "
                      f"{runs}/teacher-cnn.keras {runs}/teacher-resnet.keras")
    assert f"--teacher {runs}/teacher-cnn.keras --teacher {runs}/teacher-resnet.keras" in call
    assert "--arch resnet --width 16 --epochs 150" in call and "--distill-offline" in call


def test_the_student_learns_from_the_teachers_chosen_and_none_when_the_choice_fails(tmp_path):
    runs = tmp_path / "runs"
    runs.mkdir()
    for teacher in ("teacher-cnn", "teacher-resnet"):
        (runs / f"{teacher}.keras").write_bytes(b"")
    assert _run(tmp_path, "student", CHOSEN=str(runs / "teacher-resnet.keras")).returncode == 0
    call = _calls(tmp_path)[-1]
    assert f"--teacher {runs}/teacher-resnet.keras --distill-weight" in call and "teacher-cnn" not in call
    (tmp_path / "calls.txt").unlink()
    failed = _run(tmp_path, "student", CHOSEN="-")  # the chooser printed nothing
    assert failed.returncode == 1 and "choosing the teachers failed" in failed.stderr
    assert len(_calls(tmp_path)) == 1  # the chooser only: no student run without its teachers
    stray = _run(tmp_path, "student", CHOSEN="a line that is no file")
    assert stray.returncode == 1 and "named a line that is no file, which is not a teacher file" in stray.stderr
    assert len(_calls(tmp_path)) == 2


def test_every_stage_uses_the_recipe_in_its_own_run_folder(tmp_path):
    for stage in ("interim", "teacher-cnn", "teacher-resnet"):
        assert _run(tmp_path, stage, THREADS="2").returncode == 0
    interim, cnn, resnet = _calls(tmp_path)
    for call, name in ((interim, "student-interim"), (cnn, "teacher-cnn"), (resnet, "teacher-resnet")):
        assert call.startswith("-m convert.train.cli --threads 2 ")
        assert "--erasing 0.5 --ferplus-votes --ferplus-weight 0.5" in call
        assert f"--run-dir {tmp_path}/runs/{name} --out {tmp_path}/runs/{name}.keras" in call
    assert "--arch cnn --epochs 150" in cnn and "--arch resnet --width 32 --epochs 150" in resnet
    assert "models/emotion_cnn.keras" in interim and "--distill-weight 0.4 --distill-offline" in interim
    out = tmp_path / "chosen.keras"
    assert _run(tmp_path, "interim", OUT=str(out)).returncode == 0
    assert _calls(tmp_path)[-1].endswith(f"--out {out}")


def test_ship_makes_the_finished_student_the_default_in_every_format(tmp_path):
    repo = SCRIPT.parents[1]
    runs = tmp_path / "runs"
    runs.mkdir()
    for teacher in ("teacher-cnn", "teacher-resnet"):
        (runs / f"{teacher}.keras").write_bytes(b"")
    done = _run(tmp_path, "ship", exit_code=1)  # the finished-check says no: nothing is exported or converted
    assert done.returncode == 2 and "the student stage has not finished its 150 epochs" in done.stderr
    assert len(_calls(tmp_path)) == 1
    (tmp_path / "calls.txt").unlink()
    assert _run(tmp_path, "ship").returncode == 0
    check, compare, choice, student, convert, card, golden = _calls(tmp_path)
    assert choice.startswith("scripts/choose_teachers.py --student-run")
    assert check.startswith("-c ") and check.endswith(f"{runs}/student 150")
    assert compare == (f"scripts/better_on_publictest.py {runs}/student/best.keras "
                       f"{repo}/models/emotion_resnet16.keras --record {runs}/ship-choice.json")
    assert f"--run-dir {runs}/student --out {repo}/models/emotion_resnet16.keras" in student
    assert "--epochs 150" in student and "--distill-offline" in student
    assert convert == f"-m convert.cli {repo}/models/emotion_resnet16.keras --all --out {repo}/models --threads 2 -q"
    assert card == f"-m convert.model_card {repo}/models --preamble {repo}/scripts/model_card_preamble.md"
    assert golden == f"{repo}/scripts/make_golden.py"


@pytest.mark.parametrize(("better", "code", "said"), [
    ("1", 3, "reads PublicTest no better than"), ("2", 1, "comparing the student with")])
def test_ship_keeps_the_default_when_the_student_is_no_better_on_publictest(tmp_path, better, code, said):
    """Issue 11 ships the best model reached so far: a student worse than the default it would replace is not
    shipped (FORCE=1 ships it anyway)."""
    runs = tmp_path / "runs"
    runs.mkdir()
    for teacher in ("teacher-cnn", "teacher-resnet"):
        (runs / f"{teacher}.keras").write_bytes(b"")
    done = _run(tmp_path, "ship", BETTER=better)
    assert done.returncode == code and said in done.stderr
    assert len(_calls(tmp_path)) == 2  # the finished-check and the comparison: nothing exported or converted
    (tmp_path / "calls.txt").unlink()
    assert _run(tmp_path, "ship", BETTER=better, FORCE="1").returncode == 0
    assert not any("better_on_publictest" in call for call in _calls(tmp_path)) and len(_calls(tmp_path)) == 6


def test_all_trains_both_teachers_side_by_side_then_the_student_on_both_threads(tmp_path):
    runs = tmp_path / "runs"
    runs.mkdir()
    refused = _run(tmp_path, "all", OUT=str(tmp_path / "one.keras"))  # three stages cannot share one file
    assert refused.returncode == 2 and "OUT names one stage's model" in refused.stderr
    assert _run(tmp_path, "all", exit_code=1).returncode == 1  # a failing teacher: the student does not start
    assert len(_calls(tmp_path)) == 2
    (tmp_path / "calls.txt").unlink()
    for teacher in ("teacher-cnn", "teacher-resnet"):
        (runs / f"{teacher}.keras").write_bytes(b"")
    assert _run(tmp_path, "all", THREADS="4").returncode == 0
    *teachers, choice, student = _calls(tmp_path)
    assert choice.startswith("scripts/choose_teachers.py")
    assert sorted(call.split("--run-dir ")[1].split()[0] for call in teachers) == [
        f"{runs}/teacher-cnn", f"{runs}/teacher-resnet"]
    assert all(call.startswith("-m convert.train.cli --threads 1 ") for call in teachers)
    assert student.startswith("-m convert.train.cli --threads 2 ") and f"--run-dir {runs}/student" in student


def test_search_trains_each_student_candidate_on_the_same_short_recipe(tmp_path):
    assert _run(tmp_path, "search", SEARCH_EPOCHS="3").returncode == 0
    resnet, sepnet = _calls(tmp_path)
    assert "--arch resnet --width 16 --epochs 3 --erasing 0.5" in resnet
    assert "--arch sepnet --width 48 --epochs 3 --erasing 0.5" in sepnet
    assert f"--run-dir {tmp_path}/runs/search-sepnet48-e3 --out {tmp_path}/runs/search-sepnet48-e3.keras" in sepnet
    assert not any("--teacher" in call for call in (resnet, sepnet))


def test_the_teacher_left_training_resumes_on_both_threads_when_the_other_ends(tmp_path):
    runs = tmp_path / "runs"
    runs.mkdir()
    for teacher in ("teacher-cnn", "teacher-resnet"):
        (runs / f"{teacher}.keras").write_bytes(b"")
    slow = tmp_path / "python"  # the CNN on one thread would train for 50 s; every other call ends at once
    slow.write_text(f'#!/bin/sh\necho "$@" >> {tmp_path / "calls.txt"}\n'
                    'case "$*" in *"--threads 1 "*teacher-cnn*) sleep 50 ;; esac\n' + CHOOSER)
    slow.chmod(0o755)
    environment = {**os.environ, "FER_RUNS": str(runs), "PYTHON": str(slow), "NICE": "0", "POLL": "0.1"}
    done = subprocess.run(["bash", str(SCRIPT), "all"], capture_output=True, text=True, env=environment, timeout=40)
    assert done.returncode == 0 and "teacher-cnn goes on with 2 threads" in done.stderr
    calls = _calls(tmp_path)
    calls = [call for call in calls if not call.startswith("scripts/choose_teachers.py")]
    assert [call.split("--threads ")[1].split()[0] for call in calls] == ["1", "1", "2", "2"]
    assert f"--run-dir {runs}/teacher-cnn" in calls[2] and f"--run-dir {runs}/student" in calls[3]
    assert {call.split("--run-dir ")[1].split()[0] for call in calls[:2]} == {f"{runs}/teacher-cnn",
                                                                              f"{runs}/teacher-resnet"}

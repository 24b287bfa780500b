"""fer-batch on the local engine: reports in fer-analyze's schema, the summary table, failures reported and
skipped, crashed workers, resuming after a kill, and what is refused before any work."""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import functools
import importlib.util
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from runtime.analyzer import AnalyzerOptions
from runtime.batch import VideoSettings, analyze_many, stopping
from runtime.batch import results as batch_results
from runtime.batch.cli import main as batch_main
from runtime.batch.local import LocalEngine
from runtime.batch.results import BATCH_KEY, fingerprint, page_path
from runtime.batch.runner import _Progress, plan_workers
from runtime.batch.worker import open_analyzer
from runtime.cli import main as analyze_main
from runtime.outputs import staging_path
from tests.batch_helpers import REPO, broken_factory, corrupt_video, crash_batch, face_video, video_set

KILL_WAIT_S = 120  # the longest the killed run may take to write its first report (spawn, models, one video)
ORPHAN_WAIT_S = 10  # workers check every second (runtime.batch.local.DRIVER_CHECK_S) that the driver is there


def _group(pgid: int) -> list[int]:
    """The processes of a process group (Linux /proc; [] elsewhere)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            if int(stat.read_text().rpartition(")")[2].split()[2]) == pgid:
                members.append(int(stat.parent.name))
    return members


def _without_batch(path: Path) -> dict:
    document = json.loads(path.read_text())
    document.pop(BATCH_KEY)
    return document


def _summary(out: Path) -> dict[str, dict[str, str]]:
    with open(out / "summary.csv", newline="") as handle:
        return {Path(row["path"]).name: row for row in csv.DictReader(handle)}


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    """Three face videos, one without a face, a corrupt one and a missing one, with a carried column."""
    videos = [*video_set(tmp_path / "in"), corrupt_video(tmp_path / "in" / "corrupt.mp4"),
              tmp_path / "in" / "missing.mp4"]
    path = tmp_path / "in" / "interviews.csv"
    path.write_text("path,candidate\n" + "".join(f"{v.name},c{i}\n" for i, v in enumerate(videos)))
    return path


def test_reports_match_fer_analyze_and_failures_are_rows(manifest, tmp_path):
    out = tmp_path / "out"
    summary = analyze_many(manifest, out, workers=2, threads=1)
    status = {Path(row.path).name: row.status for row in summary.rows}
    assert status == {"face0.avi": "done", "face1.avi": "done", "face2.avi": "done", "blank.avi": "done",
                      "corrupt.mp4": "failed", "missing.mp4": "failed"}
    rows = _summary(out)
    assert "not a readable video source" in rows["corrupt.mp4"]["error"]
    assert "video not found" in rows["missing.mp4"]["error"]
    assert rows["face1.avi"]["candidate"] == "c1" and rows["missing.mp4"]["candidate"] == "c5"
    assert rows["face1.avi"]["frames_analyzed"] == "9" and rows["blank.avi"]["frames_without_face"] == "8"
    assert float(rows["face0.avi"]["share_" + rows["face0.avi"]["dominant_emotion"]]) > 0
    assert not (out / "corrupt.mp4.json").exists()
    # the same document as fer-analyze --json writes for that video, plus the batch record
    video = manifest.parent / "face1.avi"
    assert analyze_main([str(video.resolve()), "--json", str(tmp_path / "one.json"), "--no-progress"]) == 0
    assert _without_batch(out / "face1.avi.json") == json.loads((tmp_path / "one.json").read_text())
    record = json.loads((out / "face1.avi.json").read_text())[BATCH_KEY]
    assert record["input"]["size"] == video.stat().st_size and record["carried"] == {"candidate": "c1"}
    assert (out / "summary.parquet").exists() == (importlib.util.find_spec("pyarrow") is not None)
    if (out / "summary.parquet").exists():
        import pyarrow.parquet as pq

        assert pq.read_table(out / "summary.parquet").num_rows == 6


def test_rerun_skips_complete_reports_and_redoes_changed_ones(tmp_path):
    videos = video_set(tmp_path / "in", faces=2)
    out = tmp_path / "out"
    analyze_many(tmp_path / "in", out, workers=2)
    reports = {v.name: out / f"{v.name}.json" for v in videos}
    before = {name: path.stat().st_mtime_ns for name, path in reports.items()}

    (reports["face1.avi"]).write_text('{"schema": "fer-edge/analysis/1", "video": {')  # damaged by hand
    face_video(videos[0], 12)  # the video changed: new size and mtime
    again = analyze_many(tmp_path / "in", out, workers=2)
    assert {Path(r.path).name: r.status for r in again.rows} == {
        "blank.avi": "skipped", "face0.avi": "done", "face1.avi": "done"}
    assert reports["blank.avi"].stat().st_mtime_ns == before["blank.avi"]
    assert next(r for r in again.rows if r.status == "skipped").frames_analyzed == 8  # read back from its report

    other = analyze_many(tmp_path / "in", out, workers=2, settings=VideoSettings(frame_skip=2))
    assert {r.status for r in other.rows} == {"done"}  # other settings: other results
    forced = analyze_many(tmp_path / "in", out, workers=2, settings=VideoSettings(frame_skip=2), force=True)
    assert {r.status for r in forced.rows} == {"done"}


def test_a_newer_analysis_redoes_the_reports_of_an_older_one(tmp_path, monkeypatch):
    """A fix that changes results (the follower, the tracking interval) must redo the reports made before it:
    the fingerprint holds the analysis's RESULTS_VERSION."""
    video_set(tmp_path / "in", faces=1)
    out = tmp_path / "out"
    analyze_many(tmp_path / "in", out, workers=1)
    assert {r.status for r in analyze_many(tmp_path / "in", out, workers=1).rows} == {"skipped"}
    monkeypatch.setattr(batch_results, "RESULTS_VERSION", batch_results.RESULTS_VERSION + 1)
    assert {r.status for r in analyze_many(tmp_path / "in", out, workers=1).rows} == {"done"}


def test_a_crashed_worker_fails_its_video_only(tmp_path):
    rows = crash_batch(tmp_path, LocalEngine)
    assert rows.pop("crash.avi").error.startswith("WorkerCrashed: the worker process died")
    assert len(rows) == 3 and {row.status for row in rows.values()} == {"done"}


def test_workers_that_cannot_start_stop_the_batch_with_one_error(tmp_path):
    video_set(tmp_path / "in", faces=1)
    with pytest.raises(RuntimeError, match="worker processes die as they start"):
        analyze_many(tmp_path / "in", tmp_path / "out", engine=LocalEngine(broken_factory(), VideoSettings(), 2))


@pytest.mark.parametrize(("kill", "code"), [(signal.SIGKILL, -signal.SIGKILL), (signal.SIGTERM, 128 + signal.SIGTERM)],
                         ids=["sigkill", "sigterm"])
def test_a_killed_batch_resumes_without_redoing_finished_videos(tmp_path, kill, code):
    (tmp_path / "in").mkdir()
    videos = [face_video(tmp_path / "in" / f"v{i}.avi", 60) for i in range(5)]
    out = tmp_path / "out"
    command = [sys.executable, "-m", "runtime.batch.cli", str(tmp_path / "in"), "--out", str(out),
               "--workers", "1", "--no-progress"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    run = subprocess.Popen(command, env=env, start_new_session=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + KILL_WAIT_S
    try:
        while not list(out.glob("*.json")) and time.monotonic() < deadline and run.poll() is None:
            time.sleep(0.02)
        os.kill(run.pid, kill)  # the driver alone: its workers must go too
        returned = run.wait()
        deadline = time.monotonic() + ORPHAN_WAIT_S
        while _group(run.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        orphans = _group(run.pid)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(run.pid, signal.SIGKILL)
    assert not orphans, f"worker processes outlived the killed driver: {orphans}"
    assert returned == code
    finished = {p: p.stat().st_mtime_ns for p in out.glob("*.json")}
    assert finished, "the killed run wrote no report"
    if len(finished) == len(videos):
        pytest.skip("the run finished before it could be killed")
    assert not (out / "summary.csv").exists()
    for report in finished:
        json.loads(report.read_text())  # whole reports only, never half of one

    assert batch_main([str(tmp_path / "in"), "--out", str(out), "--workers", "1", "--no-progress"]) == 0
    assert {p: p.stat().st_mtime_ns for p in finished} == finished
    rows = _summary(out)
    assert len(rows) == len(videos) and not list(out.glob(".*.tmp"))
    assert {rows[p.name.removesuffix(".json")]["status"] for p in finished} == {"skipped"}
    assert sum(row["status"] == "done" for row in rows.values()) == len(videos) - len(finished)


def test_bad_models_and_options_are_refused_before_any_work(tmp_path, caplog):
    video_set(tmp_path / "in", faces=1)
    with pytest.raises(FileNotFoundError, match="model file not found"):
        analyze_many(tmp_path / "in", tmp_path / "out", options=AnalyzerOptions(emotion_model=tmp_path / "x.tflite"))
    assert not list((tmp_path / "out").glob("*.json"))
    assert batch_main([str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--frame-skip", "0"]) == 2
    assert "frame_skip must be a whole number" in caplog.text
    assert batch_main([str(tmp_path / "nowhere"), "--out", str(tmp_path / "out")]) == 2
    with pytest.raises(ValueError, match="engine must be one of"):
        analyze_many(tmp_path / "in", tmp_path / "out", engine="spark")


def test_ray_engine_without_ray_names_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "ray", None)
    video_set(tmp_path / "in", faces=1)
    with pytest.raises(ImportError, match=r"pip install 'fer-edge\[ray\]'"):
        analyze_many(tmp_path / "in", tmp_path / "out", engine="ray")


def test_workers_times_threads_fit_the_cores(caplog):
    assert plan_workers(None, None, cores=2) == (2, 1)
    assert plan_workers(1, None, cores=2) == (1, 2)
    assert plan_workers(3, None, cores=8) == (3, 2)
    assert plan_workers(2, 2, cores=2) == (2, 2) and "oversubscribe" in caplog.text
    with pytest.raises(ValueError, match="workers must be"):
        plan_workers(0, None, cores=2)


def test_progress_without_a_terminal_is_log_lines(caplog):
    caplog.set_level(logging.INFO, logger="runtime.batch")
    with _Progress(3, enabled=True) as progress:  # pytest's stderr is not a terminal: no tqdm bar
        for failed in (False, True, False):
            progress.update(failed)
    assert progress.bar is None
    assert "3/3 videos, 1 failed, about 0 s left" in caplog.text


def test_without_the_batch_extra_the_summary_is_csv_only(monkeypatch, tmp_path):
    for name in ("pyarrow", "pyarrow.parquet", "tqdm", "ray"):
        monkeypatch.setitem(sys.modules, name, None)  # the minimal install: none of them importable
    video_set(tmp_path / "in", faces=1)
    summary = analyze_many(tmp_path / "in", tmp_path / "out", workers=1, progress=True)
    assert [path.name for path in summary.files] == ["summary.csv"] and summary.failed == 0


def test_a_stop_request_is_carried_out_while_a_video_is_still_running(tmp_path):
    """A signal only asks (runtime.batch.stopping): the engine stops at its next check, not after the video."""
    long_video = face_video(tmp_path / "long.avi", 600)
    engine = LocalEngine(functools.partial(open_analyzer, AnalyzerOptions(), 1), VideoSettings(), workers=1)
    timer = threading.Timer(0.5, stopping.request, (128 + signal.SIGTERM,))
    started = time.monotonic()
    timer.start()
    try:
        with pytest.raises(SystemExit) as stop:
            list(engine.run([(0, str(long_video))]))
    finally:
        timer.cancel()
    assert stop.value.code == 128 + signal.SIGTERM
    assert time.monotonic() - started < 60
    stopping.check()  # the request was used up: nothing left to raise


def test_report_pages_beside_the_reports_and_resumed_like_them(tmp_path):
    videos = video_set(tmp_path / "in", faces=2)
    out = tmp_path / "out"
    settings = VideoSettings(html=True)
    first = analyze_many(tmp_path / "in", out, workers=2, settings=settings)
    pages = {v.name: page_path(out / f"{v.name}.json") for v in videos}
    assert {r.status for r in first.rows} == {"done"}
    for name, page in pages.items():
        text = page.read_text(encoding="utf-8")
        assert text.lstrip().lower().startswith("<!doctype html") and "http://" not in text, name
    assert "no face" in pages["blank.avi"].read_text(encoding="utf-8").lower()

    pages["face0.avi"].unlink()  # a report without its page is unfinished when pages are asked for
    again = analyze_many(tmp_path / "in", out, workers=2, settings=settings)
    assert {Path(r.path).name: r.status for r in again.rows} == {
        "blank.avi": "skipped", "face0.avi": "done", "face1.avi": "skipped"}
    assert pages["face0.avi"].is_file()
    plain = analyze_many(tmp_path / "in", out, workers=2)  # the page changes no result: the reports still hold
    assert {r.status for r in plain.rows} == {"skipped"}


def test_the_fingerprint_holds_every_option_that_changes_an_answer(tmp_path):
    covered = set(fingerprint(AnalyzerOptions(), VideoSettings()))
    in_model_identities = {"emotion_model", "expressiveness_model", "detector"}
    no_answer = {"threads", "gpu_delegate", "verify_model_hash"}  # speed and checks only
    missing = {f.name for f in dataclasses.fields(AnalyzerOptions)} - covered - in_model_identities - no_answer
    assert not missing, f"AnalyzerOptions fields that change results but not the batch fingerprint: {missing}"
    assert "html" not in covered

    video_set(tmp_path / "in", faces=1)
    out = tmp_path / "out"
    analyze_many(tmp_path / "in", out, workers=1)
    other = analyze_many(tmp_path / "in", out, workers=1, options=AnalyzerOptions(expressiveness="emotion-intensity"))
    assert {r.status for r in other.rows} == {"done"}


def test_report_pages_without_the_extra_are_refused_before_any_work(tmp_path, monkeypatch, caplog):
    video_set(tmp_path / "in", faces=1)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"fer-edge\[report\]"):
        analyze_many(tmp_path / "in", tmp_path / "out", workers=1, settings=VideoSettings(html=True))
    assert batch_main([str(tmp_path / "in"), "--out", str(tmp_path / "out2"), "--html", "--no-progress"]) == 2
    assert "fer-edge[report]" in caplog.text and not list((tmp_path / "out2").glob("*.json"))


def test_a_rerun_removes_its_own_leftovers_only(tmp_path):
    video_set(tmp_path / "in", faces=1)
    out = tmp_path / "out"
    (out / "day2").mkdir(parents=True)
    leftovers = [staging_path(out / "face0.avi.json"), staging_path(out / "day2" / "b.avi.html"),
                 staging_path(out / "summary.csv"), out / ".summary.parquet.tmp"]  # what a killed run leaves
    others = [out / ".notes.tmp", out / "day2" / ".notes.tmp", staging_path(out / "notes.txt")]
    for path in leftovers + others:
        path.write_text("x")
    analyze_many(tmp_path / "in", out, workers=1)
    assert [path for path in leftovers if path.exists()] == []
    assert [path for path in others if path.exists()] == others

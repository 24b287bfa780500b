"""Ctrl-C and SIGTERM during fer-analyze: the outputs are written with what was analyzed, marked incomplete; a
second signal stops at once. The signals are real (sent to this process at a chosen frame), so the order is fixed."""

from __future__ import annotations

import json
import os
import signal

import cv2
import pytest

import runtime.cli
from runtime.cli import main
from runtime.stop_signal import StopOnSignal
from tests.test_cli_outputs import SAMPLE
from tests.videos import write_video

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def model(converted) -> str:
    return str(converted / "tiny_int8.tflite")


def _signal_at(monkeypatch, name: str, call: int, *signals: int) -> None:
    """Sends ``signals`` to this process during the ``call``-th call of runtime.cli's ``name``."""
    real, calls = getattr(runtime.cli, name), []

    def wrapper(*args, **kwargs):
        calls.append(1)
        if len(calls) == call:
            for sig in signals:
                os.kill(os.getpid(), sig)
        return real(*args, **kwargs)

    monkeypatch.setattr(runtime.cli, name, wrapper)


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_stopped_video_writes_the_frames_it_analyzed(model, tmp_path, monkeypatch, sig, code):
    video = write_video(tmp_path / "long.avi", 40, fps=10.0)
    report, timeline = tmp_path / "r.json", tmp_path / "t.csv"
    _signal_at(monkeypatch, "draw_faces", 3, sig)  # while the third frame is drawn into the annotated video
    args = [str(video), "--model", model, "--json", str(report), "--csv", str(timeline),
            "--annotate", str(tmp_path / "a.avi"), "--no-progress"]
    assert main(args) == code
    result = json.loads(report.read_text())["video"]
    name = signal.Signals(sig).name
    assert result["frames_analyzed"] == 3 and result["complete"] is False
    assert result["warnings"] == [f"stopped by {name} after 3 analyzed frames"]
    assert len(timeline.read_text().splitlines()) == 1 + 3
    assert cv2.VideoCapture(str(tmp_path / "a.avi")).get(cv2.CAP_PROP_FRAME_COUNT) == 3
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the handlers are given back


def test_a_second_signal_stops_at_once_and_writes_nothing(model, tmp_path, monkeypatch, caplog):
    video = write_video(tmp_path / "long.avi", 40, fps=10.0)
    _signal_at(monkeypatch, "draw_faces", 3, signal.SIGINT, signal.SIGINT)
    with caplog.at_level("ERROR"):
        assert main([str(video), "--model", model, "--json", str(tmp_path / "r.json"),
                     "--annotate", str(tmp_path / "a.avi")]) == 130
    assert "interrupted: no output written" in caplog.text and not (tmp_path / "r.json").exists()


def test_a_stopped_folder_lists_the_images_it_did_not_reach(model, tmp_path, monkeypatch):
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in "abcd":
        (folder / f"{name}.jpg").write_bytes(SAMPLE.read_bytes())
    report = tmp_path / "r.json"
    _signal_at(monkeypatch, "read_image", 2, signal.SIGINT)  # while b.jpg is read: b is analyzed, c and d are not
    assert main([str(folder), "--model", model, "--json", str(report)]) == 130
    result = json.loads(report.read_text())
    assert sorted(os.path.basename(p) for p in result["images"]) == ["a.jpg", "b.jpg"]
    assert {os.path.basename(p): why for p, why in result["skipped"].items()} == {
        "c.jpg": "not analyzed: stopped by SIGINT", "d.jpg": "not analyzed: stopped by SIGINT"}


def test_outside_the_main_thread_signals_are_left_alone():
    import threading

    seen = []

    def work() -> None:  # signal.signal raises ValueError outside the main thread
        with StopOnSignal() as stopper:
            seen.append((signal.getsignal(signal.SIGINT), stopper.reason(), stopper.exit_code))

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert seen == [(signal.default_int_handler, None, 0)]

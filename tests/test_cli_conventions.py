"""fer-analyze behaves like a good command-line tool: --version, -q/-v, exit codes, quiet engines."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from runtime import __version__
from runtime.analyzer import AnalyzerOptions
from runtime.cli import main
from tests.videos import write_video

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "samples" / "astronaut.jpg"
XNNPACK_LINE = "Created TensorFlow Lite XNNPACK delegate"


def _environment() -> dict[str, str]:
    """A child's environment without the FFmpeg log level that an in-process main() of another test left."""
    return {**{k: v for k, v in os.environ.items() if k != "OPENCV_FFMPEG_LOGLEVEL"}, "PYTHONPATH": str(REPO)}


def _run(*args: str) -> subprocess.CompletedProcess:
    env = _environment()
    return subprocess.run([sys.executable, "-m", "runtime.cli", *args], capture_output=True, text=True, env=env,
                          cwd=REPO, timeout=120)


def test_version(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == f"fer-analyze {__version__}"
    assert __version__[0].isdigit()


def test_no_input_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as stop:
        main([])
    assert stop.value.code == 2 and "input is required" in capsys.readouterr().err


def test_quiet_and_verbose_exclude_each_other(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["-q", "-v", str(SAMPLE)])
    assert stop.value.code == 2 and "not allowed with" in capsys.readouterr().err


def test_default_run_prints_our_output_only():
    done = _run(str(SAMPLE))
    assert done.returncode == 0, done.stderr
    assert "astronaut.jpg: 1 face(s)" in done.stdout
    assert XNNPACK_LINE not in done.stderr + done.stdout and done.stderr == ""


def test_verbose_shows_the_engine_lines_as_log_records():
    done = _run("-v", str(SAMPLE))
    assert done.returncode == 0, done.stderr
    assert f"INFO runtime.backends.tflite: {XNNPACK_LINE}" in done.stderr


def test_quiet_prints_nothing_but_still_writes_and_fails_loudly(tmp_path):
    out = tmp_path / "r.json"
    done = _run("-q", str(SAMPLE), "--json", str(out))
    assert done.returncode == 0 and done.stdout == "" and done.stderr == ""
    assert out.is_file()
    failed = _run("-q", str(tmp_path / "missing.jpg"))
    assert failed.returncode == 2 and "input not found" in failed.stderr and failed.stdout == ""


def test_threads_reach_every_model_and_a_count_below_1_is_refused(caplog):
    from runtime.cli import _parser, analyzer_options

    options = analyzer_options(_parser().parse_args([str(SAMPLE), "--threads", "2"]))
    assert options.threads == 2 and options.detector.threads == 2  # the landmarks run on the detector's threads
    assert analyzer_options(_parser().parse_args([str(SAMPLE)])).detector.threads == 1
    for bad in ("0", "-1"):
        with caplog.at_level("ERROR"):
            assert main([str(SAMPLE), "--threads", bad]) == 2
        assert "threads must be" in caplog.text and f"got {bad}" in caplog.text
    with pytest.raises(ValueError, match="threads must be a whole number >= 1 or None, got 0"):
        AnalyzerOptions(threads=0)  # the ONNX engine took 0 and -1 silently


def test_a_damaged_video_prints_our_warning_not_ffmpegs_lines_unless_verbose(tmp_path):
    image = np.random.default_rng(0).integers(0, 255, (96, 128, 3), dtype=np.uint8)  # noise: many coded bytes
    video = write_video(tmp_path / "damaged.mp4", 30, image=image, fps=30.0)
    data = bytearray(video.read_bytes())
    data[len(data) // 3: len(data) // 3 + len(data) // 10] = bytes(len(data) // 10)
    video.write_bytes(bytes(data))
    engine_lines = lambda text: [line for line in text.splitlines() if " @ 0x" in line]  # "[mpeg4 @ 0x55...] ..."
    assert engine_lines(_run("-v", str(video), "--max-frames", "20").stderr), "the damage made FFmpeg say nothing"
    quiet, default = _run("-q", str(video), "--max-frames", "20"), _run(str(video), "--max-frames", "20")
    assert quiet.returncode == default.returncode == 0 and quiet.stderr == ""
    assert not engine_lines(default.stderr)


@pytest.mark.parametrize("args", [("--list-models",), (str(SAMPLE), "--json", "-")])
def test_a_reader_that_goes_away_ends_the_run_quietly(args):
    process = subprocess.Popen([sys.executable, "-m", "runtime.cli", *args], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=_environment(), cwd=REPO)
    process.stdout.close()  # before it writes anything: its first write meets a pipe without a reader
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=120) == 141 and "Traceback" not in stderr and "Broken pipe" not in stderr, stderr

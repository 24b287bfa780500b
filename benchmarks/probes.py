"""Measurements that need a fresh interpreter, run as ``python -m benchmarks.probes <probe> [args]``.

Each probe prints one line, ``MARKER`` and a JSON object, on stdout (native libraries may print there too).
Only the standard library is imported before the timed imports.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

MARKER = "fer-edge-probe: "


def import_time() -> dict[str, Any]:
    """Seconds to ``import runtime`` (lazy: cheap) and then ``runtime.analyzer`` (the heavy modules)."""
    start = time.perf_counter()
    import runtime

    light = time.perf_counter()
    import runtime.analyzer  # noqa: F401

    heavy = time.perf_counter()
    return {"import_runtime_s": light - start, "import_analyzer_s": heavy - light,
            "tensorflow_loaded": "tensorflow" in sys.modules}


def cold_start(model: str, image: str) -> dict[str, Any]:
    """From nothing to the first answer: import, build an Analyzer (1 thread), analyze one frame twice."""
    start = time.perf_counter()
    from runtime.analyzer import Analyzer, AnalyzerOptions

    imported = time.perf_counter()
    import cv2

    frame = cv2.imread(image)
    if frame is None:
        raise SystemExit(f"cannot read {image}")
    loaded = time.perf_counter()
    analyzer = Analyzer(AnalyzerOptions(emotion_model=model, threads=1))
    built = time.perf_counter()
    faces = analyzer.analyze(frame)
    first = time.perf_counter()
    analyzer.analyze(frame)
    second = time.perf_counter()
    return {"import_s": imported - start, "construct_s": built - loaded, "first_frame_s": first - built,
            "second_frame_s": second - first, "cold_start_s": (imported - start) + (first - loaded),
            "faces": len(faces), "tensorflow_loaded": "tensorflow" in sys.modules}


def peak_rss_bytes() -> int | None:
    """The kernel's high-water mark of this process's resident memory (Linux ``VmHWM``), None elsewhere.

    Not ``ru_maxrss``: Linux carries that over from the parent across fork and exec, so a probe started from a
    large pytest process would report the parent's peak."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def video_memory(model: str, video: str) -> dict[str, Any]:
    """Resident memory (psutil) of this process while an Analyzer (1 thread) runs through a whole video."""
    import psutil

    from runtime.analyzer import Analyzer, AnalyzerOptions

    process = psutil.Process()
    analyzer = Analyzer(AnalyzerOptions(emotion_model=model, threads=1))
    timeline: list[tuple[int, int]] = [(0, process.memory_info().rss)]

    def sample(result: Any, frame: Any) -> None:
        if result.index % 10 == 0:
            timeline.append((result.index + 1, process.memory_info().rss))

    start = time.perf_counter()
    report = analyzer.analyze_video(video, on_frame=sample)
    seconds = time.perf_counter() - start
    timeline.append((report.frames_analyzed, process.memory_info().rss))
    return {"frames": report.frames_analyzed, "seconds": seconds, "peak_rss_bytes": peak_rss_bytes(),
            "timeline": timeline}


def report_page(seconds: str) -> dict[str, Any]:
    """The first report page of a fresh process (matplotlib's import included) for a synthesized interview of
    ``seconds``: what ``fer-analyze --report`` adds to a run. The timeline is made before the clock starts."""
    from tests.synthetic import synthetic_report

    report = synthetic_report(float(seconds))
    start = time.perf_counter()
    page = report.to_html()
    return {"first_page_s": time.perf_counter() - start, "bytes": len(page.encode()),
            "frames": report.frames_analyzed}


PROBES = {"import_time": import_time, "cold_start": cold_start, "video_memory": video_memory,
          "report_page": report_page}


def run_probe(name: str, *args: str, timeout_s: float = 300.0) -> dict[str, Any]:
    """Runs a probe in a fresh interpreter with this checkout first on the path; its JSON result.

    Raises:
        RuntimeError: the probe failed (the message holds its stderr).
    """
    import os
    import subprocess
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(repo), os.environ.get("PYTHONPATH")])),
           "TF_CPP_MIN_LOG_LEVEL": "2"}
    done = subprocess.run([sys.executable, "-m", "benchmarks.probes", name, *args], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=timeout_s, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"probe {name} failed ({done.returncode}): {done.stderr[-2000:]}")
    lines = [line for line in done.stdout.splitlines() if line.startswith(MARKER)]
    if not lines:
        raise RuntimeError(f"probe {name} printed no result: {done.stdout[-2000:]} {done.stderr[-2000:]}")
    return json.loads(lines[-1][len(MARKER):])


if __name__ == "__main__":
    probe, *probe_args = sys.argv[1:]
    print(MARKER + json.dumps(PROBES[probe](*probe_args)), flush=True)

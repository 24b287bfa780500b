"""What the numbers were measured on: CPU, cores, memory, load, Python and package versions, date, commit."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from runtime.cpu import cpu_info

PACKAGES = ("numpy", "ai-edge-litert", "tflite-runtime", "onnxruntime", "onnxruntime-gpu", "opencv-python-headless",
            "opencv-python", "opencv-contrib-python", "mediapipe", "tensorflow", "keras", "fer", "pytest-benchmark",
            "psutil")
REPO = Path(__file__).resolve().parents[1]


def load_average() -> float | None:
    """The 1-minute load average, where the OS has one."""
    return round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None


def busy_cores(seconds: float = 2.0) -> float | None:
    """How many cores other processes kept busy over the next ``seconds`` while this one sleeps (Linux
    /proc/stat; None elsewhere). The load average cannot say it: it counts waiting tasks, and this run's own."""
    def sample() -> tuple[int, int]:
        fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
        return sum(fields[:8]) - idle, sum(fields[:8])

    try:
        busy0, total0 = sample()
        time.sleep(seconds)
        busy1, total1 = sample()
    except (OSError, ValueError, IndexError):
        return None
    cores = os.cpu_count() or 1
    return round(cores * (busy1 - busy0) / max(1, total1 - total0), 2)


def package_versions() -> dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True,
                             timeout=10, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO,
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() + ("+dirty" if dirty else "")


def machine_info() -> dict[str, Any]:
    """A JSON-ready description of this machine and environment, now. Every figure of a run belongs to it: the
    CPU's int8-relevant instruction sets (AVX2, AVX-512, VNNI, AMX; NEON and dot product on ARM) are part of it
    because int8 speed and, for some quantization schemes, int8 accuracy depend on them."""
    cpu = cpu_info()
    info: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "cpu": cpu.model,
        "cpu_arch": cpu.arch,
        "cpu_features": list(cpu.features),
        "cpu_int8_dot_product": cpu.int8_dot_product,
        "logical_cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "packages": package_versions(),
        "commit": git_commit(),
    }
    if (load := load_average()) is not None:
        info["load_average_1m"] = load
    try:
        import psutil

        info["physical_cores"] = psutil.cpu_count(logical=False)
        info["memory_gb"] = round(psutil.virtual_memory().total / 2**30, 1)
    except ImportError:
        pass
    return info

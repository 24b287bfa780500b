"""Builds the wheel and installs it into fresh virtual environments, as a user of the package would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SKIP_COPY = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", "runs",
                                   ".pytest_cache", ".benchmarks", "results")
PIP_TIMEOUT_S = 600


def _clean_environment() -> dict[str, str]:
    """This process's environment without the variables through which the checkout would leak into a fresh venv
    (with PYTHONPATH on the checkout, pip sees its fer_edge.egg-info and installs nothing)."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "FER_EDGE_MODELS", "VIRTUAL_ENV")}


def _pip(python: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(python), "-m", "pip", *args, "--disable-pip-version-check"], capture_output=True,
                          text=True, cwd=cwd, env=_clean_environment(), timeout=PIP_TIMEOUT_S)


def _skip_if_offline(done: subprocess.CompletedProcess, what: str) -> None:
    """Fails with pip's output, or skips when the package registry cannot be reached at all."""
    if done.returncode == 0:
        return
    with tempfile.TemporaryDirectory() as scratch:
        probe = _pip(Path(sys.executable), "download", "--no-deps", "--dest", scratch, "--no-cache-dir",
                     "--only-binary=:all:", "six")
    if probe.returncode != 0:
        pytest.skip(f"{what}: the package registry is unreachable (offline?): {probe.stderr.strip()[-300:]}")
    pytest.fail(f"{what} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")


def build_wheel(out: Path) -> Path:
    source = out / "source"
    shutil.copytree(REPO, source, ignore=SKIP_COPY)
    done = _pip(Path(sys.executable), "wheel", "--no-deps", "-q", "-w", str(out), str(source))
    _skip_if_offline(done, "building the wheel")  # the build backend (setuptools>=77) comes from the registry
    (wheel,) = out.glob("fer_edge-*.whl")
    return wheel


def fresh_venv(folder: Path, *install: str) -> Path:
    """A new virtual environment with ``pip install <install>``; its Python."""
    venv.EnvBuilder(with_pip=True, clear=True).create(folder)
    python = folder / ("Scripts" if os.name == "nt" else "bin") / "python"
    _skip_if_offline(_pip(python, "install", "-q", *install), f"pip install {' '.join(install)}")
    return python


def run(python: Path, *args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``python *args`` with a clean environment: none of this checkout's paths leak in."""
    return subprocess.run([str(python), *args], capture_output=True, text=True, cwd=cwd,
                          env={**_clean_environment(), **(env or {})}, timeout=PIP_TIMEOUT_S)


def console_script(python: Path, name: str) -> Path:
    return python.parent / (f"{name}.exe" if os.name == "nt" else name)

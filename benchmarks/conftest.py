"""Benchmark fixtures: machine info, the results collector (written at session end), data, frames, predictions.

Markers: ``quick`` (the CI subset: runs without ../shared data, in well under three minutes), ``data`` (needs the
shared data; skips without it), ``peer`` (needs the `fer` package; skips without it).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from benchmarks.data import SAMPLE_PHOTO, PrivateTest, list_videos, load_privatetest, sample_frames
from benchmarks.discovery import ModelFile
from benchmarks.machine import load_average, machine_info
from benchmarks.results import Results, write_results
from benchmarks.scope import ScopeRecorder, partial_reasons

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
NOTE_ENV = "FER_EDGE_BENCH_NOTE"  # a line shown at the top of the report (e.g. "development models")
FRAMES_PER_VIDEO = 12  # frames sampled from each video for the per-frame chain and peer timings
PREDICT_BATCH = 256

SCOPE = pytest.StashKey[ScopeRecorder]()
RESULTS = pytest.StashKey[Results]()


def pytest_configure(config: pytest.Config) -> None:
    for line in ("quick: the CI subset (no shared data needed, a few minutes on 2 cores)",
                 "data: needs ../shared/data (skips without it)",
                 "peer: needs the fer package (skips without it)"):
        config.addinivalue_line("markers", line)
    config.stash[SCOPE] = ScopeRecorder()
    config.pluginmanager.register(config.stash[SCOPE], "fer-edge-bench-scope")


@pytest.fixture(scope="session")
def results(pytestconfig: pytest.Config) -> Results:
    """The run's collector; its files are written under benchmarks/results/ when the session ends
    (``pytest_sessionfinish``)."""
    machine = machine_info()
    if os.environ.get(NOTE_ENV):
        machine["note"] = os.environ[NOTE_ENV]
    pytestconfig.stash[RESULTS] = Results(machine=machine)
    return pytestconfig.stash[RESULTS]


@pytest.hookimpl(trylast=True)  # after the session's fixtures are torn down and every report is in
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Writes the results: ``latest.*`` only for a complete, timed run of the whole suite, else ``partial.*``
    with the reasons in its header (``benchmarks.scope``), so a narrowed, untimed or interrupted run never
    replaces the full run's table."""
    collected = session.config.stash.get(RESULTS, None)
    if collected is None:  # no test asked for the collector
        return
    scope = session.config.stash[SCOPE]
    collected.outcomes.update(scope.outcomes)
    collected.partial = partial_reasons(scope.facts(session, exitstatus))
    if (load := load_average()) is not None:
        collected.machine["load_average_1m_end"] = load
    write_results(collected)


@pytest.fixture(scope="session")
def privatetest() -> PrivateTest:
    """FER-2013 PrivateTest (3,589 faces) with its original and FER+ majority labels, loaded once."""
    loaded = load_privatetest()
    if isinstance(loaded, str):
        pytest.skip(loaded)
    return loaded


@pytest.fixture(scope="session")
def privatetest_probs(privatetest: PrivateTest) -> Callable[[ModelFile], np.ndarray]:
    """``probs(model)``: probabilities (N, K) of a model file on every PrivateTest face, computed once per file
    through what users call (``ExpressionModel.predict``; the Keras reference through the same preprocessing)."""
    cache: dict[Path, np.ndarray] = {}

    def probs(model: ModelFile) -> np.ndarray:
        if model.path not in cache:
            cache[model.path] = _predict_all(model, privatetest.faces)
        return cache[model.path]

    return probs


def _predict_all(model: ModelFile, faces: np.ndarray) -> np.ndarray:
    def batched(predict: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        return np.concatenate([predict(faces[i : i + PREDICT_BATCH]) for i in range(0, len(faces), PREDICT_BATCH)])

    if model.is_keras:
        from benchmarks.keras_reference import keras_predictor

        return batched(keras_predictor(model))
    from runtime.classifier import ExpressionModel

    expression = ExpressionModel(model.path)
    try:
        return batched(expression.predict)
    finally:
        expression.close()


@pytest.fixture(scope="session")
def sample_photo() -> np.ndarray:
    """The repository's own sample photo (one face, 512x512): there without the shared data."""
    frame = cv2.imread(str(SAMPLE_PHOTO))
    if frame is None:
        pytest.skip(f"cannot read {SAMPLE_PHOTO}")
    return frame


@pytest.fixture(scope="session")
def frames(sample_photo: np.ndarray) -> Callable[[str], list[np.ndarray]]:
    """``frames(source)``: the sample photo (source "astronaut.jpg") or FRAMES_PER_VIDEO frames spread over a
    video of the media folder (source: its file name), decoded once per session."""
    cache: dict[str, list[np.ndarray]] = {SAMPLE_PHOTO.name: [sample_photo]}

    def get(source: str) -> list[np.ndarray]:
        if source not in cache:
            video = next((v for v in list_videos() if v.name == source), None)
            if video is None:
                pytest.skip(f"video {source} not found")
            cache[source] = sample_frames(video.path, FRAMES_PER_VIDEO)
        return cache[source]

    return get


@pytest.fixture
def one_cv2_thread() -> Iterator[None]:
    """OpenCV on one thread (colour conversion, resizing; the peer's Haar detector), like the models' one thread."""
    previous = cv2.getNumThreads()
    cv2.setNumThreads(1)
    yield
    cv2.setNumThreads(previous)

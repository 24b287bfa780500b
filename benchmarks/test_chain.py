"""The whole chain per frame (``Analyzer.analyze``: detect, crop, classify) on the sample photo and on frames of
each video, and the gate: the chain's own work costs at most a bounded multiple of its models' inference."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from benchmarks.discovery import ModelGroup
from benchmarks.gates import CHAIN_OVERHEAD_MAX, check, not_gated
from benchmarks.params import frame_sources, group_params
from benchmarks.results import Results
from benchmarks.timing import benchmark_stats, cycled, frame_rounds, interleaved
from runtime.analyzer import Analyzer, AnalyzerOptions
from runtime.backends import open_backend
from runtime.detection import DetectorOptions, create_detector

GATE_BUDGET_S = 3.0


@pytest.mark.parametrize("source", frame_sources())
@pytest.mark.parametrize("group", group_params())
def test_chain_per_frame(benchmark: Any, results: Results, frames: Callable, one_cv2_thread: None,
                         group: ModelGroup, source: str) -> None:
    """Analyzer defaults (detector "auto"), the group's deployed file, one thread."""
    frame_list = frames(source)
    analyzer = Analyzer(AnalyzerOptions(emotion_model=group.deployed.path, threads=1))
    try:
        faces = [len(analyzer.analyze(frame)) for frame in frame_list]
        benchmark.group = f"whole chain per frame: {source}"
        benchmark.extra_info.update(model=group.deployed.id, source=source, frames=len(frame_list))
        benchmark.pedantic(analyzer.analyze, setup=cycled(frame_list), rounds=frame_rounds(frame_list),
                           warmup_rounds=1)
    finally:
        analyzer.close()
    results.add("chain", source=source, frames=len(frame_list), model=group.deployed.id,
                faces_per_frame=float(np.mean(faces)), **benchmark_stats(benchmark))


@pytest.mark.parametrize("source", frame_sources())
@pytest.mark.parametrize("group", group_params())
def test_chain_overhead(results: Results, frames: Callable, one_cv2_thread: None, group: ModelGroup,
                        source: str) -> None:
    """Gate: Analyzer.analyze over all frames of a source against the same frames' model runs alone, timed in
    alternation. The Analyzer has the runtime's default detector ("auto", as in test_chain_per_frame), so the
    models alone are what "auto" runs on each frame: the short-range backend, the full-range backend where
    short-range found no face, and the expression backend once per frame with a face. A source where no face was
    found is not gated: its ratio would time the detector only."""
    gate, subject = "chain overhead", f"{group.deployed.id} on {source}"
    frame_list = frames(source)
    analyzer = Analyzer(AnalyzerOptions(emotion_model=group.deployed.path, threads=1))
    options = analyzer.detector.options
    backends: list[Any] = []
    try:
        counts = [len(analyzer.analyze(frame)) for frame in frame_list]
        if not any(counts):
            not_gated(results, gate, subject, f"no face found in {len(frame_list)} frames (detector "
                      f"{options.model!r}): the ratio would time the detector alone")
        detectors = _detector_runs(options, frame_list)
        backends = [open_backend(path, threads=1) for path in options.model_paths]
        detector_inputs = [np.zeros((1, *b.input_shape[1:]), dtype=np.float32) for b in backends]
        manifest = analyzer.emotion.manifest
        face_inputs = [np.zeros((n, *manifest.input_size, manifest.channels), dtype=np.float32) for n in counts]
        work = list(zip(detectors, face_inputs))

        def chain() -> None:
            for frame in frame_list:
                analyzer.analyze(frame)

        def models_alone() -> None:
            for runs, batch in work:
                for backend, detector_input in zip(backends[:runs], detector_inputs[:runs]):
                    backend.run_all(detector_input)
                if len(batch):
                    analyzer.emotion.backend.run(batch)

        timings = interleaved({"chain": chain, "models": models_alone}, budget_s=GATE_BUDGET_S)
    finally:
        analyzer.close()
        for backend in backends:
            backend.close()
    ratio = timings["chain"].median_ms / timings["models"].median_ms
    per_frame = len(frame_list)
    fallback = sum(runs > 1 for runs in detectors)
    check(results, gate, subject, ratio, f"<= {CHAIN_OVERHEAD_MAX:.2f}x", ratio <= CHAIN_OVERHEAD_MAX,
          note=f"chain {timings['chain'].median_ms / per_frame:.3f} ms/frame, models alone "
               f"{timings['models'].median_ms / per_frame:.3f} ms/frame, {sum(counts)} faces in {per_frame} frames; "
               f"detector {options.model!r}" + (f", 2nd model on {fallback} frames" if fallback else ""))


def _detector_runs(options: DetectorOptions, frame_list: list[np.ndarray]) -> list[int]:
    """How many of the detector's models (``options.model_paths``, tried in order until one finds a face) run on
    each frame: 1 for "short" or "full", 2 for "auto" on a frame where short-range finds nothing."""
    paths = options.model_paths
    stages = [create_detector(replace(options, model=path)) for path in paths]
    try:
        return [next((i + 1 for i, stage in enumerate(stages) if stage.detect(frame)), len(stages))
                for frame in frame_list]
    finally:
        for stage in stages:
            stage.close()

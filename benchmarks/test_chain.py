"""The whole chain per frame (``Analyzer.analyze``: detect, crop, classify) on the sample photo and on frames of
each video, and the gate: the chain's own work costs at most a bounded multiple of its models' inference."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from benchmarks.discovery import ModelGroup
from benchmarks.gates import CHAIN_OVERHEAD_MAX, check
from benchmarks.params import frame_sources, group_params
from benchmarks.results import Results
from benchmarks.timing import benchmark_stats, cycled, frame_rounds, interleaved
from runtime.analyzer import Analyzer, AnalyzerOptions
from runtime.backends import open_backend
from runtime.detection import DetectorOptions

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
    """Gate: Analyzer.analyze over all frames of a source against the same frames' model runs alone (the
    short-range detector's backend once per frame, the expression backend once per frame with a face), timed in
    alternation. The detector is pinned to "short" so that the set of models run per frame is known."""
    frame_list = frames(source)
    options = DetectorOptions(model="short", threads=1)
    analyzer = Analyzer(AnalyzerOptions(emotion_model=group.deployed.path, threads=1, detector=options))
    detector = open_backend(options.model_paths[0], threads=1)
    try:
        counts = [len(analyzer.analyze(frame)) for frame in frame_list]
        manifest = analyzer.emotion.manifest
        detector_input = np.zeros((1, *detector.input_shape[1:]), dtype=np.float32)
        face_inputs = [np.zeros((n, *manifest.input_size, manifest.channels), dtype=np.float32) for n in counts]

        def chain() -> None:
            for frame in frame_list:
                analyzer.analyze(frame)

        def models_alone() -> None:
            for batch in face_inputs:
                detector.run_all(detector_input)
                if len(batch):
                    analyzer.emotion.backend.run(batch)

        timings = interleaved({"chain": chain, "models": models_alone}, budget_s=GATE_BUDGET_S)
    finally:
        analyzer.close()
        detector.close()
    ratio = timings["chain"].median_ms / timings["models"].median_ms
    per_frame = len(frame_list)
    check(results, "chain overhead", f"{group.deployed.id} on {source}", ratio, f"<= {CHAIN_OVERHEAD_MAX:.2f}x",
          ratio <= CHAIN_OVERHEAD_MAX,
          note=f"chain {timings['chain'].median_ms / per_frame:.3f} ms/frame, models alone "
               f"{timings['models'].median_ms / per_frame:.3f} ms/frame, {sum(counts)} faces in {per_frame} frames")

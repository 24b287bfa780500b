"""Interleaved timing for the gates: calls that are compared run in alternation, so that a load change on a
shared machine hits all of them alike, and the median of many single calls ignores the slow outliers."""

from __future__ import annotations

import itertools
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

FRAME_MIN_ROUNDS = 24  # per-frame timings: at least this many timed calls (frames are cycled)


@dataclass(frozen=True)
class Timing:
    """Wall-clock seconds of single calls."""

    samples: tuple[float, ...]

    @property
    def median_ms(self) -> float:
        return statistics.median(self.samples) * 1e3

    @property
    def iqr_ms(self) -> float:
        if len(self.samples) < 4:
            return 0.0
        q1, _, q3 = statistics.quantiles(self.samples, n=4)
        return (q3 - q1) * 1e3


def interleaved(
    calls: dict[str, Callable[[], object]],
    budget_s: float = 2.0,
    min_rounds: int = 15,
    max_rounds: int = 400,
    warmup: int = 3,
) -> dict[str, Timing]:
    """Times each call once per round, alternating the order every round, for as many rounds as fit the budget.

    Args:
        calls: name -> a call without arguments.
        budget_s: the time to spend on measuring, estimated from the warm-up.
        min_rounds / max_rounds: bounds on the number of rounds, whatever the budget says.
        warmup: untimed rounds first (the first calls allocate buffers and pick kernels).
    """
    names = list(calls)
    started = time.perf_counter()
    for _ in range(max(1, warmup)):
        for name in names:
            calls[name]()
    per_round = (time.perf_counter() - started) / max(1, warmup)
    rounds = int(min(max_rounds, max(min_rounds, budget_s / max(per_round, 1e-9))))
    samples: dict[str, list[float]] = {name: [] for name in names}
    for index in range(rounds):
        for name in names if index % 2 == 0 else reversed(names):
            start = time.perf_counter()
            calls[name]()
            samples[name].append(time.perf_counter() - start)
    return {name: Timing(tuple(values)) for name, values in samples.items()}


def benchmark_stats(benchmark: object) -> dict[str, float | int | None]:
    """Median and IQR (ms per call) and rounds of a finished pytest-benchmark fixture; None values when
    benchmarking is disabled (``--benchmark-disable`` runs each function once, untimed)."""
    metadata = getattr(benchmark, "stats", None)
    if not metadata:
        return {"median_ms": None, "iqr_ms": None, "rounds": None}
    stats = metadata.stats
    return {"median_ms": stats.median * 1e3, "iqr_ms": stats.iqr * 1e3, "rounds": int(stats.rounds)}


def cycled(frames: list[Any]) -> Callable[[], tuple[tuple[Any], dict]]:
    """A pytest-benchmark ``setup`` that hands out the frames in turn, so that ours and the peer's per-frame
    timings see the same frames in the same order."""
    frame_cycle = itertools.cycle(frames)
    return lambda: ((next(frame_cycle),), {})


def frame_rounds(frames: list[Any]) -> int:
    """Timed calls for a list of frames: every frame twice, at least FRAME_MIN_ROUNDS."""
    return max(FRAME_MIN_ROUNDS, 2 * len(frames))

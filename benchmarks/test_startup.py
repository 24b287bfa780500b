"""Startup in a fresh interpreter: ``import runtime`` (lazy, cheap), the heavy ``runtime.analyzer`` import, and
the cold start of an Analyzer (import, build, first frame answered)."""

from __future__ import annotations

import statistics

import pytest

from benchmarks.data import SAMPLE_PHOTO
from benchmarks.discovery import ModelGroup
from benchmarks.params import group_params
from benchmarks.probes import run_probe
from benchmarks.results import Results

pytestmark = pytest.mark.quick
IMPORT_RUNS = 5
COLD_START_RUNS = 3


def _median_ms(runs: list[dict], key: str) -> float:
    return statistics.median(run[key] for run in runs) * 1e3


def test_import_time(results: Results) -> None:
    runs = [run_probe("import_time") for _ in range(IMPORT_RUNS)]
    loaded_tf = any(run["tensorflow_loaded"] for run in runs)
    for what, key in (("import runtime", "import_runtime_s"), ("then import runtime.analyzer", "import_analyzer_s")):
        results.add("startup", what=what, model=None, median_ms=_median_ms(runs, key), runs=len(runs),
                    tensorflow_loaded=loaded_tf)


@pytest.mark.parametrize("group", group_params())
def test_cold_start(results: Results, group: ModelGroup) -> None:
    """The group's deployed file, one thread, the sample photo."""
    runs = [run_probe("cold_start", str(group.deployed.path), str(SAMPLE_PHOTO)) for _ in range(COLD_START_RUNS)]
    for what, key in (("Analyzer(): build", "construct_s"), ("first analyze() after build", "first_frame_s"),
                      ("second analyze()", "second_frame_s"),
                      ("cold start: import + build + first frame", "cold_start_s")):
        results.add("startup", what=what, model=group.deployed.id, median_ms=_median_ms(runs, key), runs=len(runs),
                    tensorflow_loaded=any(run["tensorflow_loaded"] for run in runs))
    assert all(run["faces"] >= 1 for run in runs), "the sample photo holds one face"

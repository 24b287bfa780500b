"""The benchmark suite's own logic, without timing a model: which fp32 file a quantized file is gated against, what
an ungated gate leaves in the report, and where the default-model gate takes its files."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from benchmarks import discovery
from benchmarks.discovery import MODELS_ENV, discover
from benchmarks.gates import not_gated
from benchmarks.params import quantized_params
from benchmarks.report import markdown
from benchmarks.results import Results, write_results
from benchmarks.scope import RunFacts, narrows, partial_reasons

pytest_plugins = ("pytester",)
REPO = Path(__file__).resolve().parents[1]
MODELS = REPO / "models"


def _folder(tmp_path: Path, *names: str) -> Path:
    """A models folder holding links to some of the shipped files and their manifests."""
    for name in names:
        for path in (MODELS / name, MODELS / f"{name}.json"):
            (tmp_path / path.name).symlink_to(path)
    return tmp_path


@pytest.fixture
def bench_models(monkeypatch: pytest.MonkeyPatch) -> object:
    """Points $FER_EDGE_BENCH_MODELS at a folder for the test; the discovery cache is cleared around it."""

    def use(folder: Path) -> None:
        monkeypatch.setenv(MODELS_ENV, str(folder))
        discovery.groups.cache_clear()

    yield use
    discovery.groups.cache_clear()


def test_int8_without_fp32_file_falls_back_to_the_keras_source(tmp_path: Path) -> None:
    (group,) = discover(_folder(tmp_path, "emotion_cnn_int8.tflite", "emotion_cnn.keras"))
    (int8,) = group.files
    assert group.fp32_source(int8) is None
    assert group.fp32_reference(int8) == group.keras and group.keras.is_keras
    assert group.fp32_reference(int8, keras=False) is None


def test_fp32_file_of_the_same_format_comes_before_the_keras_source(tmp_path: Path) -> None:
    folder = _folder(tmp_path, "emotion_resnet16_int8.tflite", "emotion_resnet16_fp32.tflite",
                     "emotion_resnet16_int8.onnx", "emotion_resnet16.keras")
    (group,) = discover(folder)
    references = {f.key: group.fp32_reference(f) for f in group.files}
    assert references["tflite-int8"].key == "tflite-fp32"
    assert references["onnx-int8"].is_keras  # no onnx-fp32 file here
    assert references["tflite-fp32"] is None


def test_int8_without_any_reference_is_still_a_parameter(tmp_path: Path, bench_models: object) -> None:
    bench_models(_folder(tmp_path, "emotion_cnn_int8.tflite"))  # no .keras beside it
    for keras in (True, False):
        (param,) = quantized_params(("int8",), keras=keras)
        _, model, source = param.values
        assert model.key == "tflite-int8" and source is None and not param.marks


def test_speed_gate_parameters_keep_the_file_without_an_fp32_file(tmp_path: Path, bench_models: object) -> None:
    bench_models(_folder(tmp_path, "emotion_cnn_int8.tflite", "emotion_cnn.keras", "emotion_mobilenetv2_int8.tflite",
                         "emotion_mobilenetv2.keras"))
    speed = {p.id: p.values[2] for p in quantized_params(("int8",), keras=False)}
    accuracy = {p.id: p.values[2] for p in quantized_params(("int8",))}
    assert speed == {"emotion_cnn-tflite-int8": None, "emotion_mobilenetv2-tflite-int8": None}
    assert {key: ref.key for key, ref in accuracy.items()} == {"emotion_cnn-tflite-int8": "keras-fp32",
                                                               "emotion_mobilenetv2-tflite-int8": "keras-fp32"}


def test_not_gated_writes_a_visible_row_and_skips() -> None:
    results = Results(machine={})
    with pytest.raises(pytest.skip.Exception, match="no tflite-fp32 file"):
        not_gated(results, "int8 not slower than fp32", "emotion_cnn-tflite-int8", "no tflite-fp32 file")
    (row,) = results.rows("gates")
    assert row["passed"] is None and row["note"] == "not gated: no tflite-fp32 file"
    assert "| int8 not slower than fp32 | emotion_cnn-tflite-int8 | – |  | not gated |" in markdown(results)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnknownMarkWarning")  # "quick" is registered by benchmarks/conftest
def test_default_model_gate_reads_the_bench_models_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from benchmarks.test_latency import test_default_not_slower_than_reference

    monkeypatch.setenv(MODELS_ENV, str(tmp_path))
    with pytest.raises(pytest.skip.Exception, match=f"not in {tmp_path}"):
        test_default_not_slower_than_reference(Results(machine={}), 1, 1)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnknownMarkWarning")
def test_chain_gate_is_not_gated_on_a_source_without_a_face(bench_models: object) -> None:
    """A source where the default detector finds no face would make the chain gate time the detector alone."""
    import numpy as np

    from benchmarks.test_chain import test_chain_overhead

    bench_models(MODELS)
    group = next(g for g in discovery.groups() if g.name == "emotion_resnet16")
    results = Results(machine={})
    blank = [np.zeros((240, 320, 3), dtype=np.uint8)] * 3
    with pytest.raises(pytest.skip.Exception, match="no face found in 3 frames"):
        test_chain_overhead(results, lambda source: blank, None, group, "blank")
    (row,) = results.rows("gates")
    assert row["gate"] == "chain overhead" and row["passed"] is None and "detector 'auto'" in row["note"]


# ---- full run or partial (benchmarks.scope): only a complete, timed run of the whole suite writes latest.* ----

SUITE = ("test_a.py", "test_b.py")
FULL = RunFacts(suite_files=SUITE, collected_files=SUITE, selected=5, completed=5)


@pytest.mark.parametrize(("facts", "reasons"), [
    pytest.param(FULL, [], id="full"),
    pytest.param(replace(FULL, completed=4, selected=5, stop_reason="stopping after 1 failures"),
                 ["stopped after 4 of 5 tests (stopping after 1 failures)"], id="-x-stopped"),
    pytest.param(replace(FULL, stop_reason="stopping after 1 failures"), [], id="-x-failure-in-the-last-test"),
    pytest.param(replace(FULL, completed=2, interrupted=True), ["stopped after 2 of 5 tests (interrupted)"],
                 id="ctrl-c"),
    pytest.param(replace(FULL, interrupted=True), ["interrupted"], id="interrupted-at-the-end"),
    pytest.param(replace(FULL, keyword="latency and int8", deselected=3, selected=2, completed=2),
                 ["-k 'latency and int8'", "3 tests deselected"], id="-k"),
    pytest.param(replace(FULL, markexpr="quick", deselected=1, collected_files=("test_a.py",)),
                 ["-m 'quick'", "1 test deselected", "test file not collected: test_b.py"], id="-m"),
    pytest.param(replace(FULL, options=("--ignore=benchmarks/test_b.py",), collected_files=("test_a.py",)),
                 ["--ignore=benchmarks/test_b.py", "test file not collected: test_b.py"], id="--ignore"),
    pytest.param(replace(FULL, suite_files=("test_a.py", "test_b.py", "test_c.py"), collected_files=("test_b.py",)),
                 ["only test_b.py of the suite's 3 test files collected"], id="most-files-missing"),
    pytest.param(replace(FULL, options=("--deselect=benchmarks/test_a.py::test_x",), deselected=1),
                 ["--deselect=benchmarks/test_a.py::test_x", "1 test deselected"], id="--deselect"),
    pytest.param(replace(FULL, options=("--lf",), deselected=4), ["--lf", "4 tests deselected"], id="--lf"),
    pytest.param(replace(FULL, narrowing_args=("benchmarks/test_a.py",), collected_files=("test_a.py",)),
                 ["run on benchmarks/test_a.py", "test file not collected: test_b.py"], id="file-argument"),
    pytest.param(replace(FULL, timing_off="--benchmark-disable"), ["no timings (--benchmark-disable)"],
                 id="--benchmark-disable"),
    pytest.param(replace(FULL, options=("--benchmark-skip",)), ["--benchmark-skip"], id="--benchmark-skip"),
])
def test_partial_reasons(facts: RunFacts, reasons: list[str]) -> None:
    assert partial_reasons(facts) == reasons


def test_narrowing_arguments(tmp_path: Path) -> None:
    suite = tmp_path / "repo" / "benchmarks"
    suite.mkdir(parents=True)
    root = tmp_path / "repo"
    assert not narrows("benchmarks", root, suite) and not narrows("benchmarks/", root, suite)
    assert not narrows(str(suite), tmp_path, suite) and not narrows(".", suite, suite)
    assert not narrows(".", root, suite)  # a folder above the suite collects all of it
    assert narrows("benchmarks/test_startup.py", root, suite)
    assert narrows("benchmarks/test_startup.py::test_cold_start", root, suite)
    assert narrows("test_startup.py", suite, suite)
    # a node id outside the suite (tests run beside it) leaves the suite whole; it used to make the run partial
    assert not narrows("tests/test_convert.py::test_x", root, suite)
    assert narrows("test_startup.py::test_cold_start[a::b]", suite, suite)


def test_write_results_writes_latest_only_for_a_full_run(tmp_path: Path) -> None:
    full = Results(machine={"date": "2026-01-01T00:00:00+00:00"})
    full.outcomes["passed"] = 3
    names = {p.name for p in write_results(full, tmp_path)}
    assert {"latest.json", "latest.md"} <= names
    assert (tmp_path / "latest.md").read_text().splitlines()[2].startswith("full run: 3 passed.")
    partial = Results(machine={"date": "2026-01-01T00:00:01+00:00"},
                      partial=["-k 'startup'", "stopped after 1 of 2 tests (interrupted)"])
    names = {p.name for p in write_results(partial, tmp_path)}
    assert {"partial.json", "partial.md"} <= names and "latest.md" not in names
    header = (tmp_path / "partial.md").read_text().splitlines()[2]
    assert header.startswith("partial run (`-k 'startup'`; stopped after 1 of 2 tests (interrupted)): ")
    assert json.loads((tmp_path / "partial.json").read_text())["partial"] == partial.partial
    assert (tmp_path / "latest.md").read_text().splitlines()[2].startswith("full run: 3 passed.")  # untouched


def test_a_failing_report_leaves_the_last_full_runs_files_as_they_were(tmp_path, monkeypatch):
    """latest.json was replaced before the table was made, so a table that failed left a new latest.json beside the
    previous run's latest.md."""
    import benchmarks.report

    full = Results(machine={"date": "2026-01-01T00:00:00+00:00"})
    full.outcomes["passed"] = 3
    write_results(full, tmp_path)
    before = {name: (tmp_path / name).read_text() for name in ("latest.json", "latest.md")}
    monkeypatch.setattr(benchmarks.report, "markdown", lambda results: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        write_results(Results(machine={"date": "2026-01-02T00:00:00+00:00"}), tmp_path)
    assert {name: (tmp_path / name).read_text() for name in before} == before
    assert not list(tmp_path.glob(".*.tmp"))


def test_a_plot_without_data_in_this_run_is_removed_not_left_from_the_last(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib", reason="the plots need matplotlib (extra 'bench')")
    full = Results(machine={"date": "2026-01-01T00:00:00+00:00"})
    full.outcomes["passed"] = 1
    full.add("latency", model="resnet16", format="tflite", file="m.tflite", threads=1, batch=1, median_ms=0.2,
             per_face_ms=0.2)
    assert tmp_path / "latency.png" in write_results(full, tmp_path)
    later = Results(machine={"date": "2026-01-02T00:00:00+00:00"})
    later.outcomes["passed"] = 1
    assert tmp_path / "latency.png" not in write_results(later, tmp_path)
    assert not (tmp_path / "latency.png").exists()  # not last run's plot beside this run's tables


SUITE_CONFTEST = """
import json
from pathlib import Path

import pytest

from benchmarks.scope import ScopeRecorder, partial_reasons

RECORDER = ScopeRecorder(Path(__file__).parent)


def pytest_configure(config):
    config.pluginmanager.register(RECORDER)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    reasons = partial_reasons(RECORDER.facts(session, exitstatus))
    (Path(__file__).parent / "reasons.json").write_text(json.dumps(reasons))
"""


@pytest.fixture
def suite(pytester: pytest.Pytester) -> Callable[..., list[str]]:
    """A small suite whose conftest records its scope as benchmarks/conftest.py does; ``run(*args)`` runs it in
    process and returns the reasons the run is partial."""
    pytester.makeconftest(SUITE_CONFTEST)
    pytester.makepyfile(test_a="def test_1():\n    pass\n\ndef test_2():\n    pass\n",
                        test_b="def test_3():\n    pass\n")

    def run(*args: str) -> list[str]:
        pytester.inline_run(*args, no_reraise_ctrlc=True)
        return json.loads((pytester.path / "reasons.json").read_text())

    return run


def test_session_scope_full_and_narrowed(suite: Callable[..., list[str]]) -> None:
    assert suite() == []
    assert suite("-p", "no:randomly") == []  # an option that leaves no test out
    assert suite("-k", "test_1") == ["-k 'test_1'", "2 tests deselected"]
    assert suite("test_a.py") == ["run on test_a.py", "test file not collected: test_b.py"]
    assert suite("test_a.py::test_2") == ["run on test_a.py::test_2", "test file not collected: test_b.py"]
    assert suite("test_a.py::test_2", "test_b.py") == ["run on test_a.py::test_2 test_b.py"]  # test_1 never collected
    assert suite("--ignore=test_b.py") == ["--ignore=test_b.py", "test file not collected: test_b.py"]
    assert suite("--deselect=test_a.py::test_1") == ["--deselect=test_a.py::test_1", "1 test deselected"]
    assert suite("--benchmark-disable") == ["no timings (--benchmark-disable)"]


def test_session_scope_stopped_early(suite: Callable[..., list[str]], pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_a="def test_1():\n    assert False\n\ndef test_2():\n    pass\n")
    assert suite() == []  # a failure does not make the run partial: every test ran
    assert suite("-x") == ["stopped after 1 of 3 tests (stopping after 1 failures)"]
    assert suite("--lf") == ["--lf", "test file not collected: test_b.py"]  # --lf skips test_b.py at collection
    pytester.makepyfile(test_a="def test_1():\n    pass\n\ndef test_2():\n    raise KeyboardInterrupt\n")
    assert suite() == ["stopped after 1 of 3 tests (interrupted)"]


def test_session_scope_file_skipped_at_collection(suite: Callable[..., list[str]], pytester: pytest.Pytester) -> None:
    """A test file skipped whole for a missing package (test_report_html.py without matplotlib) counts as collected,
    as a test skipping for a missing package does; a file left out by --ignore does not."""
    pytester.makepyfile(test_c="import pytest\npytest.importorskip('no_such_package')\n\ndef test_4():\n    pass\n")
    assert suite() == []
    assert suite("--ignore=test_c.py") == ["--ignore=test_c.py", "test file not collected: test_c.py"]

"""Whether a benchmark run is the whole suite, whose results may replace ``results/latest.*``, or a partial one, and
why: what the session saw (``ScopeRecorder``, a pytest plugin) and the decision on it (``partial_reasons``, pure).

A run is full only when every test file of the suite was collected, nothing was narrowed or deselected (no -k, -m,
--ignore, --ignore-glob, --deselect, --lf, --sw, --sw-skip, --benchmark-skip/--benchmark-only, no path or node id
inside the suite), the benchmarks were timed (not --benchmark-disable) and every collected test ran to its end (not
stopped by -x, --maxfail or Ctrl-C).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

SUITE_DIR = Path(__file__).resolve().parent
SUITE_FILES = "test_*.py"  # pytest's default python_files; the suite sets no other


@dataclass(frozen=True)
class RunFacts:
    """What one session says about its own scope.

    Attributes:
        markexpr, keyword: the -m and -k expressions ("" when not given).
        narrowing_args: command-line paths or node ids that pick part of the suite (a file, a folder or a test
            inside it); the suite's folder itself, or a folder above it, does not narrow.
        options: the options given that leave tests out ("--ignore=x", "--deselect=y", "--lf", "--sw",
            "--benchmark-skip", "--benchmark-only").
        suite_files: the suite's test files (names); collected_files: those that gave at least one test before
            any deselection, or were skipped whole at collection (a module-level ``pytest.importorskip``: the
            same as a test that skips for a missing package).
        deselected: tests deselected after collection (by -k, -m, --deselect, --lf, --sw).
        timing_off: why pytest-benchmark did not time the benchmarks ("" when it did).
        selected: tests left to run after deselection; completed: tests whose teardown finished.
        interrupted: the session ended on Ctrl-C or pytest.exit; stop_reason: what stopped it early, when pytest
            says ("stopping after 1 failures"), else "".
    """

    markexpr: str = ""
    keyword: str = ""
    narrowing_args: tuple[str, ...] = ()
    options: tuple[str, ...] = ()
    suite_files: tuple[str, ...] = ()
    collected_files: tuple[str, ...] = ()
    deselected: int = 0
    timing_off: str = ""
    selected: int = 0
    completed: int = 0
    interrupted: bool = False
    stop_reason: str = ""


def partial_reasons(facts: RunFacts) -> list[str]:
    """Why the run is not the full suite, in words for the report's header; [] for a full run."""
    reasons = [f"-{flag} {value!r}" for flag, value in (("m", facts.markexpr), ("k", facts.keyword)) if value]
    if facts.narrowing_args:
        reasons.append("run on " + " ".join(facts.narrowing_args))
    reasons += facts.options
    if facts.deselected:
        reasons.append(f"{facts.deselected} test{'s' * (facts.deselected != 1)} deselected")
    collected = [name for name in facts.suite_files if name in facts.collected_files]
    missing = [name for name in facts.suite_files if name not in facts.collected_files]
    if missing and len(collected) < len(missing):
        reasons.append(f"only {', '.join(collected) or 'no file'} of the suite's {len(facts.suite_files)} test "
                       "files collected")
    elif missing:
        reasons.append(f"test file{'s' * (len(missing) != 1)} not collected: {', '.join(missing)}")
    if facts.timing_off:
        reasons.append(f"no timings ({facts.timing_off})")
    if facts.completed < facts.selected:
        why = "interrupted" if facts.interrupted else facts.stop_reason
        reasons.append(f"stopped after {facts.completed} of {facts.selected} tests" + (f" ({why})" if why else ""))
    elif facts.interrupted:
        reasons.append("interrupted")
    return reasons


def narrows(arg: str, invocation_dir: Path, suite_dir: Path = SUITE_DIR) -> bool:
    """Whether a command-line argument picks part of the suite: a path inside it, or a node id (``file::test``) of
    one of its files; a path or node id outside the suite (tests run beside it) picks none of it."""
    file, node, _ = arg.partition("::")
    path = (invocation_dir / file).resolve()
    if node:
        return path == suite_dir or suite_dir in path.parents
    return path != suite_dir and suite_dir in path.parents


class ScopeRecorder:
    """A pytest plugin gathering a session's ``RunFacts`` (and its outcome counts) as it goes."""

    def __init__(self, suite_dir: Path = SUITE_DIR) -> None:
        self.suite_dir = suite_dir.resolve()
        self.outcomes: Counter[str] = Counter()
        self._collected_files: set[str] = set()
        self._skipped_files: set[str] = set()
        self._rootpath: Path | None = None
        self._deselected = 0
        self._selected = 0
        self._completed = 0

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self._rootpath = session.config.rootpath

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.skipped and self._rootpath is not None:
            path = (self._rootpath / report.nodeid.split("::")[0]).resolve()
            if path.parent == self.suite_dir:
                self._skipped_files.add(path.name)

    @pytest.hookimpl(tryfirst=True)  # before -k, -m, --deselect and --lf take tests away
    def pytest_collection_modifyitems(self, items: Sequence[pytest.Item]) -> None:
        self._collected_files = {Path(item.path).resolve().name for item in items
                                 if Path(item.path).resolve().parent == self.suite_dir}

    def pytest_deselected(self, items: Sequence[pytest.Item]) -> None:
        self._deselected += len(items)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self._selected = len(session.items)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
            self.outcomes[report.outcome] += 1
        if report.when == "teardown":
            self._completed += 1

    def facts(self, session: pytest.Session, exitstatus: int) -> RunFacts:
        config = session.config
        options = [f"{flag}={value}" for name, flag in (("ignore", "--ignore"), ("ignore_glob", "--ignore-glob"),
                                                         ("deselect", "--deselect"))
                   for value in config.getoption(name, None) or ()]
        options += [flag for name, flag in (("lf", "--lf"), ("stepwise", "--sw"), ("stepwise_skip", "--sw-skip"),
                                            ("benchmark_skip", "--benchmark-skip"),
                                            ("benchmark_only", "--benchmark-only"))
                    if config.getoption(name, False)]
        bench = getattr(config, "_benchmarksession", None)
        if bench is None:
            timing_off = "pytest-benchmark is not active"
        elif bench.disabled:
            timing_off = "--benchmark-disable" if config.getoption("benchmark_disable", False) else \
                "pytest-benchmark disabled its timing"
        else:
            timing_off = ""
        stop = session.shouldfail or session.shouldstop
        return RunFacts(
            markexpr=config.getoption("markexpr", "") or "", keyword=config.getoption("keyword", "") or "",
            narrowing_args=tuple(a for a in config.args if narrows(a, config.invocation_params.dir, self.suite_dir)),
            options=tuple(options),
            suite_files=tuple(sorted(p.name for p in self.suite_dir.glob(SUITE_FILES))),
            collected_files=tuple(sorted(self._collected_files | self._skipped_files)), deselected=self._deselected,
            timing_off=timing_off, selected=self._selected, completed=self._completed,
            interrupted=exitstatus == pytest.ExitCode.INTERRUPTED,
            stop_reason=stop if isinstance(stop, str) else "")

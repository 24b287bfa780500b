"""Rows collected from the benchmark tests during one run, and the files the run leaves behind."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runtime.manifest import FORMATS, PRECISIONS
from runtime.outputs import replace_file

RESULTS_DIR = Path(__file__).resolve().parent / "results"


@dataclass
class Results:
    """Tables of rows (name -> list of dicts) filled by the tests, plus how the run went.

    ``partial`` says why the run is not the whole suite ([] for a full run; ``benchmarks.scope.partial_reasons``);
    ``outcomes`` counts test results.
    """

    machine: dict[str, Any]
    partial: list[str] = field(default_factory=list)
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    outcomes: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, table: str, **row: Any) -> None:
        self.tables[table].append(row)

    def rows(self, table: str) -> list[dict[str, Any]]:
        return self.tables.get(table, [])

    def to_dict(self) -> dict[str, Any]:
        return {"machine": self.machine, "partial": list(self.partial), "outcomes": dict(self.outcomes),
                "tables": {name: rows for name, rows in self.tables.items()}}


def format_order(key: Any) -> tuple[int, int]:
    """Sort position of a "format-precision" key: Keras first, then TFLite and ONNX, fp32 before quantized."""
    fmt, _, precision = str(key).partition("-")
    return (FORMATS.index(fmt) if fmt in FORMATS else len(FORMATS),
            PRECISIONS.index(precision) if precision in PRECISIONS else len(PRECISIONS))


def model_order(row: dict[str, Any]) -> tuple:
    return (str(row.get("model")), format_order(row.get("format")), str(row.get("threads")), row.get("batch") or 0)


def _clean(value: Any) -> Any:
    """JSON has no NaN: write null instead."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def write_results(results: Results, out_dir: Path = RESULTS_DIR) -> list[Path]:
    """Writes ``<stem>.json``, ``<stem>.md`` and the plots; the stem is "latest" for a full run, "partial" for any
    other (``results.partial`` says why: narrowed, untimed or stopped early), so that only a complete, timed run of
    the whole suite replaces the full run's table. A timestamped copy of the JSON goes to ``raw/``. Returns the
    paths written."""
    from benchmarks.plots import write_plots
    from benchmarks.report import markdown

    stem = "partial" if results.partial else "latest"
    out_dir.mkdir(parents=True, exist_ok=True)
    data = _clean(results.to_dict())
    text = json.dumps(data, indent=2, default=str) + "\n"
    table = markdown(results)  # made before anything is written: a failure here leaves the last run's pair whole
    written = [out_dir / f"{stem}.json", out_dir / f"{stem}.md"]
    replace_file(written[0], text)
    replace_file(written[1], table)
    stamp = str(results.machine.get("date", "run")).replace(":", "").replace("+0000", "Z")
    raw = out_dir / "raw" / f"{stamp}-{stem}.json"
    raw.parent.mkdir(exist_ok=True)
    replace_file(raw, text)
    written.append(raw)
    written.extend(write_plots(results, out_dir, prefix="" if stem == "latest" else "partial-"))
    return written

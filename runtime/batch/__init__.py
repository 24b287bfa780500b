"""Many videos at once: `analyze_many` runs a set of videos through worker processes (engine "local") or a Ray
cluster (engine "ray", extra ``ray``), resumably, with one report per video and a summary table.

    from runtime.batch import analyze_many

    summary = analyze_many("interviews/", "reports/", engine="local", workers=2)
    print(summary.count("done"), summary.failed, summary.files)

The command line is ``fer-batch`` (``runtime.batch.cli``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runtime.batch.inputs import VideoJob, read_inputs
    from runtime.batch.results import VideoRow
    from runtime.batch.runner import BatchSummary, analyze_many
    from runtime.batch.worker import VideoSettings

__all__ = ["BatchSummary", "VideoJob", "VideoRow", "VideoSettings", "analyze_many", "read_inputs"]

_WHERE = {"analyze_many": "runtime.batch.runner", "BatchSummary": "runtime.batch.runner",
          "VideoJob": "runtime.batch.inputs", "read_inputs": "runtime.batch.inputs",
          "VideoRow": "runtime.batch.results", "VideoSettings": "runtime.batch.worker"}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'runtime.batch' has no attribute {name!r}")

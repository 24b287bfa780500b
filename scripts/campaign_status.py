"""Prints where issue 11's training campaign stands, a Markdown table with a row per run folder in $FER_RUNS:
epochs trained of the schedule, the best PublicTest accuracy and its epoch, the training time so far, minutes per
epoch at the recent pace (the median of the last epochs that recorded their time; else the run's mean), the hours
left at that pace and, for a finished run exported beside its folder (NAME.keras with its manifest), the PrivateTest
accuracy against both label sets. Reads only the runs' state.json and manifests: no TensorFlow, safe beside training.

    python scripts/campaign_status.py            # $FER_RUNS, default ~/fer-runs/issue11
    python scripts/campaign_status.py RUNS_DIR
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
from pathlib import Path
from typing import Any

from convert.train.loop import STATE
from runtime.manifest import load_manifest

COLUMNS = ("run", "epochs", "best PublicTest", "hours", "min/epoch", "hours left", "PrivateTest", "FER+")
RECENT = 5  # epochs whose median time is the pace


def epoch_seconds(state: dict[str, Any]) -> float | None:
    """Seconds per epoch at the run's recent pace: the median over its last RECENT epochs that recorded their time
    (runs started before epochs did fall back to the mean over the whole run); None before the first epoch."""
    recorded = [float(e["seconds"]) for e in state.get("history", []) if isinstance(e, dict) and "seconds" in e]
    if recorded:
        return float(statistics.median(recorded[-RECENT:]))
    done = int(state["epoch"])
    return float(state.get("seconds", 0.0)) / done if done else None


def run_row(folder: Path) -> dict[str, str] | None:
    """The table row of one run folder; None when it holds no readable state.json (not a run)."""
    try:
        state: dict[str, Any] = json.loads((folder / STATE).read_text())
        done, total = int(state["epoch"]), int(state["config"]["epochs"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    seconds, pace, left = float(state.get("seconds", 0.0)), epoch_seconds(state), max(0, total - done)
    row = {"run": folder.name, "epochs": f"{done} of {total}" + (f" ({left} left)" if left else ""),
           "best PublicTest": f"{100 * state.get('best_val_accuracy', 0):.2f}% (epoch {state.get('best_epoch')})",
           "hours": f"{seconds / 3600:.1f}", "min/epoch": "-" if pace is None else f"{pace / 60:.1f}",
           "hours left": "0" if not left else "-" if pace is None else f"{left * pace / 3600:.1f}",
           "PrivateTest": "-", "FER+": "-"}
    exported = folder.with_name(f"{folder.name}.keras")
    if done >= total and exported.is_file():
        try:
            test = load_manifest(exported).verification.get("privatetest", {})
        except (FileNotFoundError, ValueError):
            test = {}
        for key, column in (("fer2013", "PrivateTest"), ("ferplus", "FER+")):
            if key in test:
                row[column] = f"{100 * test[key]['accuracy']:.2f}%"
    return row


def status_table(runs: Path) -> str:
    rows = [row for folder in sorted(runs.iterdir()) if folder.is_dir() and (row := run_row(folder))]
    lines = ["| " + " | ".join(COLUMNS) + " |", "|---|" + "---:|" * (len(COLUMNS) - 1)]
    lines += ["| " + " | ".join(row[column] for column in COLUMNS) + " |" for row in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(os.environ.get("FER_RUNS", Path.home() / "fer-runs" / "issue11"))
    parser.add_argument("runs", type=Path, nargs="?", default=default, help=f"the run folders' parent ({default})")
    args = parser.parse_args(argv)
    if not args.runs.is_dir():
        parser.error(f"no campaign folder at {args.runs}")
    print(status_table(args.runs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

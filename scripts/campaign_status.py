"""Prints where issue 11's training campaign stands, a Markdown table with a row per run folder in $FER_RUNS:
epochs trained of the schedule, the best PublicTest accuracy and its epoch, the training time so far, minutes per
epoch, and, for a finished run exported beside its folder (NAME.keras with its manifest), the PrivateTest accuracy
against both label sets. Reads only the runs' state.json and manifests: no TensorFlow, safe beside training.

    python scripts/campaign_status.py            # $FER_RUNS, default ~/fer-runs/issue11
    python scripts/campaign_status.py RUNS_DIR
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from convert.train.loop import STATE
from runtime.manifest import load_manifest

COLUMNS = ("run", "epochs", "best PublicTest", "hours", "min/epoch", "PrivateTest", "FER+")


def run_row(folder: Path) -> dict[str, str] | None:
    """The table row of one run folder; None when it holds no readable state.json (not a run)."""
    try:
        state: dict[str, Any] = json.loads((folder / STATE).read_text())
        done, total = int(state["epoch"]), int(state["config"]["epochs"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    seconds = float(state.get("seconds", 0.0))
    row = {"run": folder.name, "epochs": f"{done} of {total}" + ("" if done >= total else f" ({total - done} left)"),
           "best PublicTest": f"{100 * state.get('best_val_accuracy', 0):.2f}% (epoch {state.get('best_epoch')})",
           "hours": f"{seconds / 3600:.1f}", "min/epoch": f"{seconds / 60 / done:.1f}" if done else "-",
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

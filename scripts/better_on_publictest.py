"""Whether a newly trained emotion model should replace the shipped one: exit 0 when CANDIDATE reads PublicTest (the
selection split, never PrivateTest) better than CURRENT on the original labels, 1 when it does not, 2 on bad input.
Both Keras files are read plainly (no mirror images), as the runtime reads a face by default; the comparison, FER+
included, is written to RECORD (JSON) and printed.

    python scripts/better_on_publictest.py RUNS/student/best.keras models/emotion_resnet16.keras --record R.json

Issue 11 ships "the best model reached so far": `scripts/train-default-model.sh ship` asks this before it replaces
the default, so that a student that came out worse than the interim one is not shipped over it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("candidate", type=Path, help="the new model (.keras)")
    parser.add_argument("current", type=Path, help="the shipped model it would replace (.keras)")
    parser.add_argument("--record", type=Path, required=True, help="where the comparison is written (JSON)")
    args = parser.parse_args(argv)
    missing = [str(path) for path in (args.candidate, args.current) if not path.is_file()]
    if missing:
        print(f"model(s) not found: {', '.join(missing)}", file=sys.stderr)
        return 2
    from convert.data.fer2013 import default_split_with_ferplus

    try:
        faces, ferplus = default_split_with_ferplus("PublicTest")
    except FileNotFoundError as exc:
        print(exc, file=sys.stderr)
        return 2
    import keras

    from convert.train.emotion import evaluate

    rows = {}
    for role, path in (("candidate", args.candidate), ("current", args.current)):
        model = keras.models.load_model(path, compile=False)
        report = evaluate(model, faces, int(model.input_shape[1]), ferplus)
        rows[role] = {"file": str(path), "fer2013": report["fer2013"]["accuracy"],
                      **({"ferplus": report["ferplus"]["accuracy"]} if "ferplus" in report else {})}
    better = rows["candidate"]["fer2013"] > rows["current"]["fer2013"]
    record = {"better": better, "on": f"PublicTest, {len(faces)} faces, original labels, no mirror images",
              **rows, "date": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    args.record.write_text(json.dumps(record, indent=2) + "\n")
    for role, row in rows.items():
        print(f"{role} {Path(row['file']).name}: {100 * row['fer2013']:.2f}% PublicTest"
              + (f", {100 * row['ferplus']:.2f}% FER+" if "ferplus" in row else ""), file=sys.stderr)
    return 0 if better else 1


if __name__ == "__main__":
    raise SystemExit(main())

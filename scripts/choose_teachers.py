"""Prints, one per line, the teacher files issue 11's student is distilled from (`convert.train.teachers.choose`:
each teacher alone or all together, whichever is best on PublicTest's original labels, with mirror images), and
writes the comparison to RECORD (JSON). A student run that has started keeps its teachers: they are read back from
its state.json, so that every resume asks for the same run.

    python scripts/choose_teachers.py --student-run RUNS/student --record RUNS/teacher-choice.json T1.keras T2.keras
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("teachers", type=Path, nargs="+", help="the trained teachers (.keras)")
    parser.add_argument("--student-run", type=Path, required=True, help="the student's run folder")
    parser.add_argument("--record", type=Path, required=True, help="where the comparison is written (JSON)")
    args = parser.parse_args(argv)
    state = args.student_run / "state.json"
    if state.is_file():  # the run has started: its teachers are part of its configuration
        print("\n".join(json.loads(state.read_text())["config"]["teachers"]))
        return 0
    missing = [str(path) for path in args.teachers if not path.is_file()]
    if missing:
        print(f"teacher(s) not found: {', '.join(missing)}", file=sys.stderr)
        return 2
    from convert.data.fer2013 import default_split_with_ferplus

    try:
        faces, ferplus = default_split_with_ferplus("PublicTest")
    except FileNotFoundError as exc:
        print(exc, file=sys.stderr)
        return 2
    from convert.train.distill import ensemble_probabilities, load_teacher
    from convert.train.emotion import faces_to_input
    from convert.train.teachers import choose
    from runtime.manifest import FER2013_LABELS

    ferplus = ferplus[faces.rows] if ferplus is not None else None
    answers = []
    for path in args.teachers:
        teacher = load_teacher(path, len(FER2013_LABELS))
        answers.append(ensemble_probabilities([teacher], faces_to_input(faces, teacher.input_shape[1])))
    chosen, table = choose([str(path) for path in args.teachers], answers, faces.labels, ferplus)
    record = {"chosen": chosen, "on": f"PublicTest, {len(faces)} faces, with mirror images", "candidates": table,
              "date": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    args.record.write_text(json.dumps(record, indent=2) + "\n")
    for row in table:
        print(f"{' + '.join(Path(t).stem for t in row['teachers'])}: {100 * row['fer2013']:.2f}% PublicTest"
              + (f", {100 * row['ferplus']:.2f}% FER+" if "ferplus" in row else ""), file=sys.stderr)
    print("\n".join(chosen))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Writes tests/golden/shipped_models.json: what each shipped emotion model says about the sample photo.

Run it after the shipped models change (and say so in the commit); tests/test_shipped_models.py compares
against it with a named tolerance.

    python scripts/make_golden.py
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2

from runtime.analyzer import Analyzer
from runtime.paths import shipped_emotion_models

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "samples" / "astronaut.jpg"
GOLDEN = REPO / "tests" / "golden" / "shipped_models.json"


def main() -> int:
    frame = cv2.imread(str(SAMPLE))
    golden = {}
    for model in shipped_emotion_models():
        with Analyzer.from_model_path(model) as analyzer:
            faces = analyzer.analyze(frame)
            golden[model.name] = [{"box": [f.box.x, f.box.y, f.box.width, f.box.height],
                                   "top_emotion": f.top_emotion, "probabilities": f.emotion.as_dict()}
                                  for f in faces]
    GOLDEN.write_text(json.dumps({"sample": SAMPLE.name, "models": golden}, indent=2) + "\n")
    print(f"wrote {GOLDEN} for {len(golden)} models")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Measures which crop padding around BlazeFace's box best matches FER-2013's framing.

Each FER-2013 face (48x48) is enlarged and placed in a larger canvas, BlazeFace finds it again, and the crop
(square, grown by the padding) is classified by an emotion model. The padding whose accuracy comes closest to
classifying the original 48x48 face is the one the Analyzer should use (``DEFAULT_CROP_PADDING``).

    python scripts/measure_crop_padding.py models/emotion_cnn_fp32.tflite --count 1500
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from convert.data.calibration import stratified_sample
from convert.data.fer2013 import load_fer2013
from convert.data.paths import default_fer2013
from runtime.classifier import ExpressionModel
from runtime.detection import DetectorOptions, create_detector
from runtime.preprocess import crop, expand_box

PADDINGS = (0.0, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6)
FACE_SIDE = 192  # the FER face is shown at this size, in a canvas twice as large
CANVAS = 384


def embed(face: np.ndarray, roll: float = 0.0) -> np.ndarray:
    """A 48x48 FER face enlarged into the middle of a larger canvas (edges replicated), turned by ``roll`` degrees
    (counter-clockwise), as BGR."""
    big = cv2.resize(face, (FACE_SIDE, FACE_SIDE), interpolation=cv2.INTER_CUBIC)
    border = (CANVAS - FACE_SIDE) // 2
    canvas = cv2.copyMakeBorder(big, border, border, border, border, cv2.BORDER_REPLICATE)
    if roll:
        turn = cv2.getRotationMatrix2D((CANVAS / 2, CANVAS / 2), roll, 1.0)
        canvas = cv2.warpAffine(canvas, turn, (CANVAS, CANVAS), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return cv2.cvtColor(canvas, cv2.COLOR_GRAY2BGR)


def sampled_faces(parser: argparse.ArgumentParser, argv: list[str] | None) -> tuple[argparse.Namespace, Any]:
    """Adds the FER-2013 arguments (--data, --split, --count), parses, and loads the stratified sample."""
    parser.add_argument("--data", type=Path, default=default_fer2013())
    parser.add_argument("--split", default="PublicTest")
    parser.add_argument("--count", type=int, default=1500)
    args = parser.parse_args(argv)
    return args, stratified_sample(load_fer2013(args.data, (args.split,))[args.split], args.count, seed=0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    args, faces = sampled_faces(parser, argv)
    model = ExpressionModel(args.model)
    direct = model.predict(faces.images).argmax(1)
    crops: dict[float, list[np.ndarray]] = {p: [] for p in PADDINGS}
    found = []
    with create_detector(DetectorOptions(model="short", min_score=0.3)) as detector:
        for i, face in enumerate(faces.images):
            frame = embed(face)
            detections = detector.detect(frame)
            if not detections:
                continue
            found.append(i)
            b = detections[0].box
            for p in PADDINGS:
                crops[p].append(crop(frame, expand_box((b.x, b.y, b.width, b.height), p, frame.shape)))
    found = np.asarray(found)
    labels = faces.labels[found]
    result = {
        "faces": len(faces), "detected": len(found),
        "direct_accuracy_on_detected": float(np.mean(direct[found] == labels)),
        "by_padding": {str(p): float(np.mean(model.predict(crops[p]).argmax(1) == labels)) for p in PADDINGS},
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Measures whether levelling the eyes before the emotion crop helps: FER-2013 faces are registered upright.

Each FER-2013 face (48x48) is enlarged into a larger canvas (``measure_crop_padding.embed``), turned by a roll
angle, and found again by BlazeFace. Two crops of the same square (the detector's box, ``DEFAULT_CROP_PADDING``) go
to the emotion model: axis-aligned, as the Analyzer crops today, and rotated by the angle of BlazeFace's eye
keypoints so that the eyes are level (``runtime.preprocess.level_crop``), always or only beyond a roll threshold
(``LEVEL_BEYOND_DEGREES`` is chosen from this).

    python scripts/measure_aligned_crops.py --count 1500
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np
from measure_crop_padding import embed, sampled_faces  # beside this script (scripts/ is on the path when run)

from runtime.classifier import ExpressionModel
from runtime.detection import DetectorOptions, create_detector
from runtime.landmarks.geometry import rotation
from runtime.paths import default_model_dir
from runtime.preprocess import DEFAULT_CROP_PADDING, crop, expand_box, level_crop

ROLLS = (0.0, 15.0, -15.0, 30.0, -30.0)
THRESHOLDS = (5.0, 10.0)  # level only faces whose estimated roll is beyond this many degrees


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=default_model_dir() / "emotion_cnn_int8.tflite")
    args, faces = sampled_faces(parser, argv)
    model = ExpressionModel(args.model)
    result: dict = {"model": args.model.name, "split": args.split, "faces": len(faces),
                    "direct_accuracy": float(np.mean(model.predict(faces.images).argmax(1) == faces.labels)),
                    "by_roll": {}}
    with create_detector(DetectorOptions(model="short", min_score=0.3)) as detector:
        for roll in ROLLS:
            plain, levelled, found, angles = [], [], [], []
            for i, face in enumerate(faces.images):
                frame = embed(face, roll)
                detections = detector.detect(frame)
                if not detections or len(detections[0].keypoints) < 2:
                    continue
                d = detections[0]
                box = (d.box.x, d.box.y, d.box.width, d.box.height)
                found.append(i)
                angles.append(math.degrees(rotation(d.keypoints[0], d.keypoints[1])))
                plain.append(crop(frame, expand_box(box, DEFAULT_CROP_PADDING, frame.shape)))
                levelled.append(level_crop(frame, box, DEFAULT_CROP_PADDING, math.radians(angles[-1])))
            labels = faces.labels[np.asarray(found)]
            right_plain = model.predict(plain).argmax(1) == labels
            right_levelled = model.predict(levelled).argmax(1) == labels
            estimated = np.abs(np.asarray(angles))
            row = {"detected": len(found), "estimated_roll_median": float(np.median(angles)),
                   "estimated_roll_mad": float(np.median(np.abs(np.asarray(angles) - np.median(angles)))),
                   "axis_aligned": float(right_plain.mean()), "eyes_levelled": float(right_levelled.mean())}
            for threshold in THRESHOLDS:
                chosen = np.where(estimated > threshold, right_levelled, right_plain)
                row[f"levelled_beyond_{threshold:g}deg"] = float(chosen.mean())
            result["by_roll"][str(roll)] = row
            print(roll, result["by_roll"][str(roll)], flush=True)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

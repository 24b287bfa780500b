"""Measures what small inputs are worth analysing, and what the detector's threshold costs in false and missed faces.

1. Emotion accuracy against face size: FER-2013 faces (48x48) shrunk to a side of S pixels, then classified (the model
   scales them back up to its input): below which S does the answer stop being worth giving?
2. Tiny images: a face of side S in an image of side 2S (border replicated), through the detector as the Analyzer
   runs it (``auto``: short-range, full-range where short-range finds nothing): found how often, and how often the
   found face is read correctly.
3. Noise: random images of side S (uniform and smoothed noise), where every face found is a false face.
4. The shared photos: false faces on the two negative controls against faces found on the positive photos, for each
   detector model and minimum score.
5. The interview-like shared videos: frames with one face, none, or more than one, for each minimum score.

Every detector result is recorded at ``--floor`` and thresholded afterwards, so one run gives every minimum score.

    python scripts/measure_small_inputs.py --count 600 --noise 500 > ~/fer-runs/small_inputs.md
"""

from __future__ import annotations

import argparse
import csv
import platform
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from convert.data.calibration import stratified_sample
from convert.data.fer2013 import load_fer2013
from convert.data.paths import default_fer2013, media_dir
from runtime.analyzer import DEFAULT_EMOTION_MODEL
from runtime.classifier import ExpressionModel
from runtime.cpu import cpu_info
from runtime.detection import DetectorOptions, create_detector
from runtime.paths import default_model_dir
from runtime.preprocess import DEFAULT_CROP_PADDING, crop, expand_box
from runtime.video import FrameReader

FACE_SIDES = (8, 12, 16, 20, 24, 32, 40, 48, 64)
NOISE_SIDES = (16, 24, 32, 48, 64, 96, 128, 256)
MIN_SCORES = (0.5, 0.55, 0.6, 0.65, 0.7)
MIN_FACE_SIZES = (0, 12, 16, 20, 24, 32)
INTERVIEW_VIDEOS = ("liveportrait_d6.mp4", "liveportrait_s18.mp4", "sadtalker_WDA_KatieHill_000.mp4")


@dataclass(frozen=True)
class Found:
    """The best detection of one model on one image: its score and box (x, y, w, h); score 0 when none."""

    score: float
    box: tuple[float, float, float, float] | None

    @property
    def side(self) -> float:
        return min(self.box[2], self.box[3]) if self.box else 0.0


def best(detector, frame: np.ndarray) -> Found:
    detections = detector.detect(frame)
    if not detections:
        return Found(0.0, None)
    top = max(detections, key=lambda d: d.score)
    return Found(top.score, (top.box.x, top.box.y, top.box.width, top.box.height))


def auto(short: Found, full: Found, min_score: float) -> Found:
    """What ``model="auto"`` returns at ``min_score``: short-range, or full-range when short-range finds nothing."""
    return short if short.score >= min_score else full


def auto_scores(short: list[float], full: list[float], min_score: float) -> list[float]:
    """The scores ``model="auto"`` keeps at ``min_score``: short-range's, or full-range's when short-range has none."""
    return short if max(short, default=0.0) >= min_score else full


def kept(found: Found, min_score: float, min_face_size: int) -> bool:
    return found.score >= min_score and found.side >= min_face_size


def tiny_image(face: np.ndarray, side: int) -> np.ndarray:
    small = cv2.resize(face, (side, side), interpolation=cv2.INTER_AREA)
    border = side // 2
    return cv2.cvtColor(cv2.copyMakeBorder(small, border, border, border, border, cv2.BORDER_REPLICATE),
                        cv2.COLOR_GRAY2BGR)


def noise_images(side: int, count: int, rng: np.random.Generator, smooth: bool) -> list[np.ndarray]:
    images = []
    for _ in range(count):
        image = rng.integers(0, 256, (side, side, 3), dtype=np.uint8)
        if smooth:
            image = cv2.GaussianBlur(image, (0, 0), max(side / 16, 1.0))
            image = cv2.normalize(image, None, 0, 255, cv2.NORM_MINMAX)
        images.append(image)
    return images


def section_accuracy_by_face_side(model: ExpressionModel, faces, direct: np.ndarray) -> None:
    print("## 1. Emotion accuracy against face side (the face shrunk to S px, then classified)\n")
    print("| face side S (px) | " + " | ".join(str(s) for s in FACE_SIDES) + " |")
    print("|---" * (len(FACE_SIDES) + 1) + "|")
    accuracies, agreements = [], []
    for side in FACE_SIDES:
        small = [cv2.resize(f, (side, side), interpolation=cv2.INTER_AREA) for f in faces.images]
        predicted = model.predict(small).argmax(1)
        accuracies.append(f"{100 * np.mean(predicted == faces.labels):.1f}%")
        agreements.append(f"{np.mean(predicted == direct):.3f}")
    print("| accuracy | " + " | ".join(accuracies) + " |")
    print("| agreement with the 48 px answer | " + " | ".join(agreements) + " |\n")


def section_tiny_images(model: ExpressionModel, faces, short, full) -> None:
    print("## 2. Tiny images: a face of side S in an image of side 2S, detector `auto`\n")
    print("Found: images with a face kept (score >= 0.5 and box side >= the minimum face size); correct: of the "
          "found, read as their FER-2013 label.\n")
    print("| face side S | image side | found (min face 0 / 12 / 16 / 20 / 24 / 32) | found at min score 0.6, min face"
          " 20 | correct when found (min face 12) | box side (median) |")
    print("|---|---|---|---|---|---|")
    for side in FACE_SIDES:
        results, strict, crops, labels = [], [], [], []
        for face, label in zip(faces.images, faces.labels, strict=True):
            frame = tiny_image(face, side)
            short_found, full_found = best(short, frame), best(full, frame)
            found = auto(short_found, full_found, 0.5)
            results.append(found)
            strict.append(kept(auto(short_found, full_found, 0.6), 0.6, 20))
            if kept(found, 0.5, 12):
                bounds = expand_box(found.box, DEFAULT_CROP_PADDING, frame.shape)
                crops.append(crop(frame, bounds))
                labels.append(label)
        rates = " / ".join(f"{100 * np.mean([kept(r, 0.5, m) for r in results]):.0f}%" for m in MIN_FACE_SIZES)
        correct = f"{100 * np.mean(model.predict(crops).argmax(1) == np.array(labels)):.1f}%" if crops else "-"
        sides = [r.side for r in results if r.score >= 0.5]
        median = f"{np.median(sides):.0f}" if sides else "-"
        print(f"| {side} | {2 * side} | {rates} | {100 * np.mean(strict):.0f}% | {correct} | {median} |")
    print()


def section_noise(short, full, count: int, rng: np.random.Generator) -> None:
    print(f"## 3. Noise images ({count} per side and kind): images with a false face\n")
    print("| kind | side | min score 0.5, min face 0 / 12 / 16 / 24 / 32 | min score 0.6, min face 12 / 20 | "
          "highest score |")
    print("|---|---|---|---|---|")
    for smooth in (False, True):
        for side in NOISE_SIDES:
            pairs = [(best(short, im), best(full, im)) for im in noise_images(side, count, rng, smooth)]
            results = [auto(s, f, 0.5) for s, f in pairs]
            strict = [auto(s, f, 0.6) for s, f in pairs]
            rates = " / ".join(f"{100 * np.mean([kept(r, 0.5, m) for r in results]):.1f}%" for m in (0, 12, 16, 24, 32))
            at_06 = " / ".join(f"{100 * np.mean([kept(r, 0.6, m) for r in strict]):.1f}%" for m in (12, 20))
            top = max(r.score for r in results)
            print(f"| {'smoothed' if smooth else 'uniform'} | {side} | {rates} | {at_06} | {top:.2f} |")
    print()


def all_detections(detector, frame: np.ndarray) -> list[float]:
    return [d.score for d in detector.detect(frame)]


def section_photos(short, full, photos: Path) -> None:
    print("## 4. Shared photos: faces found on the positive photos against false faces on the negative ones\n")
    rows = list(csv.DictReader((photos / "photos.csv").open()))
    print("| min score | short: found / false | full: found / false | auto: found / false |")
    print("|---|---|---|---|")
    scores = {}
    for row in rows:
        frame = cv2.imread(str(photos / row["file"]))
        scores[row["file"]] = (all_detections(short, frame), all_detections(full, frame), int(row["faces"]))
    faces = sum(expected for _, _, expected in scores.values())
    for min_score in MIN_SCORES:
        cells = []
        for pick in ("short", "full", "auto"):
            found = false = 0
            for s, f, expected in scores.values():
                chosen = s if pick == "short" else f if pick == "full" else auto_scores(s, f, min_score)
                count = sum(score >= min_score for score in chosen)
                found += min(count, expected)
                false += max(count - expected, 0) if expected else count
            cells.append(f"{found} / {false}")
        print(f"| {min_score} | " + " | ".join(cells) + " |")
    negatives = {name: (s, f) for name, (s, f, expected) in scores.items() if expected == 0}
    print(f"\n{faces} faces in the positive photos. Scores on the negatives (short; full): "
          + "; ".join(f"{name}: {[round(x, 2) for x in s]}; {[round(x, 2) for x in f]}"
                      for name, (s, f) in negatives.items()) + "\n")


def section_videos(short, full, videos: Path, frame_skip: int) -> None:
    print(f"## 5. Interview-like videos (frame skip {frame_skip}): frames with one face / none / more than one\n")
    print("| video | frames | " + " | ".join(f"auto at {m}" for m in MIN_SCORES) + " |")
    print("|---|---|" + "---|" * len(MIN_SCORES))
    for name in INTERVIEW_VIDEOS:
        per_frame = [(all_detections(short, frame), all_detections(full, frame))
                     for _, _, frame in FrameReader(videos / name, frame_skip=frame_skip)]
        cells = []
        for min_score in MIN_SCORES:
            counts = [sum(x >= min_score for x in auto_scores(s, f, min_score)) for s, f in per_frame]
            cells.append(f"{counts.count(1)} / {counts.count(0)} / {sum(c > 1 for c in counts)}")
        print(f"| {name} | {len(per_frame)} | " + " | ".join(cells) + " |")
    print()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=default_fer2013(), help="fer2013.csv(.gz)")
    parser.add_argument("--model", type=Path, default=default_model_dir() / DEFAULT_EMOTION_MODEL)
    parser.add_argument("--count", type=int, default=600, help="FER-2013 PrivateTest faces (stratified)")
    parser.add_argument("--noise", type=int, default=500, help="noise images per side and kind")
    parser.add_argument("--frame-skip", type=int, default=3, help="video frames: every n-th")
    parser.add_argument("--floor", type=float, default=0.3, help="lowest detector score recorded")
    args = parser.parse_args(argv)
    if args.data is None:
        parser.error("FER-2013 not found: pass --data or set $FER2013_CSV")
    cpu = cpu_info()
    print(f"# Small inputs and false faces\n\nMachine: {cpu.model} ({', '.join(cpu.features) or 'no int8 features'}),"
          f" {platform.python_version()}; emotion model {args.model.name}; detector LiteRT engine.\n")
    faces = stratified_sample(load_fer2013(args.data, ("PrivateTest",))["PrivateTest"], args.count, seed=0)
    model = ExpressionModel(args.model, threads=1)
    direct = model.predict(faces.images).argmax(1)
    print(f"{len(faces)} PrivateTest faces; accuracy at 48 px: {100 * np.mean(direct == faces.labels):.1f}%.\n")
    section_accuracy_by_face_side(model, faces, direct)
    options = {"min_score": args.floor, "threads": 1}
    with create_detector(DetectorOptions(model="short", **options)) as short, \
            create_detector(DetectorOptions(model="full", **options)) as full:
        section_tiny_images(model, faces, short, full)
        section_noise(short, full, args.noise, np.random.default_rng(0))
        section_photos(short, full, media_dir() / "photos")
        section_videos(short, full, media_dir() / "videos", args.frame_skip)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""`fer-analyze`: faces and expressions in an image, a folder of images, a video file or a webcam."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import cv2

from runtime.analyzer import Analyzer, AnalyzerOptions
from runtime.annotate import VideoWriter, draw_faces
from runtime.detection import DetectorOptions
from runtime.report import FrameResult
from runtime.summary import face_dict, image_summary, timeline_csv, video_summary

log = logging.getLogger("fer-analyze")

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fer-analyze", description=__doc__)
    parser.add_argument("input", help="an image, a folder of images, a video file, or a webcam index (0, 1, ...)")
    parser.add_argument("--model", type=Path, help="emotion model (.tflite/.onnx with manifest; default: shipped)")
    parser.add_argument("--expressiveness-model", type=Path, help="3-class expressiveness model")
    parser.add_argument("--detector", default="auto", help="BlazeFace model: auto, short, full or a .tflite path")
    parser.add_argument("--detector-engine", default="auto", choices=("auto", "litert", "mediapipe"))
    parser.add_argument("--min-score", type=float, default=0.5, help="minimum face-detection score")
    parser.add_argument("--device", default="cpu", choices=("cpu", "gpu", "auto"))
    parser.add_argument("--threads", type=int)
    parser.add_argument("--max-faces", type=int, help="faces per frame, largest first")
    parser.add_argument("--frame-skip", type=int, default=1, help="videos: analyze every N-th frame")
    parser.add_argument("--max-frames", type=int, help="videos: stop after N analyzed frames")
    parser.add_argument("--smoothing", type=float, help="videos: EMA factor (0, 1] for per-frame probabilities")
    parser.add_argument("--json", type=Path, help="write all results as JSON ('-' for stdout)")
    parser.add_argument("--csv", type=Path, help="write the per-face timeline as CSV")
    parser.add_argument("--annotate", type=Path, help="write boxes and labels: an image, a folder, or a video")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on videos")
    parser.add_argument("--no-verify-model", action="store_true",
                        help="do not check model files against the sha256 in their manifests (edited on purpose)")
    return parser


def _kind(text: str) -> tuple[str, Path | int]:
    if text.isdigit():
        return "camera", int(text)
    path = Path(text)
    if not path.exists():
        raise FileNotFoundError(f"input not found: {path}")
    if path.is_dir():
        return "folder", path
    suffix = path.suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        return "image", path
    if suffix in VIDEO_SUFFIXES:
        return "video", path
    raise ValueError(f"unsupported input {path.name!r}: expected an image ({', '.join(IMAGE_SUFFIXES)}), "
                     f"a video ({', '.join(VIDEO_SUFFIXES)}), a folder or a webcam index")


def _read_image(path: Path):
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise ValueError(f"cannot read image {path}: not a readable image file")
    if image.dtype != "uint8":
        image = cv2.convertScaleAbs(image, alpha=255.0 / max(1, int(image.max())))
    return image


def _images(analyzer: Analyzer, paths: list[Path], args: argparse.Namespace, folder: bool) -> dict:
    results, timeline = {}, []
    for i, path in enumerate(paths):
        try:
            image = _read_image(path)
        except ValueError as exc:
            if not folder:
                raise
            log.warning("%s; skipped", exc)
            continue
        faces = analyzer.analyze(image)
        print(image_summary(path.name, faces))
        results[str(path)] = [face_dict(face) for face in faces]
        timeline.append((str(path), FrameResult(i, None, tuple(faces))))
        if args.annotate:
            target = args.annotate / path.name if folder else args.annotate
            target.parent.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(target), draw_faces(cv2.cvtColor(image, cv2.COLOR_BGRA2BGR) if image.ndim == 3
                                                and image.shape[2] == 4 else image, faces))
    if args.csv:
        args.csv.write_text(timeline_csv(timeline, analyzer.labels))
    return {"images": results}


def _video(analyzer: Analyzer, source: Path | int, args: argparse.Namespace) -> dict:
    writer = None
    if args.annotate:
        writer = VideoWriter(args.annotate, 25.0)

    def on_frame(result: FrameResult, frame) -> None:
        if writer is not None:
            writer.write(draw_faces(frame, result.faces))

    try:
        report = analyzer.analyze_video(source, frame_skip=args.frame_skip, max_frames=args.max_frames,
                                        progress=not args.no_progress and sys.stderr.isatty(),
                                        smoothing=args.smoothing, on_frame=on_frame if writer else None)
    finally:
        if writer is not None:
            writer.close()
    print(video_summary(report))
    if args.csv:
        args.csv.write_text(timeline_csv([(str(source), f) for f in report.timeline], analyzer.labels))
    return {"video": report.to_dict()}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        kind, source = _kind(args.input)
        detector = DetectorOptions(model=args.detector, engine=args.detector_engine, min_score=args.min_score)
        options = AnalyzerOptions(emotion_model=args.model, expressiveness_model=args.expressiveness_model,
                                  detector=detector, device=args.device, threads=args.threads,
                                  max_faces=args.max_faces, verify_model_hash=not args.no_verify_model)
        with Analyzer(options) as analyzer:
            if kind == "image":
                output = _images(analyzer, [source], args, folder=False)
            elif kind == "folder":
                paths = sorted(p for p in source.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
                if not paths:
                    raise ValueError(f"no images ({', '.join(IMAGE_SUFFIXES)}) in folder {source}")
                output = _images(analyzer, paths, args, folder=True)
            else:
                output = _video(analyzer, source, args)
            output["model"] = {"emotion": str(analyzer.emotion.path), "labels": list(analyzer.labels)}
    except (FileNotFoundError, ValueError, ImportError, RuntimeError, OSError) as exc:
        log.error("%s", exc)
        return 2
    if args.json:
        text = json.dumps(output, indent=2)
        if str(args.json) == "-":
            print(text)
        else:
            args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

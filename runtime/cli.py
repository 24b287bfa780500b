"""`fer-analyze`: faces and expressions in an image, a folder of images, a video file or a webcam.

Exit codes: 0 done (images of a folder that could not be read are skipped with a warning and listed under
"skipped" in the JSON); 1 the work failed (an engine error, an output that could not be written); 2 bad usage or
input (a missing or unreadable input, a model that cannot be loaded or does not match its manifest, an output that
cannot be written, checked before the work starts); 130 or 143 stopped by Ctrl-C or SIGTERM: the outputs are
written with what was analyzed until then (a video's report is marked incomplete, a folder's images not reached
are listed as skipped), unless a second one came.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
from collections.abc import Callable
from pathlib import Path

import cv2
import cv2.utils.logging

from runtime import __version__
from runtime.analyzer import (
    EXPRESSIVENESS_METHODS,
    MIN_FACE_SIZE,
    Analyzer,
    AnalyzerOptions,
    unloadable_model_as_bad_input,
)
from runtime.annotate import VideoWriter, draw_faces
from runtime.catalog import list_models, models_table
from runtime.cli_inputs import folder_images, input_kind, read_image
from runtime.detection import DetectorOptions
from runtime.detection.detector import DEFAULT_MIN_SCORE
from runtime.outputs import (
    STDOUT,
    check_distinct,
    check_not_inputs,
    check_report_target,
    check_targets,
    write_image,
    write_json,
    writing,
)
from runtime.paths import DEFAULT_EMOTION_MODEL
from runtime.report import FACIAL_ACTIVITY, FrameResult
from runtime.results import analysis_document
from runtime.stop_signal import StopOnSignal
from runtime.summary import image_summary, timeline_csv, video_summary

log = logging.getLogger("fer-analyze")

DEFAULT_ANNOTATED_FPS = 25.0  # for a source that does not say its frame rate (webcams)
AV_LOG_QUIET = -8  # FFmpeg's log level that prints nothing


def add_analyzer_arguments(parser: argparse.ArgumentParser) -> None:
    """The options that build the Analyzer (models, detector, device, threads); read back by `analyzer_options`."""
    parser.add_argument("--model", type=Path,
                        help="emotion model: a .tflite/.onnx file with its manifest, or the name of an installed one "
                             f"(see --list-models; default: {DEFAULT_EMOTION_MODEL})")
    parser.add_argument("--flip-average", action="store_true",
                        help="read each face also mirrored and average the two (twice the emotion model's work)")
    parser.add_argument("--crop-average", action="store_true",
                        help="read each face whole and as its four corner crops and average the five (five times "
                             "the emotion model's work; ten with --flip-average)")
    parser.add_argument("--expressiveness-model", type=Path, help="3-class expressiveness model")
    parser.add_argument("--expressiveness", default=FACIAL_ACTIVITY, choices=EXPRESSIVENESS_METHODS,
                        help="videos: the verdict's method without a model (default facial-activity, from landmarks)")
    parser.add_argument("--landmarks", action="store_true", help="468 face-mesh landmarks for every face (JSON)")
    parser.add_argument("--detect-every-frame", action="store_true",
                        help="videos: run the detector on every frame instead of tracking faces by their landmarks")
    parser.add_argument("--detector", default="auto", help="BlazeFace model: auto, short, full or a .tflite path")
    parser.add_argument("--detector-engine", default="auto", choices=("auto", "litert", "mediapipe"))
    parser.add_argument("--min-score", type=float, default=DEFAULT_MIN_SCORE,
                        help=f"minimum face-detection score (default {DEFAULT_MIN_SCORE})")
    parser.add_argument("--min-face-size", type=int, default=MIN_FACE_SIZE,
                        help=f"ignore faces smaller than this many pixels (default {MIN_FACE_SIZE})")
    parser.add_argument("--device", default="cpu", choices=("cpu", "gpu", "auto"))
    parser.add_argument("--threads", type=int,
                        help="inference threads per model, the face detector and the landmark model included")
    parser.add_argument("--max-faces", type=int, help="faces per frame, largest first")
    parser.add_argument("--no-verify-model", action="store_true",
                        help="do not check model files against the sha256 in their manifests (edited on purpose)")


def add_verbosity_arguments(parser: argparse.ArgumentParser) -> None:
    """-q/--quiet and -v/--verbose; applied by `configure_logging`."""
    verbosity = parser.add_mutually_exclusive_group()
    verbosity.add_argument("-q", "--quiet", action="store_true", help="errors only: no summary, no warnings")
    verbosity.add_argument("-v", "--verbose", action="store_true",
                           help="also informational messages (the engines' own included)")


def configure_logging(args: argparse.Namespace) -> None:
    """Log records to stderr at the level that -q/-v ask for (WARNING when neither). OpenCV's and FFmpeg's own
    lines only with -v: a damaged H.264 stretch prints one per frame, which our one warning about it says better."""
    level = logging.ERROR if args.quiet else logging.INFO if args.verbose else logging.WARNING
    logging.basicConfig(format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger().setLevel(level)
    if not args.verbose:
        os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", str(AV_LOG_QUIET))  # read when the first video opens
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)


def add_video_arguments(parser: argparse.ArgumentParser) -> None:
    """How a video is read: frame skip, frame limit, smoothing."""
    parser.add_argument("--frame-skip", type=int, default=1, help="videos: analyze every N-th frame")
    parser.add_argument("--max-frames", type=int, help="videos: stop after N analyzed frames")
    parser.add_argument("--smoothing", type=float, help="videos: EMA factor (0, 1] for per-frame probabilities")


def analyzer_options(args: argparse.Namespace) -> AnalyzerOptions:
    """The AnalyzerOptions that the `add_analyzer_arguments` options ask for.

    Raises:
        ValueError: an option out of range.
    """
    detector = DetectorOptions(model=args.detector, engine=args.detector_engine, min_score=args.min_score,
                               **({} if args.threads is None else {"threads": args.threads}))
    return AnalyzerOptions(emotion_model=args.model, expressiveness_model=args.expressiveness_model,
                           detector=detector, device=args.device, threads=args.threads, max_faces=args.max_faces,
                           min_face_size=args.min_face_size, verify_model_hash=not args.no_verify_model,
                           flip_average=args.flip_average, crop_average=args.crop_average,
                           expressiveness=args.expressiveness,
                           landmarks=True if args.landmarks else None, tracking=not args.detect_every_frame)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fer-analyze", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("input", nargs="?",
                        help="an image, a folder of images, a video file, or a webcam index (0, 1, ...)")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--list-models", action="store_true", help="list the installed models and exit")
    add_verbosity_arguments(parser)
    add_analyzer_arguments(parser)
    add_video_arguments(parser)
    parser.add_argument("--json", type=Path, help="write all results as JSON ('-' for stdout)")
    parser.add_argument("--csv", type=Path, help="write the per-face timeline as CSV")
    parser.add_argument("--annotate", type=Path, help="write boxes and labels: an image, a folder, or a video")
    parser.add_argument("--report", type=Path,
                        help="videos: write the candidate's report page, one self-contained .html file "
                             "(needs the extra fer-edge[report])")
    parser.add_argument("--report-thumbnails", action="store_true",
                        help="with --report: embed face thumbnails of key moments (the page then shows the face)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on videos")
    return parser


def _images(analyzer: Analyzer, paths: list[Path], args: argparse.Namespace, folder: bool, say,
            stop: Callable[[], str | None]) -> dict:
    results, skipped, notes, timeline = {}, {}, {}, []
    for i, path in enumerate(paths):
        if reason := stop():  # the images not reached are listed, so that none is silently missing
            log.warning("%s: %d image(s) not analyzed", reason, len(paths) - i)
            skipped.update((str(rest), f"not analyzed: {reason}") for rest in paths[i:])
            break
        try:
            image = read_image(path)
            faces = analyzer.analyze(image)
        except (ValueError, cv2.error) as exc:
            if not folder:
                raise ValueError(f"{path}: {str(exc).strip()}") from exc
            log.warning("%s: %s; skipped", path, str(exc).strip())
            skipped[str(path)] = str(exc).strip()
            continue
        if note := analyzer.too_small(image):
            log.warning("%s: %s", path, note)
            notes[str(path)] = note
        say(image_summary(path.name, faces))
        results[str(path)] = [face.to_dict() for face in faces]
        timeline.append((str(path), FrameResult(i, None, tuple(faces))))
        if args.annotate:
            target = args.annotate / path.name if folder else args.annotate
            target.parent.mkdir(parents=True, exist_ok=True)
            bgr = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR) if image.ndim == 3 and image.shape[2] == 4 else image
            write_image(target, draw_faces(bgr, faces))
    if args.csv:
        with writing("--csv", args.csv):
            args.csv.write_text(timeline_csv(timeline, analyzer.labels))
    return {"images": results, "skipped": skipped, "warnings": notes}


def _source_fps(source: Path | int) -> float:
    """The frame rate a video file says it has, or 0 (webcams are not opened twice)."""
    if not isinstance(source, Path):
        return 0.0
    capture = cv2.VideoCapture(str(source))
    try:
        fps = float(capture.get(cv2.CAP_PROP_FPS)) if capture.isOpened() else 0.0
    finally:
        capture.release()
    return fps if math.isfinite(fps) and fps > 0 else 0.0


def _video(analyzer: Analyzer, source: Path | int, args: argparse.Namespace, say,
           stop: Callable[[], str | None]) -> dict:
    writer = None
    if args.annotate:
        # one annotated frame per analyzed frame: the source's rate divided by the frame skip plays at real speed
        fps = (_source_fps(source) or DEFAULT_ANNOTATED_FPS) / max(1, args.frame_skip)
        writer = VideoWriter(args.annotate, fps)

    def on_frame(result: FrameResult, frame) -> None:
        if writer is not None:
            writer.write(draw_faces(frame, result.faces))

    try:
        report = analyzer.analyze_video(source, frame_skip=args.frame_skip, max_frames=args.max_frames,
                                        progress=not (args.no_progress or args.quiet) and sys.stderr.isatty(),
                                        smoothing=args.smoothing, on_frame=on_frame if writer else None,
                                        stop=stop)
    finally:
        if writer is not None:
            writer.close()
    say(video_summary(report))
    if args.csv:
        with writing("--csv", args.csv):
            args.csv.write_text(timeline_csv([(str(source), f) for f in report.timeline], analyzer.labels))
    if args.report:
        models = [model.path for model in (analyzer.emotion, analyzer.expressiveness) if model is not None]
        with writing("--report", args.report):
            report.write_html(args.report, models=models, thumbnails=args.report_thumbnails)
        say(f"  report page: {args.report}")
    return {"video": report.to_dict()}


def open_analyzer(options: AnalyzerOptions) -> Analyzer:
    """The Analyzer; a model file that an engine cannot load is refused as bad input (exit 2)."""
    with unloadable_model_as_bad_input():
        return Analyzer(options)


def stdout_closed() -> int:
    """Stops quietly when stdout's reader has gone (``fer-analyze --list-models | head``), as a process that
    SIGPIPE ended would: stdout goes to the null device, so that the exit's flush cannot fail again; 141."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 128 + 13


def run_command(work: Callable[[], int], logger: logging.Logger) -> int:
    """``work()``'s exit code, its errors logged and mapped to the exit codes of the module docstring: bad usage
    or input (FileNotFoundError, ValueError, ImportError) 2, failed work (RuntimeError, OSError) 1; stdout's reader
    gone (BrokenPipeError) 141, quietly."""
    try:
        return work()
    except BrokenPipeError:
        return stdout_closed()
    except (FileNotFoundError, ValueError, ImportError) as exc:
        logger.error("%s", exc)
        return 2
    except (RuntimeError, OSError) as exc:
        logger.error("%s", exc)
        return 1


def _analyze(args: argparse.Namespace, say: Callable[[str], None]) -> int:
    kind, source = input_kind(args.input)
    check_targets(kind, args.json, args.csv, args.annotate)
    check_report_target(kind, args.report, args.report_thumbnails)
    paths = folder_images(source) if kind == "folder" else [source] if isinstance(source, Path) else []
    targets = {"--json": args.json, "--csv": args.csv, "--annotate": args.annotate, "--report": args.report}
    check_not_inputs(targets, paths, source if kind == "folder" else None)
    check_distinct(targets)
    with open_analyzer(analyzer_options(args)) as analyzer, StopOnSignal() as stopper:
        if kind in ("image", "folder"):
            output = _images(analyzer, paths, args, folder=kind == "folder", say=say, stop=stopper.reason)
        else:
            output = _video(analyzer, source, args, say=say, stop=stopper.reason)
        output = analysis_document(analyzer.emotion, **output)
        if args.json:
            with writing("--json", args.json):
                write_json(args.json, output)
    return stopper.exit_code


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.input is None and not args.list_models:
        parser.error("the input is required (or --list-models)")
    configure_logging(args)
    if args.list_models:
        return run_command(lambda: print(models_table(list_models()), flush=True) or 0, log)
    # with --json -, stdout holds the JSON alone; the summary for people goes to stderr
    stream = sys.stderr if args.json is not None and str(args.json) == STDOUT else sys.stdout
    say = (lambda text: None) if args.quiet else (lambda text: print(text, file=stream))
    try:
        return run_command(lambda: _analyze(args, say), log)
    except KeyboardInterrupt:  # before the analysis, or a second Ctrl-C during it
        log.error("interrupted: no output written")
        return 130


if __name__ == "__main__":
    raise SystemExit(main())

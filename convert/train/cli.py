"""`fer-train`: train the emotion models on FER-2013, or the expressiveness model (a CNN, or a linear head on the
facial-activity components) on interview videos."""

from __future__ import annotations

import argparse
import logging
import math
import os
import signal
import sys
from importlib.util import find_spec
from pathlib import Path

from convert.data.paths import default_fer2013, default_ferplus, ferplus_votes_file, is_shared_fer2013
from convert.train.models import ARCHITECTURES, DEFAULT_WIDTHS
from convert.train.stopping import Terminated, sigterm_stops_as_ctrl_c, stopped
from runtime.outputs import folder_problem
from runtime.preprocess import DEFAULT_CROP_PADDING


def _whole_number(text: str, least: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < least:
        raise argparse.ArgumentTypeError(f"must be {'at least 1' if least == 1 else f'{least} or more'}, got {value}")
    return value


def positive_int(text: str) -> int:
    """argparse type: a whole number of at least 1."""
    return _whole_number(text, 1)


def non_negative_int(text: str) -> int:
    """argparse type: a whole number of at least 0."""
    return _whole_number(text, 0)


def positive_float(text: str) -> float:
    """argparse type: a finite number above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a number above 0, got {text}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fer-train", description=__doc__)
    parser.add_argument("--threads", type=non_negative_int, default=0, help="TensorFlow threads (0: all cores)")
    parser.add_argument("--log", type=Path, help="also append the progress log to this file")
    sub = parser.add_subparsers(dest="task", required=True)

    emo = sub.add_parser("emotion", help="7-class emotion model on FER-2013")
    emo.add_argument("--arch", choices=ARCHITECTURES, default="cnn")
    emo.add_argument("--data", type=Path, default=default_fer2013(),
                     help="fer2013.csv(.gz) (default: $FER2013_CSV or ../shared/data/fer2013/fer2013.csv.gz)")
    emo.add_argument("--ferplus", type=Path,
                     help="FER+ majority labels, one row per row of --data, for the report (default: the shared "
                          "data's ferplus_majority_labels.csv when --data is the shared FER-2013 file; else none)")
    emo.add_argument("--no-ferplus", action="store_true", help="report against the original labels only")
    emo.add_argument("--run-dir", type=Path, required=True, help="checkpoints, state and log; resumed if present")
    emo.add_argument("--out", type=Path, help="write the best model here (.keras) with its manifest")
    emo.add_argument("--epochs", type=positive_int)
    emo.add_argument("--batch-size", type=positive_int)
    emo.add_argument("--learning-rate", type=positive_float)
    emo.add_argument("--input-side", type=positive_int)
    emo.add_argument("--width", type=int,
                     help="filters of the first stage, doubling per stage (default: "
                          + ", ".join(f"{arch} {width}" for arch, width in DEFAULT_WIDTHS.items()) + ")")
    emo.add_argument("--seed", type=int, default=1234)
    emo.add_argument("--limit", type=positive_int, help="use at most this many faces per split (smoke runs)")
    emo.add_argument("--init-from", type=Path, help="start from this trained model's weights (same architecture)")
    emo.add_argument("--teacher", type=Path, action="append", default=[],
                     help="distil from this trained .keras model; repeat for an ensemble (mean of the teachers, each "
                          "averaged with its mirror image)")
    emo.add_argument("--distill-weight", type=float, default=0.5,
                     help="the teacher's share of the training target, 0..1 (default 0.5)")
    emo.add_argument("--distill-offline", action="store_true",
                     help="ask the teachers once, on the training faces as they are (and mirrored), instead of on "
                          "every augmented batch: each epoch then costs the student's training alone")
    emo.add_argument("--erasing", type=float, default=0.0,
                     help="probability of random erasing per training face, 0..1 (default 0: off)")
    emo.add_argument("--ferplus-votes", type=Path, nargs="?", const=ferplus_votes_file(), default=None,
                     help="mix FER+ vote distributions into the targets (fer2013new.csv; default: the shared data's)")
    emo.add_argument("--ferplus-weight", type=float, default=0.5,
                     help="the vote distribution's share of the target, 0..1 (default 0.5)")

    exp = sub.add_parser("expressiveness", help="3-class expressiveness model from interview videos")
    exp.add_argument("--metadata", type=Path, required=True, help="metadata.jsonl (file_name, facial_expression)")
    exp.add_argument("--videos", type=Path, required=True, help="folder holding the videos")
    exp.add_argument("--run-dir", type=Path, required=True)
    exp.add_argument("--out", type=Path)
    exp.add_argument("--frame-skip", type=positive_int, default=15, help="use every N-th frame")
    exp.add_argument("--max-frames", type=positive_int, default=20, help="faces taken per video at most")
    exp.add_argument("--face-detector", choices=("blazeface", "none"), default="blazeface",
                     help="how faces are found; none: the videos already show face crops (whole frame used)")
    exp.add_argument("--padding", type=float, default=DEFAULT_CROP_PADDING,
                     help="crop padding, a fraction of the face box side (default: the analyzer's)")
    exp.add_argument("--epochs", type=positive_int, default=30)
    exp.add_argument("--batch-size", type=positive_int, default=64)
    exp.add_argument("--learning-rate", type=positive_float, default=1e-3)
    exp.add_argument("--val-fraction", type=float, default=0.2)
    exp.add_argument("--seed", type=int, default=1234)

    act = sub.add_parser("activity", help="a linear expressiveness head on the facial-activity components "
                                          "(participant-grouped evaluation; no TensorFlow)")
    act.add_argument("--metadata", type=Path, required=True, help="metadata.jsonl (file_name, facial_expression, "
                                                                  "user_no)")
    act.add_argument("--videos", type=Path, required=True, help="folder holding the videos")
    act.add_argument("--out", type=Path, required=True, help="the head file to write (.json)")
    act.add_argument("--folds", type=int, default=5, help="participant-grouped cross-validation folds")
    act.add_argument("--alpha", type=float, default=1.0, help="ridge penalty")
    act.add_argument("--frame-skip", type=positive_int, default=1, help="analyze every N-th frame of each video")
    act.add_argument("--seed", type=int, default=1234)
    return parser


def _configure(log_file: Path | None) -> None:
    """Logs to stderr and, with ``log_file``, appends to it too (its folder made).

    Raises:
        ValueError: the log file cannot be opened.
    """
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    problem = None
    if log_file:
        try:
            log_file.parent.mkdir(parents=True, exist_ok=True)
            handlers.append(logging.FileHandler(log_file))
        except OSError as exc:
            problem = f"--log {log_file} cannot be opened: {exc}"
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", handlers=handlers)
    if problem:
        raise ValueError(problem)


def _set_threads(threads: int) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if threads:
        import tensorflow as tf

        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
        except RuntimeError:  # TensorFlow already started in this process (e.g. called from Python twice)
            logging.getLogger("fer-train").warning("--threads ignored: TensorFlow is already initialized")


def _folder_problem(folder: Path, what: str) -> str | None:
    """Why ``folder`` can neither be used nor made, prefixed with ``what``, or None."""
    problem = folder_problem(folder)
    return f"{what}: {problem}" if problem else None


def _file_problem(path: Path, option: str, suffixes: tuple[str, ...] = ()) -> str | None:
    """Why ``path`` cannot be written as the file ``option`` names, or None."""
    if suffixes and path.suffix not in suffixes:
        return f"{option} must name a {' or '.join(suffixes)} file, got {path}"
    if path.is_dir():
        return f"{option} {path} is a folder; name a file"
    return _folder_problem(path.parent, f"{option} {path}")


def _check_paths(args: argparse.Namespace) -> None:
    """The files and folders that training writes, checked before any work so that a run does not fail at its end.

    Raises:
        ValueError: one of them cannot be written.
    """
    problems = []
    if args.log is not None:
        problems.append(_file_problem(args.log, "--log"))
    if args.task == "activity":
        problems.append(_file_problem(args.out, "--out", (".json",)))
    else:
        from convert.pipeline import KERAS_SUFFIXES

        if args.out is not None:
            problems.append(_file_problem(args.out, "--out", KERAS_SUFFIXES))
        if args.run_dir.exists() and not args.run_dir.is_dir():
            problems.append(f"--run-dir {args.run_dir} is a file, not a run folder")
        else:
            problems.append(_folder_problem(args.run_dir, f"--run-dir {args.run_dir}"))
    problems = [p for p in problems if p]
    if problems:
        raise ValueError("; ".join(problems))


def _require_tensorflow(task: str) -> None:
    """Refuses, before any work (``expressiveness`` would decode every video first), a task that trains a Keras
    model where TensorFlow is not installed (the minimal install).

    Raises:
        ImportError: TensorFlow or Keras is missing; the message names the extra that brings them.
    """
    missing = [name for name in ("tensorflow", "keras") if find_spec(name) is None]
    if missing:
        raise ImportError(f"fer-train {task} trains with TensorFlow and Keras ({' and '.join(missing)} not "
                          "installed): pip install 'fer-edge[convert]'")


def _ferplus_labels(args: argparse.Namespace) -> Path | None:
    """The FER+ majority-label file to report against: --ferplus, else the shared data's when --data is the shared
    FER-2013 file (its rows are that file's), else none; logged."""
    log = logging.getLogger("fer-train")
    if args.no_ferplus:
        return None
    if args.ferplus is not None:
        return args.ferplus
    shared = default_ferplus()
    if shared is None:
        log.info("no FER+ labels: the shared data has no fer2013/ferplus_majority_labels.csv (--ferplus FILE gives "
                 "one); PrivateTest is reported against the original labels only")
        return None
    if not is_shared_fer2013(args.data):
        log.info("no FER+ labels: %s's rows are the shared FER-2013 file's, not those of --data %s (--ferplus FILE "
                 "gives labels for it); PrivateTest is reported against the original labels only", shared, args.data)
        return None
    log.info("FER+ labels: %s (the shared data's, for the shared FER-2013 file)", shared)
    return shared


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    log = logging.getLogger("fer-train")
    try:
        _check_paths(args)
    except ValueError as exc:
        _configure(None)
        log.error("%s", exc)
        return 2
    try:
        with sigterm_stops_as_ctrl_c():
            return _run(args)
    except (FileNotFoundError, ValueError, ImportError) as exc:
        log.error("%s", exc)
        return 2
    except KeyboardInterrupt as exc:  # each checkpoint is replaced whole, so the run folder resumes as it is
        terminated = isinstance(exc, Terminated)
        log.error("%s", stopped(args, "SIGTERM" if terminated else "Ctrl-C"))
        return 128 + (signal.SIGTERM if terminated else signal.SIGINT)


def _run(args: argparse.Namespace) -> int:
    """The task ``args`` asks for, its errors raised for ``main`` to report."""
    _configure(args.log)
    if args.task != "activity":  # the activity head is numpy only
        _require_tensorflow(args.task)
        _set_threads(args.threads)
    if args.task == "emotion":
        from convert.train.emotion import train_emotion

        if args.data is None:
            raise FileNotFoundError("no FER-2013 file: pass --data or set FER2013_CSV")
        train_emotion(args.arch, args.data, args.run_dir, args.out, epochs=args.epochs,
                      batch_size=args.batch_size, learning_rate=args.learning_rate,
                      input_side=args.input_side, width=args.width,
                      ferplus=_ferplus_labels(args),
                      seed=args.seed, limit=args.limit, init_from=args.init_from, teachers=args.teacher,
                      distill_weight=args.distill_weight, distill_offline=args.distill_offline,
                      erasing=args.erasing,
                      ferplus_votes=args.ferplus_votes, ferplus_weight=args.ferplus_weight)
    elif args.task == "activity":
        from convert.train.activity import train_activity_head

        train_activity_head(args.metadata, args.videos, args.out, folds=args.folds, alpha=args.alpha,
                            frame_skip=args.frame_skip, seed=args.seed)
    else:
        from convert.train.expressiveness import train_expressiveness

        train_expressiveness(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

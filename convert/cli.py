"""`fer-convert`: turn a trained Keras expression model into verified TFLite and ONNX files with manifests."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from dataclasses import replace
from pathlib import Path

from convert.data.paths import default_fer2013, default_ferplus, is_shared_fer2013
from convert.formats import FORMATS
from convert.pipeline import ConversionCancelled, ConvertOptions, ConvertResult, convert_model, name_problem
from runtime.manifest import COLOR_MODES, Normalization, manifest_path
from runtime.outputs import folder_problem

log = logging.getLogger("fer-convert")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fer-convert",
        description="Convert a Keras expression model to TFLite/ONNX, verified against the original. "
        "With no format flag, every format is written.",
    )
    parser.add_argument("model", type=Path, help="the Keras model (.keras or .h5)")
    parser.add_argument("--out", type=Path, help="output folder (default: the model's folder)")
    parser.add_argument("--name", help="output file stem (default: the model's stem)")
    formats = parser.add_argument_group("formats")
    for fmt in FORMATS:
        formats.add_argument(f"--{fmt.key}", action="store_true", help=fmt.help)
    formats.add_argument("--all", action="store_true", help="every format above")
    formats.add_argument("--verify-existing", action="store_true",
                         help="build nothing: verify the files of these formats already in --out on this machine "
                              "and rewrite their manifests (the model files are left as they are). Each file must "
                              "still be the one its manifest describes, converted from this model")
    parser.add_argument("--int8-io", choices=("int8", "uint8", "float32"),
                        help="input/output type of the full-integer TFLite model (default int8)")
    data = parser.add_argument_group("data")
    data.add_argument("--data", type=Path, default=default_fer2013(),
                      help="FER-2013 csv(.gz): calibration, agreement and PrivateTest accuracy "
                      "(default: $FER2013_CSV or ../shared/data/fer2013/fer2013.csv.gz when present)")
    data.add_argument("--no-data", action="store_true", help="do not use FER-2013 (then --calibration is needed)")
    data.add_argument("--calibration", type=Path,
                      help="calibration faces instead: an .npz (images, labels) or a folder")
    data.add_argument("--calibration-count", type=int, default=500, help="faces for static quantization")
    data.add_argument("--validation-count", type=int, default=1000, help="faces for the agreement check")
    data.add_argument("--ferplus", type=Path,
                      help="FER+ majority labels csv, one row per row of --data (default: the shared data's when "
                           "--data is the shared FER-2013 file; else none)")
    meta = parser.add_argument_group("model description (when the model has no manifest of its own)")
    meta.add_argument("--labels", help="comma-separated class names in output order")
    meta.add_argument("--color", choices=COLOR_MODES)
    meta.add_argument("--scale", type=float, help="input = pixel * scale + offset")
    meta.add_argument("--offset", type=float)
    parser.add_argument("--threads", type=int, help="threads for verification")
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and the table")
    return parser


def _ferplus_labels(args: argparse.Namespace) -> Path | None:
    """--ferplus, else the shared data's FER+ labels when --data is the shared FER-2013 file (their rows are that
    file's), else none (logged): they used to be matched against any --data file's rows."""
    if args.ferplus is not None:
        return args.ferplus
    shared = default_ferplus()
    if shared is not None and args.data is not None and not is_shared_fer2013(args.data):
        logging.getLogger("fer-convert").info("no FER+ labels: %s's rows are the shared FER-2013 file's, not those "
                                              "of --data %s (--ferplus FILE gives them)", shared, args.data)
        return None
    return shared


def _options(args: argparse.Namespace, parser: argparse.ArgumentParser) -> ConvertOptions:
    chosen = tuple(f for f in FORMATS if args.all or getattr(args, f.key.replace("-", "_")))
    formats = chosen or FORMATS
    if args.int8_io and not any(f.key == "int8" for f in formats):
        parser.error("--int8-io applies to the int8 TFLite model: add --int8 (or --all)")
    if args.int8_io and args.verify_existing:
        parser.error("--int8-io chooses how the int8 TFLite model is built; --verify-existing builds nothing and "
                     "keeps the tensor types the file has: re-convert it to change them")
    if args.no_data and args.calibration is None:
        parser.error("--no-data needs --calibration (faces to calibrate and verify on)")
    if args.calibration_count < 1 or args.validation_count < 1:
        parser.error("--calibration-count and --validation-count must be at least 1")
    if args.name is not None and name_problem(args.name):
        parser.error(f"--name {args.name!r}: {name_problem(args.name)}")
    if (args.scale is None) != (args.offset is None):
        parser.error("--scale and --offset go together")
    overrides: dict = {}
    if args.labels:
        overrides["labels"] = tuple(label.strip() for label in args.labels.split(",") if label.strip())
    if args.color:
        overrides["color"] = args.color
    if args.scale is not None:
        overrides["normalization"] = Normalization(args.scale, args.offset)
    return ConvertOptions(
        formats=formats,
        out_dir=args.out or args.model.parent,
        name=args.name,
        fer2013=None if args.no_data else args.data,
        calibration=args.calibration,
        calibration_count=args.calibration_count,
        validation_count=args.validation_count,
        ferplus=None if args.no_data else _ferplus_labels(args),
        int8_io=args.int8_io or "int8",
        overrides=overrides,
        threads=args.threads,
        verify_existing=args.verify_existing,
    )


def format_table(results: list[ConvertResult]) -> str:
    """The summary printed after a conversion: one row per file."""
    header = (f"{'format':<10} {'file':<34} {'size KB':>8} {'agree':>7} {'max diff':>9} {'acc':>7} "
              f"{'acc FER+':>8} {'s':>6}")
    rows = [header, "-" * len(header)]
    for r in results:
        v = r.manifest.verification
        test = v.get("privatetest", {})
        acc = {key: f"{test[key]['accuracy']:.4f}" if key in test else "-" for key in ("fer2013", "ferplus")}
        rows.append(
            f"{r.format.key:<10} {r.path.name:<34} {r.manifest.file['bytes'] / 1024:>8.1f} "
            f"{v['keras']['top1_agreement']:>7.4f} {v['keras']['max_abs_diff']:>9.5f} "
            f"{acc['fer2013']:>7} {acc['ferplus']:>8} {r.seconds:>6.1f}"
        )
    keras_acc = results[0].manifest.verification.get("keras_privatetest") if results else None
    if keras_acc:
        rows.append(f"Keras source PrivateTest accuracy: {keras_acc['fer2013']['accuracy']:.4f}"
                    + (f" (FER+ {keras_acc['ferplus']['accuracy']:.4f})" if "ferplus" in keras_acc else ""))
    return "\n".join(rows)


_STOP = threading.Event()  # set by SIGTERM; the pipeline checks it too, in case a library swallowed the SystemExit


def _terminate(signum: int, frame: object) -> None:
    _STOP.set()
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    options = replace(_options(args, parser), cancel=_STOP)
    problem = folder_problem(options.out_dir)  # before any model or data is loaded
    if problem:
        log.error("--out %s: %s", options.out_dir, problem)
        return 2
    # SIGTERM (a job scheduler, `kill`) takes the same clean-up path as Ctrl-C: the staging folder is removed
    signal.signal(signal.SIGTERM, _terminate)
    try:
        results = convert_model(args.model, options)
    except ConversionCancelled as exc:
        log.error("%s", exc)
        return 128 + signal.SIGTERM
    except (FileNotFoundError, ValueError, PermissionError, ImportError, RuntimeError) as exc:
        if _STOP.is_set():  # the SIGTERM's SystemExit, turned into another error by a library it went through
            log.error("stopped by SIGTERM; nothing was written (%s)", exc)
            return 128 + signal.SIGTERM
        if isinstance(exc, RuntimeError):
            log.error("conversion failed, nothing written: %s", exc)
            return 1
        log.error("%s", exc)
        return 2
    except OSError as exc:  # the disk filled, a broken link as --out...: a failure of the work, not of the input
        log.error("conversion failed: %s", exc)
        return 1
    print(format_table(results))
    for r in results:
        print(f"wrote {r.path} (+ {manifest_path(r.path).name})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

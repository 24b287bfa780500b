"""`fer-convert`'s work: load a Keras model, export each requested format, verify it, write manifests.

Outputs are written into a private folder inside the output folder and moved into place only when every
requested format has been built and verified, so a failure leaves no half-written files.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from convert import __version__
from convert.data.calibration import CalibrationDataError, load_faces, stratified_indices, stratified_sample
from convert.data.fer2013 import FaceSet, check_rows, load_fer2013, load_ferplus_majority
from convert.existing import (
    check_same_calibration,
    check_same_input,
    check_same_source,
    check_unchanged,
    existing_manifest,
)
from convert.exporters import export_onnx, export_tflite, quantize_onnx
from convert.formats import ExportFormat
from convert.staging import remove_stale_staging, staging_prefix
from convert.verify import accuracy, agreement, machine_record, predict_file
from runtime.backends.tflite import interpreter_module, tensor_quantization
from runtime.manifest import (
    EXPRESSIVENESS_LABELS,
    FER2013_LABELS,
    Manifest,
    Normalization,
    load_manifest,
    manifest_path,
    save_manifest,
    sha256_of,
)
from runtime.preprocess import prepare_faces

log = logging.getLogger(__name__)

KERAS_SUFFIXES = (".keras", ".h5")
AGREEMENT_WARNING = 0.95  # top-1 agreement with Keras below which a converted file is reported loudly


@dataclass(frozen=True)
class ConvertOptions:
    """What to build and with which data.

    Attributes:
        formats: the formats to write (rows of ``convert.formats.FORMATS``).
        out_dir: where the files go (created if missing).
        name: output file stem (default: the model's stem).
        fer2013: FER-2013 CSV: calibration faces (Training), agreement faces (PublicTest), accuracy (PrivateTest).
        calibration: another calibration source (.npz or image folder); overrides FER-2013 for calibration.
        calibration_count: faces used to calibrate static quantization (stratified over classes).
        validation_count: faces used to measure agreement with Keras.
        ferplus: FER+ majority labels, to report accuracy against them too.
        int8_io: input/output type of the full-integer TFLite model ("int8", "uint8" or "float32").
        overrides: manifest fields given on the command line (labels, color, normalization, task).
        threads: threads for verification inference.
        seed: sampling seed.
        verify_existing: do not build: verify the files of these formats already in ``out_dir`` against the model
            on this machine and rewrite their manifests (the model files stay byte for byte as they are).
        cancel: set from elsewhere (a signal handler) to stop: checked between formats and before anything is
            published, so a stop that a library swallowed still leaves nothing behind.
    """

    formats: tuple[ExportFormat, ...]
    out_dir: Path
    name: str | None = None
    fer2013: Path | None = None
    calibration: Path | None = None
    calibration_count: int = 500
    validation_count: int = 1000
    ferplus: Path | None = None
    int8_io: str = "int8"
    overrides: dict[str, Any] = field(default_factory=dict)
    threads: int | None = None
    seed: int = 0
    verify_existing: bool = False
    cancel: threading.Event | None = None


class ConversionCancelled(Exception):
    """The conversion was stopped through ``ConvertOptions.cancel``; nothing was written."""


def _check_cancel(options: ConvertOptions) -> None:
    if options.cancel is not None and options.cancel.is_set():
        raise ConversionCancelled("the conversion was stopped; nothing was written")


@dataclass(frozen=True)
class ConvertResult:
    """One written file, its manifest, and the time it took."""

    format: ExportFormat
    path: Path
    manifest: Manifest
    seconds: float


def load_keras(path: Path, role: str = "model") -> Any:
    """Loads a Keras model file; ``role`` names it in the error for a missing file ("teacher model", ...).

    Raises:
        FileNotFoundError: no such file. ValueError: not a loadable Keras model, or its input is not an image.
    """
    if not path.is_file():
        raise FileNotFoundError(f"{role} file not found: {path}")
    if path.suffix not in KERAS_SUFFIXES:
        raise ValueError(f"{path.name} is not a Keras model file (expected {' or '.join(KERAS_SUFFIXES)})")
    try:
        import keras
    except ImportError as exc:
        raise ImportError(f"reading Keras models needs TensorFlow and Keras: pip install 'fer-edge[convert]' "
                          f"({exc})") from None

    try:
        model = keras.models.load_model(path, compile=False)
    except Exception as exc:  # Keras raises many types (ValueError, OSError, zipfile.BadZipFile, ...)
        raise ValueError(f"{path} cannot be loaded as a Keras model: {exc}") from exc
    inputs = model.inputs
    shape = tuple(inputs[0].shape) if len(inputs) == 1 else ()
    if len(shape) != 4 or shape[3] not in (1, 3) or None in shape[1:3]:
        raise ValueError(f"{path.name}: the model's input must be one image batch (N, H, W, 1 or 3), "
                         f"got {[tuple(i.shape) for i in inputs]}")
    if len(model.outputs) != 1 or len(model.outputs[0].shape) != 2:
        raise ValueError(f"{path.name}: the model must have one output of class scores (N, K), "
                         f"got {[tuple(o.shape) for o in model.outputs]}")
    return model


def source_manifest(model: Any, model_path: Path, overrides: dict[str, Any]) -> Manifest:
    """The Keras model's description: its own manifest when fer-train wrote one, else derived from its
    shapes (labels by class count), with command-line overrides applied last."""
    height, width, channels = model.inputs[0].shape[1:]
    classes = int(model.outputs[0].shape[-1])
    if manifest_path(model_path).is_file():
        base = load_manifest(model_path)
    else:
        labels = {len(FER2013_LABELS): FER2013_LABELS, len(EXPRESSIVENESS_LABELS): EXPRESSIVENESS_LABELS}
        if classes not in labels and "labels" not in overrides:
            raise ValueError(f"{model_path.name} has {classes} outputs and no manifest: pass --labels")
        task = "expressiveness" if classes == len(EXPRESSIVENESS_LABELS) else "emotion"
        base = Manifest(task=task, labels=labels.get(classes, ("?",)), input_size=(height, width),
                        color="gray" if channels == 1 else "rgb", normalization=Normalization(1 / 255.0, 0.0))
        log.info("%s has no manifest: assuming labels %s and normalization x/255 (override with flags)",
                 model_path.name, ",".join(base.labels))
    manifest = replace(base, **overrides, input_size=(int(height), int(width)), format="keras", precision="fp32",
                       source={"name": model_path.name, "sha256": sha256_of(model_path)})
    if len(manifest.labels) != classes:
        raise ValueError(f"{model_path.name} has {classes} outputs but {len(manifest.labels)} labels")
    if manifest.channels != channels:
        raise ValueError(f"{model_path.name} takes {channels} channel(s) but colour mode is {manifest.color!r}")
    return manifest


@dataclass(frozen=True)
class _Data:
    calibration: FaceSet | None
    validation: FaceSet
    test: FaceSet | None
    test_labels: dict[str, np.ndarray]
    calibration_source: str
    calibration_overlap: int | None = None  # validation faces that are also calibration faces (one shared pool)
    held_out: int | None = None  # calibration faces kept out of the validation faces (one shared pool)


def _load_data(options: ConvertOptions, calibrated: bool, classes: int) -> _Data:
    """Calibration, validation and test faces. ``calibrated``: a requested format is statically quantized (its
    calibration faces are drawn, and with --verify-existing held out of the validation faces all the same).

    With FER-2013, calibration comes from Training (or --calibration) and validation from PublicTest: disjoint
    splits. Without it both come from the --calibration pool: validation is drawn from the faces not used for
    calibration, and only when the pool is too small for both counts is it topped up with calibration faces,
    whose number is returned as ``calibration_overlap``.
    """
    fer = load_fer2013(options.fer2013) if options.fer2013 else None
    if options.calibration:
        # an .npz's labels only stratify the sample: FER-2013 emotions (also for an expressiveness model) or the
        # model's own classes
        pool = load_faces(options.calibration, classes=max(classes, len(FER2013_LABELS)))
        source = str(options.calibration)
    elif fer:
        pool, source = fer["Training"], f"{options.fer2013.name}:Training"
    else:
        raise CalibrationDataError(
            "no calibration/validation faces: pass --data FER2013.csv.gz (or set FER2013_CSV) or --calibration")
    held_out = stratified_indices(pool.labels, options.calibration_count, options.seed) if calibrated else None
    sample = pool.subset(held_out) if calibrated and not options.verify_existing else None
    if fer:
        validation = stratified_sample(fer["PublicTest"], options.validation_count, options.seed)
        test = fer["PrivateTest"]
        labels = {"fer2013": test.labels}
        if options.ferplus:
            majority = load_ferplus_majority(options.ferplus)
            check_rows(options.ferplus, len(majority), options.fer2013, sum(len(faces) for faces in fer.values()))
            labels["ferplus"] = majority[test.rows]
        return _Data(sample, validation, test, labels, source)
    if held_out is None:
        return _Data(None, stratified_sample(pool, options.validation_count, options.seed + 1), None, {}, source)
    rest = np.setdiff1d(np.arange(len(pool)), held_out)
    chosen = rest[stratified_indices(pool.labels[rest], options.validation_count, options.seed + 1)]
    short = min(options.validation_count, len(pool)) - len(chosen)
    if short > 0:  # the pool holds fewer faces than both counts together
        chosen = np.concatenate([chosen, held_out[stratified_indices(pool.labels[held_out], short, options.seed + 2)]])
        log.warning("%s holds %d faces, fewer than --calibration-count %d + --validation-count %d: %d of the %d "
                    "validation faces are also calibration faces, so the calibrated formats' agreement is partly "
                    "measured on faces they were calibrated on (recorded as verification.keras.calibration_overlap)",
                    source, len(pool), options.calibration_count, options.validation_count, short, len(chosen))
    return _Data(sample, pool.subset(np.sort(chosen)), None, {}, source, calibration_overlap=max(short, 0),
                 held_out=len(held_out))


def _quant_params(path: Path) -> dict[str, Any]:
    if path.suffix != ".tflite":
        return {}
    module, _ = interpreter_module()
    interpreter = module.Interpreter(model_path=str(path))
    return {
        "input_quantization": tensor_quantization(interpreter.get_input_details()[0]),
        "output_quantization": tensor_quantization(interpreter.get_output_details()[0]),
    }


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be an output file stem (one plain file name inside --out), or None."""
    if not name.strip():
        return "the name is empty"
    if "/" in name or "\\" in name or "\0" in name:  # either separator, whatever the platform
        return "the name must be a file stem, without a path separator"
    if ".." in name:
        return "the name must not contain '..'"
    return None


def convert_model(model_path: Path, options: ConvertOptions) -> list[ConvertResult]:
    """Builds, verifies and writes every requested format; returns them in the order requested.

    Raises:
        FileNotFoundError, ValueError (incl. CalibrationDataError), PermissionError: bad input, nothing written.
        RuntimeError: an export step failed; nothing written.
        ConversionCancelled: ``options.cancel`` was set; nothing written.
    """
    if options.name is not None:
        problem = name_problem(options.name)
        if problem:
            raise ValueError(f"--name {options.name!r}: {problem}")
    stem = options.name or model_path.stem
    existing = {fmt.key: options.out_dir / f"{stem}{fmt.suffix}" for fmt in options.formats}
    previous: dict[str, Manifest] = {}
    if options.verify_existing:
        previous = {fmt.key: existing_manifest(existing[fmt.key], fmt) for fmt in options.formats}
    model = load_keras(model_path)
    if previous:
        check_same_source(previous, existing, model_path)
    source = source_manifest(model, model_path, options.overrides)
    if previous:
        check_same_input(previous, existing, source)
    calibrated = any(f.calibrated for f in options.formats)
    data = _load_data(options, calibrated, len(source.labels))
    if previous and data.held_out is not None:
        check_same_calibration(previous, existing, data.calibration_source, data.held_out)
    to_input = lambda faces: prepare_faces(faces.images, source.input_size, source.color, source.normalization)
    calibration = to_input(data.calibration) if data.calibration is not None else None
    validation = to_input(data.validation)
    test = to_input(data.test) if data.test is not None and source.task == "emotion" else None
    reference = model.predict(validation, batch_size=256, verbose=0)
    reference_test = model.predict(test, batch_size=256, verbose=0) if test is not None else None
    outputs_probabilities = bool(np.allclose(reference.sum(1), 1.0, atol=1e-3) and reference.min() >= 0)
    keras_accuracy = accuracy(reference_test, data.test_labels, source.labels) if test is not None else None

    options.out_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_staging(options.out_dir)
    staging = Path(tempfile.mkdtemp(prefix=staging_prefix(), dir=options.out_dir))
    results: list[ConvertResult] = []
    try:
        for fmt in options.formats:
            _check_cancel(options)
            start = time.perf_counter()
            target = staging / f"{stem}{fmt.suffix}"
            log.info("building %s -> %s", fmt.key, target.name)
            if options.verify_existing:
                shutil.copy2(existing[fmt.key], target)
                check_unchanged(target, previous[fmt.key], existing[fmt.key])  # not swapped since the check
                extra = {**previous[fmt.key].extra, "reverified_by": f"fer-convert {__version__}"}
                # the file is the one its manifest describes: its precision and tensor types stay as recorded
                kept = {"precision": previous[fmt.key].precision,
                        "input_quantization": previous[fmt.key].input_quantization,
                        "output_quantization": previous[fmt.key].output_quantization}
            else:
                _build(model, fmt, target, staging / f"{stem}_fp32.onnx", calibration, options.int8_io)
                extra = {**source.extra, "created_by": f"fer-convert {__version__}", "format_key": fmt.key,
                         "calibration": {"source": data.calibration_source, "count": len(calibration)}
                         if fmt.calibrated else None,
                         "int8_io": options.int8_io if fmt.key == "int8" else None}
                kept = {"precision": fmt.precision, **_quant_params(target)}
            seconds = time.perf_counter() - start
            verification = {"keras": agreement(reference, predict_file(target, validation, options.threads)),
                            "machine": machine_record(fmt.engine)}
            if fmt.calibrated and data.calibration_overlap is not None:
                verification["keras"]["calibration_overlap"] = data.calibration_overlap
            if verification["keras"]["top1_agreement"] < AGREEMENT_WARNING:
                log.warning("%s agrees with the Keras model on only %.1f%% of %d faces", target.name,
                            100 * verification["keras"]["top1_agreement"], verification["keras"]["n"])
            if test is not None:
                probs = predict_file(target, test, options.threads)
                verification["privatetest"] = accuracy(probs, data.test_labels, source.labels)
                verification["privatetest_agreement"] = agreement(reference_test, probs)
                verification["keras_privatetest"] = keras_accuracy
            manifest = replace(
                source,
                format=fmt.engine,
                outputs_probabilities=outputs_probabilities,
                file={"name": target.name, "sha256": sha256_of(target), "bytes": target.stat().st_size},
                verification=verification,
                extra=extra,
                **kept,
            )
            save_manifest(manifest, target)
            results.append(ConvertResult(fmt, options.out_dir / target.name, manifest, seconds))
        _check_cancel(options)
        _publish(staging, options.out_dir, results)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return results


def _build(model: Any, fmt: ExportFormat, target: Path, fp32_onnx: Path, calibration: np.ndarray | None,
           int8_io: str) -> None:
    try:
        _export(model, fmt, target, fp32_onnx, calibration, int8_io)
    except (ValueError, CalibrationDataError):
        raise
    except Exception as exc:
        raise RuntimeError(f"{fmt.key} export failed: {exc}") from exc


def _export(model: Any, fmt: ExportFormat, target: Path, fp32_onnx: Path, calibration: np.ndarray | None,
            int8_io: str) -> None:
    if fmt.engine == "tflite":
        export_tflite(model, fmt, target, calibration, int8_io)
    elif fmt.precision == "fp32":
        export_onnx(model, target)
    else:
        if not fp32_onnx.is_file():
            export_onnx(model, fp32_onnx.with_suffix(".tmp.onnx"))
            fp32_onnx = fp32_onnx.with_suffix(".tmp.onnx")
        quantize_onnx(fp32_onnx, target, calibration)


def _publish(staging: Path, out_dir: Path, results: list[ConvertResult]) -> None:
    """Moves every finished file and manifest from the staging folder into place."""
    for result in results:
        for name in (result.path.name, manifest_path(result.path).name):
            (staging / name).replace(out_dir / name)

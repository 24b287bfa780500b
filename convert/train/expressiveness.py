"""The 3-class expressiveness model (Reserved / Balanced / Expressive) from interview videos.

Faces are sampled from each video of a RecruitView-style ``metadata.jsonl``, split into training and
validation by video (stratified by class, fixed seed), weighted against class imbalance, and fed to the small
CNN through the resumable fit loop. The validation report goes to ``run_dir/report.json``; the best model, with
its manifest, to ``--out``. The validation split also picks the best epoch, so its figures are mildly optimistic.
"""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from convert.data.recruitview import SamplingOptions, VideoFaces, face_finder, load_video_faces, read_metadata
from convert.metrics import classification_report
from convert.train.export import export_keras_model
from convert.train.loop import BEST, FitConfig, check_resume, fit, load_checkpoint
from convert.train.models import build_cnn
from runtime.faces import FaceFinder
from runtime.manifest import EXPRESSIVENESS_LABELS
from runtime.preprocess import DEFAULT_CROP_PADDING

log = logging.getLogger(__name__)

FACE_DETECTORS = ("blazeface", "none")
REPORT = "report.json"


def default_detector(padding: float = DEFAULT_CROP_PADDING) -> FaceFinder:
    """The runtime's face finder (BlazeFace, the Analyzer's size filter and crops).

    Raises:
        ImportError: the runtime's detector (a TFLite interpreter) is not available.
    """
    try:
        return face_finder(padding)
    except ImportError as exc:
        raise ImportError(
            f"the BlazeFace detector is not available ({exc}); pip install ai-edge-litert, "
            "or pass --face-detector none when the videos already show face crops"
        ) from exc


def create_face_detector(name: str, padding: float = DEFAULT_CROP_PADDING) -> FaceFinder | None:
    """The face finder named on the command line: "blazeface", or "none" (None: every frame is a face crop).

    Raises:
        ValueError: an unknown name.
    """
    if name not in FACE_DETECTORS:
        raise ValueError(f"face detector must be one of {FACE_DETECTORS}, got {name!r}")
    return default_detector(padding) if name == "blazeface" else None


def split_by_video(video_labels: Sequence[int], val_fraction: float, seed: int) -> np.ndarray:
    """Chooses validation videos per class, so that one video's faces are never in both splits.

    Each class with at least two videos gives ``round(n * val_fraction)`` of them (at least one, never all) to
    validation; a class with a single video keeps it for training.

    Args:
        video_labels: the class of each video.
        val_fraction: share of each class's videos held out, in (0, 1).
        seed: fixes the choice.

    Returns:
        Boolean mask over the videos, True for validation.

    Raises:
        ValueError: ``val_fraction`` outside (0, 1), or too few videos for any validation video.
    """
    _check_fraction(val_fraction)
    labels = np.asarray(video_labels)
    rng = np.random.default_rng(seed)
    is_val = np.zeros(len(labels), dtype=bool)
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        if len(members) < 2:
            log.warning("class index %d has a single video: it is used for training only", label)
            continue
        count = min(max(1, round(len(members) * val_fraction)), len(members) - 1)
        is_val[members[:count]] = True
    if not is_val.any():
        raise ValueError(f"too few videos ({len(labels)}) for a validation split: "
                         "need two videos in some class")
    return is_val


def _check_fraction(val_fraction: float) -> None:
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must lie in (0, 1), got {val_fraction}")


def balanced_class_weights(labels: np.ndarray, num_classes: int) -> tuple[float, ...]:
    """Per-class weights ``n_samples / (n_classes * count)``, so every class weighs the same in the loss.

    Raises:
        ValueError: a class has no sample.
    """
    counts = np.bincount(np.asarray(labels), minlength=num_classes)[:num_classes]
    if (counts == 0).any():
        raise ValueError(f"every class needs a training sample, got counts {counts.tolist()}")
    return tuple(float(w) for w in counts.sum() / (num_classes * counts))


def train_expressiveness_model(
    metadata: Path,
    videos: Path,
    run_dir: Path,
    out: Path | None,
    detector: FaceFinder | None,
    sampling: SamplingOptions,
    epochs: int = 30,
    batch_size: int = 64,
    learning_rate: float = 1e-3,
    val_fraction: float = 0.2,
    seed: int = 1234,
) -> dict[str, Any]:
    """Trains (or resumes) the expressiveness CNN in ``run_dir``; with ``out``, writes the best model there.

    Returns:
        {"state": the fit state, "report": the validation report also stored in ``run_dir/report.json``}.

    Raises:
        FileNotFoundError: the metadata file or video folder is missing.
        ValueError: no usable video, a class without videos, or a split that cannot be made.
    """
    _check_fraction(val_fraction)  # before decoding every video
    for name, value in (("epochs", epochs), ("batch_size", batch_size), ("learning_rate", learning_rate)):
        if not value > 0:  # also refuses NaN
            raise ValueError(f"{name} must be above 0, got {value}")
    rows = read_metadata(metadata, videos)
    identity = run_identity(metadata, sampling, val_fraction, detector)
    check_resume(run_dir, None, identity)  # another run, or a corrupt one, refused before the videos are decoded
    data = load_video_faces(rows, detector, sampling)
    is_val = split_by_video([r.label for r in data.rows], val_fraction, seed)[data.videos]
    train_x, train_y = data.faces[~is_val], data.labels[~is_val]
    val_x, val_y = data.faces[is_val], data.labels[is_val]
    weights = balanced_class_weights(train_y, len(EXPRESSIVENESS_LABELS))
    log.info("expressiveness: %d training faces, %d validation faces; class weights %s", len(train_y),
             len(val_y), ", ".join(f"{n}={w:.3f}" for n, w in zip(EXPRESSIVENESS_LABELS, weights)))
    config = FitConfig(epochs=epochs, batch_size=batch_size, learning_rate=learning_rate, seed=seed,
                       class_weights=weights)
    side = sampling.input_side
    state = fit(lambda: build_cnn(len(EXPRESSIVENESS_LABELS), input_side=side),
                (train_x, train_y), (val_x, val_y), len(EXPRESSIVENESS_LABELS), config, run_dir, identity)
    report = validation_report(run_dir / BEST, val_x, val_y)
    report["data"] = _data_summary(data, is_val, sampling)
    (run_dir / REPORT).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    if out is not None:
        verification = {"validation": {k: report["validation"][k] for k in ("n", "accuracy", "macro_f1")}}
        export_keras_model(run_dir / BEST, out, "expressiveness", EXPRESSIVENESS_LABELS, side, state,
                           verification, extra={"architecture": "cnn", "data": report["data"]})
        log.info("wrote %s", out)
    return {"state": state, "report": report}


def run_identity(metadata: Path, sampling: SamplingOptions, val_fraction: float,
                 detector: FaceFinder | None) -> dict[str, Any]:
    """What an expressiveness run folder records beside its FitConfig, so that a resume trains on the same faces:
    the metadata file (name and size), how faces are taken from the videos, the validation share and whether a
    detector finds them."""
    return {"task": "expressiveness", "architecture": "cnn", "metadata": Path(metadata).name,
            "metadata_bytes": Path(metadata).stat().st_size, **asdict(sampling), "val_fraction": val_fraction,
            "face_detector": "none" if detector is None else "blazeface"}


def validation_report(model_path: Path, faces: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
    """Accuracy, macro-F1, per-class recall and confusion of a saved model on the validation faces; logged."""
    model = load_checkpoint(model_path)
    predictions = model.predict(faces, batch_size=256, verbose=0).argmax(axis=1)
    report = classification_report(labels, predictions, EXPRESSIVENESS_LABELS)
    log.info("validation (%d faces): accuracy %.4f, macro-F1 %.4f", report["n"], report["accuracy"],
             report["macro_f1"])
    return {"validation": report, "selected_on": "validation"}


def _data_summary(data: VideoFaces, is_val: np.ndarray, sampling: SamplingOptions) -> dict[str, Any]:
    val_videos = np.unique(data.videos[is_val])
    per_class = np.bincount([r.label for r in data.rows], minlength=len(EXPRESSIVENESS_LABELS))
    return {
        "videos": {"train": int(len(data.rows) - len(val_videos)), "validation": len(val_videos)},
        "faces": {"train": int((~is_val).sum()), "validation": int(is_val.sum())},
        "videos_per_class": dict(zip(EXPRESSIVENESS_LABELS, per_class.tolist())),
        "sampling": {"frame_skip": sampling.frame_skip, "max_frames": sampling.max_frames,
                     "padding": sampling.padding},
    }


def train_expressiveness(args: argparse.Namespace) -> dict[str, Any]:
    """`fer-train expressiveness`: the command-line arguments mapped onto ``train_expressiveness_model``."""
    sampling = SamplingOptions(frame_skip=args.frame_skip, max_frames=args.max_frames, padding=args.padding)
    detector = create_face_detector(args.face_detector, args.padding)
    try:
        return train_expressiveness_model(
            args.metadata, args.videos, args.run_dir, args.out, detector, sampling,
            epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.learning_rate,
            val_fraction=args.val_fraction, seed=args.seed,
        )
    finally:
        if detector is not None:
            detector.close()

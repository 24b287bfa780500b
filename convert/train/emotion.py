"""Emotion models on FER-2013: train on Training, select on PublicTest, report on PrivateTest."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from convert.data.fer2013 import FaceSet, check_rows, load_fer2013, load_ferplus_majority, load_ferplus_votes
from convert.metrics import classification_report
from convert.train.distill import ensemble_probabilities, load_teacher, offline_targets
from convert.train.export import export_keras_model
from convert.train.loop import BEST, FitConfig, check_resume, finished, fit, load_checkpoint
from convert.train.models import DEFAULT_WIDTHS, SPECS, WIDTH_ARCHITECTURES
from runtime.manifest import FER2013_LABELS, Normalization
from runtime.preprocess import prepare_faces

log = logging.getLogger(__name__)


def faces_to_input(faces: FaceSet, side: int) -> np.ndarray:
    """48x48 gray FER faces -> the model's float input (raw pixel values; the model normalizes)."""
    return prepare_faces(faces.images, (side, side), "gray", Normalization())


def training_targets(faces: FaceSet, votes_file: Path | None, weight: float,
                     data: tuple[Path, int] | None = None) -> np.ndarray:
    """Class indices, or with FER+ votes the targets ``(1 - weight) * one_hot + weight * votes / sum(votes)``;
    a face whose votes all went to contempt, unknown or not-a-face keeps its one-hot target. ``data``, the FER-2013
    file and its row count, has the vote file checked for one row per row of it (``check_rows``)."""
    if votes_file is None:
        return faces.labels
    votes = load_ferplus_votes(votes_file)
    if data is not None:
        check_rows(votes_file, len(votes), *data)
    if len(faces) and faces.rows.max() >= len(votes):
        raise ValueError(f"{votes_file} has {len(votes)} rows; the FER-2013 file has at least {faces.rows.max() + 1}")
    one_hot = np.eye(len(FER2013_LABELS), dtype=np.float32)[faces.labels]
    own = votes[faces.rows]
    total = own.sum(axis=1, keepdims=True)
    distribution = np.where(total > 0, own / np.maximum(total, 1.0), one_hot)
    log.info("FER+ votes mixed into the targets (weight %.2f); %d faces without a vote for the 7 classes",
             weight, int((total == 0).sum()))
    return ((1.0 - weight) * one_hot + weight * distribution).astype(np.float32)


def evaluate(model: Any, faces: FaceSet, side: int, ferplus: np.ndarray | None) -> dict[str, Any]:
    """PrivateTest-style report against the original labels and, when given, the FER+ majority labels."""
    return report_of(model.predict(faces_to_input(faces, side), batch_size=256, verbose=0), faces, ferplus)


def evaluate_teachers(paths: Sequence[str], faces: FaceSet, ferplus: np.ndarray | None) -> dict[str, Any] | None:
    """The report of the teachers' ensemble (each with its mirror image), the very probabilities a student is
    distilled from, on their native 48x48 faces; None, with a warning, when a teacher file has gone."""
    gone = [path for path in paths if not Path(path).is_file()]
    if gone:
        log.warning("teacher %s is gone: the ensemble's accuracy is not measured", ", ".join(gone))
        return None
    teachers = [load_teacher(Path(path), len(FER2013_LABELS)) for path in paths]
    return report_of(ensemble_probabilities(teachers, faces_to_input(faces, 48)), faces, ferplus)


def report_of(probs: np.ndarray, faces: FaceSet, ferplus: np.ndarray | None) -> dict[str, Any]:
    predictions = probs.argmax(axis=1)
    report = {"fer2013": classification_report(faces.labels, predictions, FER2013_LABELS)}
    if ferplus is not None:
        report["ferplus"] = classification_report(ferplus[faces.rows], predictions, FER2013_LABELS)
    return report


def run_identity(arch: str, width: int | None, side: int, limit: int | None, data: Path) -> dict[str, Any]:
    """What a run folder records beside its FitConfig, so that a resume trains the same model on the same faces: the
    architecture, its width (the default one when not given), input side, --limit and the data file (its name and
    size: the same file reached through another checkout's path, e.g. a CI clone's ../shared, is the same data)."""
    return {"architecture": arch, "width": width if width is not None else DEFAULT_WIDTHS.get(arch),
            "input_side": side, "limit": limit, "data": data.name, "data_bytes": data.stat().st_size}


def train_emotion(
    arch: str,
    data: Path,
    run_dir: Path,
    out: Path | None,
    epochs: int | None = None,
    batch_size: int | None = None,
    learning_rate: float | None = None,
    input_side: int | None = None,
    width: int | None = None,
    ferplus: Path | None = None,
    seed: int = 1234,
    limit: int | None = None,
    init_from: Path | None = None,
    teachers: Sequence[Path] = (),
    distill_weight: float = 0.5,
    distill_offline: bool = False,
    erasing: float = 0.0,
    ferplus_votes: Path | None = None,
    ferplus_weight: float = 0.5,
) -> dict[str, Any]:
    """Trains one emotion model and, when ``out`` is given, writes it there with its manifest.

    ``width`` sets the first-stage filters of a resnet or sepnet. ``init_from`` starts from a trained model's
    weights (same architecture and input side); ``teachers`` adds knowledge distillation from an ensemble of trained
    models (with mirror images), ``distill_weight`` being its share of the target, asked on every augmented batch or,
    with ``distill_offline``, once on the training faces before training; ``erasing`` is the probability of
    random erasing; ``ferplus_votes`` (fer2013new.csv) mixes each training face's FER+ vote distribution over the
    7 classes into its target, ``ferplus_weight`` its share.
    """
    for name, value in (("--distill-weight", distill_weight), ("--erasing", erasing),
                        ("--ferplus-weight", ferplus_weight)):
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{name} must be within 0..1, got {value}")
    if width is not None and (arch not in WIDTH_ARCHITECTURES or width < 4):
        raise ValueError(f"--width applies to {' and '.join(WIDTH_ARCHITECTURES)} only and must be at least 4; "
                         f"got {width} for {arch}")
    for name, value in (("--epochs", epochs), ("--batch-size", batch_size), ("--learning-rate", learning_rate),
                        ("--input-side", input_side), ("--limit", limit)):
        if value is not None and not value > 0:  # also refuses NaN
            raise ValueError(f"{name} must be above 0, got {value}")
    spec = SPECS[arch]
    side = input_side if input_side is not None else spec.input_side
    shape = {"width": width} if width is not None else {}
    config = FitConfig(
        epochs=epochs if epochs is not None else spec.epochs,
        batch_size=batch_size if batch_size is not None else spec.batch_size,
        learning_rate=learning_rate if learning_rate is not None else spec.learning_rate,
        seed=seed,
        init_from=str(init_from) if init_from else None,
        teachers=tuple(str(t) for t in teachers),
        distill_weight=distill_weight if teachers else 0.0,
        distill_offline=bool(teachers) and distill_offline,
        erasing=erasing,
        soft_labels=str(ferplus_votes) if ferplus_votes else None,
        soft_label_weight=ferplus_weight if ferplus_votes else 0.0,
    )
    data = Path(data)
    if not data.is_file():
        raise FileNotFoundError(f"FER-2013 file not found: {data}")
    identity = run_identity(arch, width, side, limit, data)
    check_resume(run_dir, config, identity)  # another run, or a corrupt one, refused before the data is read
    splits = load_fer2013(data)
    empty = [name for name, faces in splits.items() if not len(faces)]
    if empty:
        raise ValueError(f"{data} has no {' and no '.join(empty)} rows: training needs faces in every split "
                         "(Training to train on, PublicTest to select the best epoch, PrivateTest to report on)")
    rows = sum(len(faces) for faces in splits.values())
    majority = None
    if ferplus is not None:  # checked before training: it used to fail, or mislead, only in the report after it
        majority = load_ferplus_majority(ferplus)
        check_rows(ferplus, len(majority), data, rows)
        log.info("PrivateTest is reported against the FER+ labels of %s too", ferplus)
    if limit is not None:
        splits = {k: v.subset(np.arange(min(limit, len(v)))) for k, v in splits.items()}
    train, val, test = splits["Training"], splits["PublicTest"], splits["PrivateTest"]
    log.info("FER-2013: %d training, %d validation, %d test faces; %s at %dx%d",
             len(train), len(val), len(test), arch, side, side)
    images = faces_to_input(train, side)
    targets = training_targets(train, ferplus_votes, config.soft_label_weight, (data, rows))
    if config.distill_offline and config.distill_weight and not finished(run_dir, config.epochs):
        ensemble = [load_teacher(Path(path), len(FER2013_LABELS)) for path in config.teachers]
        targets = offline_targets(ensemble, images, targets, config.distill_weight)
        log.info("targets distilled offline from %d teacher(s) (weight %.2f)", len(ensemble), config.distill_weight)
    state = fit(
        lambda: spec.build(len(FER2013_LABELS), input_side=side, **shape),
        (images, targets),
        (faces_to_input(val, side), val.labels),
        len(FER2013_LABELS),
        config,
        run_dir,
        identity,
    )
    best = load_checkpoint(run_dir / BEST)
    report = evaluate(best, test, side, majority)
    log.info("PrivateTest accuracy %s", _summary(report))
    ensemble = None
    if out is not None and config.teachers and config.distill_weight:
        ensemble = evaluate_teachers(config.teachers, test, majority)
        if ensemble:
            log.info("the teachers' ensemble (with mirror images): PrivateTest accuracy %s", _summary(ensemble))
    if out is not None:
        export(run_dir / BEST, out, arch, side, state, report, width, ensemble)
    return {"state": state, "report": report, "teacher_ensemble": ensemble}


def _summary(report: dict[str, Any]) -> str:
    """'0.6712 (FER+ 0.7861)': a report's accuracy on the original labels and, if measured, the FER+ labels."""
    ferplus = f"{report['ferplus']['accuracy']:.4f}" if "ferplus" in report else "n/a"
    return f"{report['fer2013']['accuracy']:.4f} (FER+ {ferplus})"


def _figures(report: dict[str, Any]) -> dict[str, Any]:
    """What a manifest keeps of a PrivateTest report: per label set, the face count, accuracy and macro-F1."""
    return {"privatetest": {k: {m: v[m] for m in ("n", "accuracy", "macro_f1")} for k, v in report.items()}}


def export(best: Path, out: Path, arch: str, side: int, state: dict[str, Any], report: dict[str, Any],
           width: int | None = None, teacher_ensemble: dict[str, Any] | None = None) -> Path:
    """Copies the best model to ``out`` and writes its Keras manifest with the PrivateTest figures (and those of
    the teachers' ensemble it was distilled from)."""
    return export_keras_model(best, out, "emotion", FER2013_LABELS, side, state, _figures(report),
                              extra={"architecture": arch, **({"width": width} if width else {})},
                              teacher_ensemble=_figures(teacher_ensemble) if teacher_ensemble else None)

"""Emotion models on FER-2013: train on Training, select on PublicTest, report on PrivateTest."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from convert.data.fer2013 import FaceSet, load_fer2013, load_ferplus_majority
from convert.metrics import classification_report
from convert.train.export import export_keras_model
from convert.train.loop import BEST, FitConfig, fit
from convert.train.models import SPECS
from runtime.manifest import FER2013_LABELS, Normalization
from runtime.preprocess import prepare_faces

log = logging.getLogger(__name__)


def faces_to_input(faces: FaceSet, side: int) -> np.ndarray:
    """48x48 gray FER faces -> the model's float input (raw pixel values; the model normalizes)."""
    return prepare_faces(faces.images, (side, side), "gray", Normalization())


def evaluate(model: Any, faces: FaceSet, side: int, ferplus: np.ndarray | None) -> dict[str, Any]:
    """PrivateTest-style report against the original labels and, when given, the FER+ majority labels."""
    probs = model.predict(faces_to_input(faces, side), batch_size=256, verbose=0)
    predictions = probs.argmax(axis=1)
    report = {"fer2013": classification_report(faces.labels, predictions, FER2013_LABELS)}
    if ferplus is not None:
        report["ferplus"] = classification_report(ferplus[faces.rows], predictions, FER2013_LABELS)
    return report


def train_emotion(
    arch: str,
    data: Path,
    run_dir: Path,
    out: Path | None,
    epochs: int | None = None,
    batch_size: int | None = None,
    learning_rate: float | None = None,
    input_side: int | None = None,
    ferplus: Path | None = None,
    seed: int = 1234,
    limit: int | None = None,
    init_from: Path | None = None,
    teacher: Path | None = None,
    distill_weight: float = 0.5,
) -> dict[str, Any]:
    """Trains one emotion model and, when ``out`` is given, writes it there with its manifest.

    ``init_from`` starts from a trained model's weights (same architecture and input side); ``teacher`` adds
    knowledge distillation from a trained model, ``distill_weight`` being its share of the target.
    """
    import keras

    if not 0.0 <= distill_weight <= 1.0:
        raise ValueError(f"--distill-weight must be within 0..1, got {distill_weight}")
    spec = SPECS[arch]
    side = input_side or spec.input_side
    config = FitConfig(
        epochs=epochs or spec.epochs,
        batch_size=batch_size or spec.batch_size,
        learning_rate=learning_rate or spec.learning_rate,
        seed=seed,
        init_from=str(init_from) if init_from else None,
        teacher=str(teacher) if teacher else None,
        distill_weight=distill_weight if teacher else 0.0,
    )
    splits = load_fer2013(data)
    if limit:
        splits = {k: v.subset(np.arange(min(limit, len(v)))) for k, v in splits.items()}
    train, val, test = splits["Training"], splits["PublicTest"], splits["PrivateTest"]
    log.info("FER-2013: %d training, %d validation, %d test faces; %s at %dx%d",
             len(train), len(val), len(test), arch, side, side)
    state = fit(
        lambda: spec.build(len(FER2013_LABELS), input_side=side),
        (faces_to_input(train, side), train.labels),
        (faces_to_input(val, side), val.labels),
        len(FER2013_LABELS),
        config,
        run_dir,
    )
    best = keras.models.load_model(run_dir / BEST)
    majority = load_ferplus_majority(ferplus) if ferplus else None
    report = evaluate(best, test, side, majority)
    log.info("PrivateTest accuracy %.4f (FER+ %s)", report["fer2013"]["accuracy"],
             f"{report['ferplus']['accuracy']:.4f}" if "ferplus" in report else "n/a")
    if out is not None:
        export(run_dir / BEST, out, arch, side, state, report)
    return {"state": state, "report": report}


def export(best: Path, out: Path, arch: str, side: int, state: dict[str, Any], report: dict[str, Any]) -> Path:
    """Copies the best model to ``out`` and writes its Keras manifest with the PrivateTest figures."""
    figures = ("n", "accuracy", "macro_f1")
    verification = {"privatetest": {k: {m: v[m] for m in figures} for k, v in report.items()}}
    return export_keras_model(best, out, "emotion", FER2013_LABELS, side, state, verification,
                              extra={"architecture": arch})

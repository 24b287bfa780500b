"""Writes a trained Keras model where the converter expects it: the file plus its manifest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from convert.train.loop import training_machine
from runtime.manifest import Manifest, Normalization, load_manifest, save_manifest, sha256_of

_TRAINING_KEYS = ("config", "best_epoch", "best_val_accuracy", "seconds")


def export_keras_model(
    best: Path,
    out: Path,
    task: str,
    labels: tuple[str, ...],
    side: int,
    state: dict[str, Any],
    verification: dict[str, Any],
    extra: dict[str, Any] | None = None,
    teacher_ensemble: dict[str, Any] | None = None,
) -> Path:
    """Writes the best model to ``out`` without optimizer state, and its Keras manifest (read by fer-convert).

    Args:
        best: the model file chosen by training (``run_dir/best.keras``).
        out: where the model goes; the manifest is written beside it.
        task: "emotion" or "expressiveness".
        labels: class names in the order of the model's output.
        side: the square gray input side; models take raw pixels (identity normalization).
        state: the fit state; its configuration, best epoch and time go into the manifest.
        verification: the accuracy measured for the model, by the split it was measured on.
        extra: more free-form information (the architecture, the data).
        teacher_ensemble: for a distilled model, its teachers' ensemble's own accuracy (kept in the training record).

    Returns:
        ``out``.
    """
    import keras

    out.parent.mkdir(parents=True, exist_ok=True)
    # loaded uncompiled and saved again: the shipped file carries no optimizer state (a third of the size)
    keras.models.load_model(best, compile=False).save(out)
    manifest = Manifest(
        task=task,
        labels=labels,
        input_size=(side, side),
        color="gray",
        normalization=Normalization(),
        format="keras",
        precision="fp32",
        file={"name": out.name, "sha256": sha256_of(out), "bytes": out.stat().st_size},
        verification=verification,
        extra={**(extra or {}), "training": training_record(state, teacher_ensemble)},
    )
    save_manifest(manifest, out)
    return out


def training_record(state: dict[str, Any], teacher_ensemble: dict[str, Any] | None = None) -> dict[str, Any]:
    """What the manifest keeps of a run. For a warm-started run, also the record of the model it started from, and
    for a distilled one the records of its teachers (read from their manifests) and their ensemble's accuracy, so the
    card can tell every stage of the training and its total time."""
    record = {k: state[k] for k in _TRAINING_KEYS}
    # a run started before fit recorded its machine: the exporting one, which is nearly always the same
    record["machine"] = state.get("machine") or training_machine()
    config = state["config"]
    if config.get("init_from"):
        record["started_from"] = model_provenance(Path(config["init_from"]))
    if config.get("teachers") and config.get("distill_weight"):
        record["teachers"] = [model_provenance(Path(path)) for path in config["teachers"]]
        if teacher_ensemble:
            record["teacher_ensemble"] = teacher_ensemble
    return record


def model_provenance(path: Path) -> dict[str, Any]:
    """A trained model another one was made from: its name and, read from its manifest, its hash, architecture,
    PrivateTest accuracy and training record; only the name when the file or its manifest has gone (moved away)."""
    try:
        manifest = load_manifest(path)
    except (FileNotFoundError, ValueError):
        return {"file": path.name}
    shape = {k: manifest.extra[k] for k in ("architecture", "width") if k in manifest.extra}
    test = manifest.verification.get("privatetest") or {}
    accuracy = {labels: {"accuracy": figures["accuracy"]} for labels, figures in test.items() if "accuracy" in figures}
    return {"file": path.name, "sha256": manifest.file.get("sha256"), **shape,
            **({"privatetest": accuracy} if accuracy else {}), **(manifest.extra.get("training") or {})}

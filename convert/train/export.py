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
        extra={**(extra or {}), "training": training_record(state)},
    )
    save_manifest(manifest, out)
    return out


def training_record(state: dict[str, Any]) -> dict[str, Any]:
    """What the manifest keeps of a run; for a warm-started run, also the record of the model it started from
    (read from that model's manifest), so the card can tell every stage and the total time."""
    record = {k: state[k] for k in _TRAINING_KEYS}
    # a run started before fit recorded its machine: the exporting one, which is nearly always the same
    record["machine"] = state.get("machine") or training_machine()
    init = state["config"].get("init_from")
    if init:
        record["started_from"] = {"file": Path(init).name}
        try:
            earlier = load_manifest(init)
        except (FileNotFoundError, ValueError):
            return record  # the model may have been moved; its name is still worth keeping
        record["started_from"].update(sha256=earlier.file.get("sha256"), **(earlier.extra.get("training") or {}))
    return record

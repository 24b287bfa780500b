"""Verification of a converted file against its Keras source, through the runtime's own backends."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from convert.metrics import classification_report
from runtime.backends import open_backend
from runtime.cpu import cpu_info

# the packages whose version decides an engine's kernels, in the order the runtime's backends prefer them
ENGINE_PACKAGES = {"tflite": ("ai-edge-litert", "tflite-runtime", "tensorflow"),
                   "onnx": ("onnxruntime", "onnxruntime-gpu")}

BATCH = 256


def predict_file(path: Path, inputs: np.ndarray, threads: int | None = None) -> np.ndarray:
    """Runs a .tflite/.onnx file on float inputs in batches through the runtime backend."""
    with open_backend(path, "cpu", threads=threads) as backend:
        return np.concatenate([backend.run(inputs[i : i + BATCH]) for i in range(0, len(inputs), BATCH)])


def agreement(reference: np.ndarray, candidate: np.ndarray) -> dict[str, float]:
    """Top-1 agreement and output differences of ``candidate`` against ``reference`` (both (N, K))."""
    diff = np.abs(candidate - reference)
    return {
        "n": len(reference),
        "top1_agreement": float(np.mean(candidate.argmax(1) == reference.argmax(1))),
        "max_abs_diff": float(diff.max()) if diff.size else 0.0,
        "mean_abs_diff": float(diff.mean()) if diff.size else 0.0,
    }


def accuracy(probabilities: np.ndarray, label_sets: dict[str, np.ndarray], labels: tuple[str, ...]) -> dict[str, Any]:
    """Accuracy, macro-F1, per-class recall and confusion matrix against each named label set (rows labelled
    -1 are skipped)."""
    predictions = probabilities.argmax(1)
    result = {}
    for name, truth in label_sets.items():
        report = classification_report(truth, predictions, labels)
        result[name] = {k: report[k] for k in ("n", "accuracy", "macro_f1", "recall", "confusion")}
    return result


def machine_record(engine: str) -> dict[str, Any]:
    """Where a verification ran: the CPU, its int8-relevant instruction sets, and the engine package's version
    (an int8 file's accuracy can depend on both)."""
    from importlib import metadata

    record: dict[str, Any] = {"cpu": cpu_info().to_dict()}
    for package in ENGINE_PACKAGES.get(engine, ()):
        try:
            record["engine"] = f"{package} {metadata.version(package)}"
            break
        except metadata.PackageNotFoundError:
            continue
    return record

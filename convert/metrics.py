"""Classification metrics in numpy: accuracy, macro-F1, per-class recall, confusion matrix."""

from __future__ import annotations

from typing import Any

import numpy as np


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray, num_classes: int) -> np.ndarray:
    """Rows are true classes, columns predicted classes; rows whose label is negative (no label) are ignored."""
    keep = labels >= 0
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (labels[keep], predictions[keep]), 1)
    return matrix


def classification_report(labels: np.ndarray, predictions: np.ndarray, class_names: tuple[str, ...]) -> dict[str, Any]:
    """Accuracy, macro-F1, per-class recall and the confusion matrix over the labelled rows."""
    matrix = confusion_matrix(labels, predictions, len(class_names))
    total = matrix.sum()
    true_per_class = matrix.sum(axis=1)
    predicted_per_class = matrix.sum(axis=0)
    hits = np.diag(matrix)
    recall = np.divide(hits, true_per_class, out=np.zeros(len(hits)), where=true_per_class > 0)
    precision = np.divide(hits, predicted_per_class, out=np.zeros(len(hits)), where=predicted_per_class > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros(len(hits)), where=denom > 0)
    present = true_per_class > 0
    return {
        "n": int(total),
        "accuracy": float(hits.sum() / total) if total else float("nan"),
        "macro_f1": float(f1[present].mean()) if present.any() else float("nan"),
        "recall": {name: float(r) for name, r in zip(class_names, recall)},
        "confusion": matrix.tolist(),
    }

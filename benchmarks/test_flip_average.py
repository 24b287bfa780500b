"""Test-time flip averaging (``AnalyzerOptions(flip_average=True)``, ``fer-analyze --flip-average``): what it gains
on FER-2013 PrivateTest and what it costs per face, against the same int8 file read once, in the same run."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from benchmarks.data import PrivateTest, synthetic_crops
from benchmarks.discovery import ModelFile
from benchmarks.gates import check
from benchmarks.params import file_params
from benchmarks.results import Results
from benchmarks.timing import interleaved
from convert.verify import accuracy
from runtime.classifier import ExpressionModel
from runtime.manifest import FER2013_LABELS

FLIP_LOSS_MAX_PP = 0.3  # averaging with the mirror image must not cost accuracy (it is the training augmentation)
INT8 = file_params(where=lambda f: f.manifest.precision == "int8" and tuple(f.manifest.labels) == FER2013_LABELS)
PREDICT_BATCH = 256


def _probabilities(model: ExpressionModel, faces) -> object:
    import numpy as np

    return np.concatenate([model.predict(faces[i : i + PREDICT_BATCH]) for i in range(0, len(faces), PREDICT_BATCH)])


@pytest.mark.data
@pytest.mark.parametrize("model", INT8)
def test_flip_average_gain(results: Results, privatetest: PrivateTest, privatetest_probs: Callable,
                           model: ModelFile) -> None:
    flipped = ExpressionModel(model.path, flip_average=True)
    try:
        with_flip = _probabilities(flipped, privatetest.faces)
    finally:
        flipped.close()
    plain = accuracy(privatetest_probs(model), privatetest.labels, FER2013_LABELS)
    ours = accuracy(with_flip, privatetest.labels, FER2013_LABELS)
    gains = {f"gain_pp_{name}": 100.0 * (ours[name]["accuracy"] - plain[name]["accuracy"]) for name in ours}
    results.add("flip_average", model=model.group, format=model.key, file=model.path.name,
                accuracy_fer2013=ours["fer2013"]["accuracy"], plain_fer2013=plain["fer2013"]["accuracy"],
                accuracy_ferplus=ours.get("ferplus", {}).get("accuracy"), **gains)
    loss = -gains["gain_pp_fer2013"]
    check(results, "flip averaging accuracy loss (pp)", model.id, loss, f"<= {FLIP_LOSS_MAX_PP:.1f}",
          loss <= FLIP_LOSS_MAX_PP, note=f"{100 * plain['fer2013']['accuracy']:.2f}% -> "
          f"{100 * ours['fer2013']['accuracy']:.2f}% on {len(privatetest.faces)} faces")


@pytest.mark.quick
@pytest.mark.parametrize("model", INT8)
def test_flip_average_cost(results: Results, model: ModelFile) -> None:
    """Per-face time of one face read with and without its mirror, interleaved, one thread."""
    face = synthetic_crops(model.manifest.input_size, model.manifest.color, 1)
    plain, flipped = (ExpressionModel(model.path, threads=1, flip_average=flip) for flip in (False, True))
    try:
        timings = interleaved({"plain": lambda: plain.predict(face), "flip": lambda: flipped.predict(face)},
                              budget_s=1.0)
    finally:
        plain.close()
        flipped.close()
    ratio = timings["flip"].median_ms / timings["plain"].median_ms
    results.add("flip_average_cost", model=model.group, format=model.key, file=model.path.name,
                plain_ms=timings["plain"].median_ms, flip_ms=timings["flip"].median_ms, ratio=ratio)
    assert ratio > 1.0, "reading every face twice cannot be free"

"""Test-time averaging (``AnalyzerOptions(flip_average=True, crop_average=True)``, ``fer-analyze --flip-average
--crop-average``): what each choice of views gains on FER-2013 PrivateTest and what it costs per face, against the
same int8 file reading each face once, in the same run."""

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

VIEW_LOSS_MAX_PP = 0.3  # averaging over views must not cost accuracy (they are within the training augmentation)
INT8 = file_params(where=lambda f: f.manifest.precision == "int8" and tuple(f.manifest.labels) == FER2013_LABELS)
VIEWS = {"flip": {"flip_average": True}, "crops": {"crop_average": True},
         "flip+crops": {"flip_average": True, "crop_average": True}}
PREDICT_BATCH = 256


def _probabilities(model: ExpressionModel, faces) -> object:
    import numpy as np

    return np.concatenate([model.predict(faces[i : i + PREDICT_BATCH]) for i in range(0, len(faces), PREDICT_BATCH)])


@pytest.mark.data
@pytest.mark.parametrize("views", VIEWS)
@pytest.mark.parametrize("model", INT8)
def test_view_average_gain(results: Results, privatetest: PrivateTest, privatetest_probs: Callable,
                           model: ModelFile, views: str) -> None:
    averaged = ExpressionModel(model.path, **VIEWS[views])
    try:
        with_views = _probabilities(averaged, privatetest.faces)
    finally:
        averaged.close()
    plain = accuracy(privatetest_probs(model), privatetest.labels, FER2013_LABELS)
    ours = accuracy(with_views, privatetest.labels, FER2013_LABELS)
    gains = {f"gain_pp_{name}": 100.0 * (ours[name]["accuracy"] - plain[name]["accuracy"]) for name in ours}
    results.add("view_average", model=model.group, format=model.key, file=model.path.name, views=views,
                accuracy_fer2013=ours["fer2013"]["accuracy"], plain_fer2013=plain["fer2013"]["accuracy"],
                accuracy_ferplus=ours.get("ferplus", {}).get("accuracy"), **gains)
    loss = -gains["gain_pp_fer2013"]
    check(results, f"{views} averaging accuracy loss (pp)", model.id, loss, f"<= {VIEW_LOSS_MAX_PP:.1f}",
          loss <= VIEW_LOSS_MAX_PP, note=f"{100 * plain['fer2013']['accuracy']:.2f}% -> "
          f"{100 * ours['fer2013']['accuracy']:.2f}% on {len(privatetest.faces)} faces")


@pytest.mark.quick
@pytest.mark.parametrize("views", VIEWS)
@pytest.mark.parametrize("model", INT8)
def test_view_average_cost(results: Results, model: ModelFile, views: str) -> None:
    """Per-face time of one face read once and in all its views, interleaved, one thread."""
    face = synthetic_crops(model.manifest.input_size, model.manifest.color, 1)
    plain, averaged = ExpressionModel(model.path, threads=1), ExpressionModel(model.path, threads=1, **VIEWS[views])
    try:
        timings = interleaved({"plain": lambda: plain.predict(face), "views": lambda: averaged.predict(face)},
                              budget_s=1.0)
    finally:
        plain.close()
        averaged.close()
    ratio = timings["views"].median_ms / timings["plain"].median_ms
    results.add("view_average_cost", model=model.group, format=model.key, file=model.path.name, views=views,
                count=averaged.views,
                plain_ms=timings["plain"].median_ms, views_ms=timings["views"].median_ms, ratio=ratio)
    assert ratio > 1.0, "reading every face several times cannot be free"

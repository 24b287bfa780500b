"""Accuracy of every format (and the Keras source) on all of FER-2013 PrivateTest, against the original and the
FER+ majority labels; each quantized file against its fp32 source; and the int8 gates (drop, agreement)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from benchmarks.data import PrivateTest
from benchmarks.discovery import ModelFile, ModelGroup
from benchmarks.gates import ACCURACY_DROP_MAX_PP, AGREEMENT_MIN, GATED_PRECISIONS, check
from benchmarks.params import file_params, quantized_params
from benchmarks.results import Results
from convert.verify import accuracy, agreement
from runtime.manifest import FER2013_LABELS

pytestmark = pytest.mark.data
GATE_LABELS = "fer2013"  # the drop gate uses the original labels; the FER+ drop is reported beside it


def _require_fer2013_labels(model: ModelFile) -> None:
    if tuple(model.manifest.labels) != FER2013_LABELS:
        pytest.skip(f"{model.path.name} has labels {model.manifest.labels}, not FER-2013's seven in order")
    if model.is_keras:
        pytest.importorskip("tensorflow", reason="the Keras reference needs TensorFlow (extra 'convert')")


def _accuracies(quantized: np.ndarray, reference: np.ndarray,
                label_sets: dict[str, np.ndarray]) -> dict[str, tuple[float, float]]:
    """(quantized, fp32 source) accuracy against each label set (rows labelled -1 skipped)."""
    ours, theirs = (accuracy(p, label_sets, FER2013_LABELS) for p in (quantized, reference))
    return {name: (ours[name]["accuracy"], theirs[name]["accuracy"]) for name in label_sets}


@pytest.mark.parametrize("model", file_params(include_keras=True))
def test_accuracy(results: Results, privatetest: PrivateTest, privatetest_probs: Callable, model: ModelFile) -> None:
    _require_fer2013_labels(model)
    probabilities = privatetest_probs(model)
    assert probabilities.shape == (len(privatetest.faces), len(FER2013_LABELS))
    recorded = model.manifest.verification.get("privatetest", {})
    for name, report in accuracy(probabilities, privatetest.labels, FER2013_LABELS).items():
        results.add("accuracy", model=model.group, format=model.key, file=model.path.name, labels=name,
                    n=report["n"], accuracy=report["accuracy"], macro_f1=report["macro_f1"],
                    manifest_accuracy=recorded.get(name, {}).get("accuracy"))


@pytest.mark.parametrize(("group", "model", "source"), quantized_params())
def test_quantized_against_fp32(results: Results, privatetest: PrivateTest, privatetest_probs: Callable,
                                group: ModelGroup, model: ModelFile, source: ModelFile) -> None:
    """Accuracy drop (percentage points; positive = lost) and top-1 agreement of every quantized file."""
    _require_fer2013_labels(model)
    quantized, reference = privatetest_probs(model), privatetest_probs(source)
    drops = {f"drop_pp_{name}": 100.0 * (theirs - ours)
             for name, (ours, theirs) in _accuracies(quantized, reference, privatetest.labels).items()}
    results.add("quantization", model=group.name, format=model.key, file=model.path.name, source=source.key,
                agreement=agreement(reference, quantized)["top1_agreement"], **drops)


@pytest.mark.parametrize(("group", "model", "source"), quantized_params(GATED_PRECISIONS))
def test_int8_accuracy_drop(results: Results, privatetest: PrivateTest, privatetest_probs: Callable,
                            group: ModelGroup, model: ModelFile, source: ModelFile) -> None:
    _require_fer2013_labels(model)
    labels = privatetest.labels[GATE_LABELS]
    ours, theirs = _accuracies(privatetest_probs(model), privatetest_probs(source), {GATE_LABELS: labels})[GATE_LABELS]
    drop = 100.0 * (theirs - ours)
    check(results, "int8 accuracy drop (pp)", model.id, drop, f"<= {ACCURACY_DROP_MAX_PP:.1f}",
          drop <= ACCURACY_DROP_MAX_PP,
          note=f"{model.key} {100 * ours:.2f}% vs {source.key} {100 * theirs:.2f}% on {len(labels)} faces")


@pytest.mark.parametrize(("group", "model", "source"), quantized_params(GATED_PRECISIONS))
def test_int8_agreement(results: Results, privatetest: PrivateTest, privatetest_probs: Callable,
                        group: ModelGroup, model: ModelFile, source: ModelFile) -> None:
    _require_fer2013_labels(model)
    top1 = agreement(privatetest_probs(source), privatetest_probs(model))["top1_agreement"]
    check(results, "int8 top-1 agreement with fp32", model.id, top1, f">= {AGREEMENT_MIN:.2f}",
          top1 >= AGREEMENT_MIN, note=f"on {len(privatetest.faces)} PrivateTest faces")

"""Accuracy of every format (and the Keras source) on all of FER-2013 PrivateTest, against the original and the
FER+ majority labels; each quantized file against its fp32 source (the fp32 file of its format, else the Keras model
it was converted from); and the int8 gates (drop, agreement)."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable

import numpy as np
import pytest

from benchmarks.data import PrivateTest
from benchmarks.discovery import ModelFile, ModelGroup, bench_model_dir
from benchmarks.gates import ACCURACY_DROP_MAX_PP, AGREEMENT_MIN, GATED_PRECISIONS, check, not_gated
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


def _no_reference(group: ModelGroup, source: ModelFile | None) -> str:
    """Why a quantized file cannot be compared with an fp32 reference in this run ("" when it can)."""
    if source is None:
        return f"neither an fp32 file of its format nor {group.name}.keras is in {bench_model_dir()}"
    if source.is_keras and importlib.util.find_spec("tensorflow") is None:
        return f"its fp32 reference is {source.path.name}, which needs TensorFlow (extra 'convert')"
    return ""


def _gated_reference(results: Results, gate: str, group: ModelGroup, model: ModelFile,
                     source: ModelFile | None) -> ModelFile:
    """The gate's fp32 reference; without one the gate's row says "not gated" and why, and the test skips."""
    if reason := _no_reference(group, source):
        not_gated(results, gate, model.id, reason)
    assert source is not None
    return source


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
                                group: ModelGroup, model: ModelFile, source: ModelFile | None) -> None:
    """Accuracy drop (percentage points; positive = lost) and top-1 agreement of every quantized file."""
    _require_fer2013_labels(model)
    if reason := _no_reference(group, source):
        pytest.skip(reason)
    quantized, reference = privatetest_probs(model), privatetest_probs(source)
    drops = {f"drop_pp_{name}": 100.0 * (theirs - ours)
             for name, (ours, theirs) in _accuracies(quantized, reference, privatetest.labels).items()}
    results.add("quantization", model=group.name, format=model.key, file=model.path.name, source=source.key,
                agreement=agreement(reference, quantized)["top1_agreement"], **drops)


@pytest.mark.parametrize(("group", "model", "source"), quantized_params(GATED_PRECISIONS))
def test_int8_accuracy_drop(results: Results, privatetest: PrivateTest, privatetest_probs: Callable,
                            group: ModelGroup, model: ModelFile, source: ModelFile | None) -> None:
    _require_fer2013_labels(model)
    gate = "int8 accuracy drop (pp)"
    source = _gated_reference(results, gate, group, model, source)
    labels = privatetest.labels[GATE_LABELS]
    ours, theirs = _accuracies(privatetest_probs(model), privatetest_probs(source), {GATE_LABELS: labels})[GATE_LABELS]
    drop = 100.0 * (theirs - ours)
    check(results, gate, model.id, drop, f"<= {ACCURACY_DROP_MAX_PP:.1f}",
          drop <= ACCURACY_DROP_MAX_PP,
          note=f"{model.key} {100 * ours:.2f}% vs {source.key} {100 * theirs:.2f}% on {len(labels)} faces")


@pytest.mark.parametrize(("group", "model", "source"), quantized_params(GATED_PRECISIONS))
def test_int8_agreement(results: Results, privatetest: PrivateTest, privatetest_probs: Callable,
                        group: ModelGroup, model: ModelFile, source: ModelFile | None) -> None:
    _require_fer2013_labels(model)
    gate = "int8 top-1 agreement with fp32"
    source = _gated_reference(results, gate, group, model, source)
    top1 = agreement(privatetest_probs(source), privatetest_probs(model))["top1_agreement"]
    check(results, gate, model.id, top1, f">= {AGREEMENT_MIN:.2f}", top1 >= AGREEMENT_MIN,
          note=f"against {source.key} on {len(privatetest.faces)} PrivateTest faces")

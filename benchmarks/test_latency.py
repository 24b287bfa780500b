"""Latency of each expression model file (``ExpressionModel.predict``: preprocessing, inference, output) on one
and two threads, for one face and a batch; the Keras source as the reference; the face detector alone; and the
gates: an int8 file is not slower than its fp32 source, and the default model not slower than the speed
reference (issue 11)."""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks.data import synthetic_crops
from benchmarks.discovery import ModelFile, bench_model_dir
from benchmarks.gates import (
    DEFAULT_SLOWDOWN_MAX,
    GATED_PRECISIONS,
    SPEED_REFERENCE_MODEL,
    check,
    int8_slowdown_limit,
    not_gated,
)
from benchmarks.params import file_params, group_params, quantized_params
from benchmarks.results import Results
from benchmarks.timing import benchmark_stats, interleaved
from runtime.classifier import ExpressionModel
from runtime.detection import DetectorOptions, create_detector
from runtime.paths import DEFAULT_EMOTION_MODEL

BATCH = 32
GATE_BUDGET_S = 2.0  # measuring time per latency gate
SETTINGS = [pytest.param(1, 1, id="1thread-1face", marks=pytest.mark.quick), pytest.param(2, 1, id="2threads-1face"),
            pytest.param(1, BATCH, id=f"1thread-{BATCH}faces"), pytest.param(2, BATCH, id=f"2threads-{BATCH}faces")]


def _row(model: ModelFile, threads: int | str, batch: int, stats: dict[str, Any]) -> dict[str, Any]:
    median = stats["median_ms"]
    return {"model": model.group, "format": model.key, "file": model.path.name,
            "size_kb": model.size_bytes / 1024, "threads": threads, "batch": batch, **stats,
            "per_face_ms": None if median is None else median / batch}


@pytest.mark.parametrize(("threads", "batch"), SETTINGS)
@pytest.mark.parametrize("model", file_params())
def test_model_latency(benchmark: Any, results: Results, model: ModelFile, threads: int, batch: int) -> None:
    faces = synthetic_crops(model.manifest.input_size, model.manifest.color, batch)
    expression = ExpressionModel(model.path, threads=threads)
    provider = expression.backend.provider
    benchmark.group = f"model latency, {batch} face(s), {threads} thread(s)"
    benchmark.extra_info.update(model=model.id, threads=threads, batch=batch, provider=provider)
    try:
        probabilities = benchmark(expression.predict, faces)
    finally:
        expression.close()
    assert probabilities.shape == (batch, len(model.manifest.labels))
    results.add("latency", **_row(model, threads, batch, benchmark_stats(benchmark)), provider=provider)


@pytest.mark.parametrize("batch", [1, BATCH])
@pytest.mark.parametrize("group", group_params())
def test_keras_reference_latency(benchmark: Any, results: Results, group: Any, batch: int) -> None:
    """The Keras source (one model call on TensorFlow's one-thread pools), when TensorFlow and the file are there."""
    if group.keras is None:
        pytest.skip(f"no {group.name}.keras beside the converted files")
    pytest.importorskip("tensorflow", reason="the Keras reference needs TensorFlow (extra 'convert')")
    from benchmarks.keras_reference import TF_THREADS, keras_predictor, tensorflow

    predict = keras_predictor(group.keras)
    faces = synthetic_crops(group.keras.manifest.input_size, group.keras.manifest.color, batch)
    benchmark.group = f"model latency, {batch} face(s), 1 thread(s)"
    benchmark.extra_info.update(model=group.keras.id, batch=batch)
    benchmark(predict, faces)
    threads = TF_THREADS if tensorflow()[1] else "tf default"
    results.add("latency", **_row(group.keras, threads, batch, benchmark_stats(benchmark)), provider="keras")


@pytest.mark.parametrize(("threads", "batch"), SETTINGS)
@pytest.mark.parametrize(("group", "model", "source"), quantized_params(GATED_PRECISIONS, keras=False))
def test_int8_not_slower_than_fp32(results: Results, group: Any, model: ModelFile, source: ModelFile | None,
                                   threads: int, batch: int) -> None:
    """Gate: median of single calls, the two files timed in alternation in this run. An int8 file without an fp32
    file of its format is reported as not gated: the Keras source runs on TensorFlow, whose speed says nothing
    about the int8 kernels of LiteRT or ONNX Runtime."""
    gate, subject = "int8 not slower than fp32", f"{model.id}, {threads} thread(s), {batch} face(s)"
    if source is None:
        not_gated(results, gate, subject, f"no {model.manifest.format}-fp32 file of {group.name} in "
                  f"{bench_model_dir()} to time it against (the Keras source runs on TensorFlow: not comparable)")
    faces = synthetic_crops(model.manifest.input_size, model.manifest.color, batch)
    quantized = ExpressionModel(model.path, threads=threads)
    reference = ExpressionModel(source.path, threads=threads)
    try:
        timings = interleaved({"int8": lambda: quantized.predict(faces), "fp32": lambda: reference.predict(faces)},
                              budget_s=GATE_BUDGET_S)
    finally:
        quantized.close()
        reference.close()
    ratio = timings["int8"].median_ms / timings["fp32"].median_ms
    dot_product = results.machine["cpu_int8_dot_product"]  # the run's CPU record, as the report shows it
    limit = int8_slowdown_limit(dot_product)
    check(results, gate, subject, ratio, f"<= {limit:.2f}x", ratio <= limit,
          note=f"{model.key} {timings['int8'].median_ms:.3f} ms vs {source.key} {timings['fp32'].median_ms:.3f} ms; "
               f"{'with' if dot_product else 'no'} int8 dot product on this CPU")


@pytest.mark.parametrize(("threads", "batch"), SETTINGS)
def test_default_not_slower_than_reference(results: Results, threads: int, batch: int) -> None:
    """Gate: the default emotion model against MobileNetV2 int8 TFLite, timed in alternation in this run; both
    files from the benchmarked folder (``$FER_EDGE_BENCH_MODELS``, else the runtime's models/), like every other
    benchmark."""
    folder = bench_model_dir()
    default, reference = folder / DEFAULT_EMOTION_MODEL, folder / SPEED_REFERENCE_MODEL
    for path, what in ((default, "the default emotion model"), (reference, "the speed reference")):
        if not path.is_file():
            pytest.skip(f"{what} {path.name} is not in {folder}")
    models = {"default": ExpressionModel(default, threads=threads),
              "reference": ExpressionModel(reference, threads=threads)}
    try:
        faces = {name: synthetic_crops(m.manifest.input_size, m.manifest.color, batch) for name, m in models.items()}
        timings = interleaved({name: (lambda m=m, f=faces[name]: m.predict(f)) for name, m in models.items()},
                              budget_s=GATE_BUDGET_S)
    finally:
        for model in models.values():
            model.close()
    ratio = timings["default"].median_ms / timings["reference"].median_ms
    check(results, "default model not slower than MobileNetV2 int8", f"{DEFAULT_EMOTION_MODEL}, {threads} "
          f"thread(s), {batch} face(s)", ratio, f"<= {DEFAULT_SLOWDOWN_MAX:.2f}x", ratio <= DEFAULT_SLOWDOWN_MAX,
          note=f"{timings['default'].median_ms / batch:.3f} vs {timings['reference'].median_ms / batch:.3f} ms "
               f"per face ({SPEED_REFERENCE_MODEL})")


@pytest.mark.parametrize("engine", [pytest.param("litert", marks=pytest.mark.quick), "mediapipe"])
@pytest.mark.parametrize("model", ["short", "full"])
def test_detector_latency(benchmark: Any, results: Results, sample_photo: Any, model: str, engine: str) -> None:
    """BlazeFace alone on the sample photo (one face), one thread: ours (LiteRT + numpy) and MediaPipe Tasks."""
    if engine == "mediapipe":
        pytest.importorskip("mediapipe", reason="needs mediapipe (scripts/setup-env.sh installs it)")
    detector = create_detector(DetectorOptions(model=model, engine=engine, threads=1))
    benchmark.group = "face detector, 1 thread"
    benchmark.extra_info.update(model=model, engine=engine)
    try:
        faces = benchmark(detector.detect, sample_photo)
    finally:
        detector.close()
    results.add("detector", model=model, engine=engine, frame="astronaut.jpg", faces=len(faces),
                **benchmark_stats(benchmark))

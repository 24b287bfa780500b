"""The benchmark suite's own logic, without timing a model: which fp32 file a quantized file is gated against, what
an ungated gate leaves in the report, and where the default-model gate takes its files."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import discovery
from benchmarks.discovery import MODELS_ENV, discover
from benchmarks.gates import not_gated
from benchmarks.params import quantized_params
from benchmarks.report import markdown
from benchmarks.results import Results

REPO = Path(__file__).resolve().parents[1]
MODELS = REPO / "models"


def _folder(tmp_path: Path, *names: str) -> Path:
    """A models folder holding links to some of the shipped files and their manifests."""
    for name in names:
        for path in (MODELS / name, MODELS / f"{name}.json"):
            (tmp_path / path.name).symlink_to(path)
    return tmp_path


@pytest.fixture
def bench_models(monkeypatch: pytest.MonkeyPatch) -> object:
    """Points $FER_EDGE_BENCH_MODELS at a folder for the test; the discovery cache is cleared around it."""

    def use(folder: Path) -> None:
        monkeypatch.setenv(MODELS_ENV, str(folder))
        discovery.groups.cache_clear()

    yield use
    discovery.groups.cache_clear()


def test_int8_without_fp32_file_falls_back_to_the_keras_source(tmp_path: Path) -> None:
    (group,) = discover(_folder(tmp_path, "emotion_cnn_int8.tflite", "emotion_cnn.keras"))
    (int8,) = group.files
    assert group.fp32_source(int8) is None
    assert group.fp32_reference(int8) == group.keras and group.keras.is_keras
    assert group.fp32_reference(int8, keras=False) is None


def test_fp32_file_of_the_same_format_comes_before_the_keras_source(tmp_path: Path) -> None:
    folder = _folder(tmp_path, "emotion_resnet16_int8.tflite", "emotion_resnet16_fp32.tflite",
                     "emotion_resnet16_int8.onnx", "emotion_resnet16.keras")
    (group,) = discover(folder)
    references = {f.key: group.fp32_reference(f) for f in group.files}
    assert references["tflite-int8"].key == "tflite-fp32"
    assert references["onnx-int8"].is_keras  # no onnx-fp32 file here
    assert references["tflite-fp32"] is None


def test_int8_without_any_reference_is_still_a_parameter(tmp_path: Path, bench_models: object) -> None:
    bench_models(_folder(tmp_path, "emotion_cnn_int8.tflite"))  # no .keras beside it
    for keras in (True, False):
        (param,) = quantized_params(("int8",), keras=keras)
        _, model, source = param.values
        assert model.key == "tflite-int8" and source is None and not param.marks


def test_speed_gate_parameters_keep_the_file_without_an_fp32_file(tmp_path: Path, bench_models: object) -> None:
    bench_models(_folder(tmp_path, "emotion_cnn_int8.tflite", "emotion_cnn.keras", "emotion_mobilenetv2_int8.tflite",
                         "emotion_mobilenetv2.keras"))
    speed = {p.id: p.values[2] for p in quantized_params(("int8",), keras=False)}
    accuracy = {p.id: p.values[2] for p in quantized_params(("int8",))}
    assert speed == {"emotion_cnn-tflite-int8": None, "emotion_mobilenetv2-tflite-int8": None}
    assert {key: ref.key for key, ref in accuracy.items()} == {"emotion_cnn-tflite-int8": "keras-fp32",
                                                               "emotion_mobilenetv2-tflite-int8": "keras-fp32"}


def test_not_gated_writes_a_visible_row_and_skips() -> None:
    results = Results(machine={})
    with pytest.raises(pytest.skip.Exception, match="no tflite-fp32 file"):
        not_gated(results, "int8 not slower than fp32", "emotion_cnn-tflite-int8", "no tflite-fp32 file")
    (row,) = results.rows("gates")
    assert row["passed"] is None and row["note"] == "not gated: no tflite-fp32 file"
    assert "| int8 not slower than fp32 | emotion_cnn-tflite-int8 | – |  | not gated |" in markdown(results)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnknownMarkWarning")  # "quick" is registered by benchmarks/conftest
def test_default_model_gate_reads_the_bench_models_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from benchmarks.test_latency import test_default_not_slower_than_reference

    monkeypatch.setenv(MODELS_ENV, str(tmp_path))
    with pytest.raises(pytest.skip.Exception, match=f"not in {tmp_path}"):
        test_default_not_slower_than_reference(Results(machine={}), 1, 1)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnknownMarkWarning")
def test_chain_gate_is_not_gated_on_a_source_without_a_face(bench_models: object) -> None:
    """A source where the default detector finds no face would make the chain gate time the detector alone."""
    import numpy as np

    from benchmarks.test_chain import test_chain_overhead

    bench_models(MODELS)
    group = next(g for g in discovery.groups() if g.name == "emotion_resnet16")
    results = Results(machine={})
    blank = [np.zeros((240, 320, 3), dtype=np.uint8)] * 3
    with pytest.raises(pytest.skip.Exception, match="no face found in 3 frames"):
        test_chain_overhead(results, lambda source: blank, None, group, "blank")
    (row,) = results.rows("gates")
    assert row["gate"] == "chain overhead" and row["passed"] is None and "detector 'auto'" in row["note"]

"""int8 files that give the same answers on every CPU, and manifests that name the CPU they were verified on.

ONNX Runtime's u8 x s8 kernels on x86 CPUs without AVX-512 VNNI add pairs of products in 16 bits with saturation
(VPMADDUBSW): with 8-bit weights the shipped models lost 1.8-3.0 points of accuracy on such CPUs. Weights in 7 bits
keep every pair sum below 2**15, so the result is exact on every instruction set; these tests hold the files to that.
"""

from __future__ import annotations

import numpy as np
import pytest

from runtime.cpu import CpuInfo, cpu_info, parse_cpuinfo
from runtime.manifest import load_manifest
from runtime.paths import shipped_emotion_models

SEVEN_BITS = (-64, 64)  # onnxruntime's reduce_range for int8 weights: 255 * 64 * 2 = 32640 < 2**15
AMD_AVX2 = "model name\t: AMD EPYC 7B13\nflags\t\t: fpu sse4_1 sse4_2 avx avx2 fma f16c\n"
XEON_AMX = "model name\t: Intel(R) Xeon(R) Platinum 8481C\nflags\t\t: avx2 avx512f avx512_vnni avx_vnni amx_int8\n"
ARM = "processor\t: 0\nFeatures\t: fp asimd evtstrm aes crc32 atomics asimddp i8mm\nCPU part\t: 0xd0c\n"


def _int8_weight_ranges(path):
    onnx = pytest.importorskip("onnx", reason="reading ONNX initializers needs the onnx package")
    from onnx import numpy_helper

    graph = onnx.load(str(path)).graph
    ranges = {}
    for tensor in graph.initializer:
        values = numpy_helper.to_array(tensor)
        if values.dtype == np.int8 and values.size > 1 and not tensor.name.endswith("zero_point"):
            ranges[tensor.name] = (int(values.min()), int(values.max()))
    return ranges


def _assert_seven_bit_weights(path):
    ranges = _int8_weight_ranges(path)
    assert ranges, f"{path.name} holds no int8 weights"
    wide = {name: r for name, r in ranges.items() if r[0] < SEVEN_BITS[0] or r[1] > SEVEN_BITS[1]}
    assert not wide, f"{path.name}: weights outside 7 bits saturate u8 x s8 kernels without VNNI: {wide}"


@pytest.mark.parametrize("path", [p for p in shipped_emotion_models() if p.name.endswith("_int8.onnx")],
                         ids=lambda p: p.name)
def test_shipped_int8_onnx_weights_fit_in_seven_bits(path):
    _assert_seven_bit_weights(path)


@pytest.mark.slow
def test_converter_writes_seven_bit_onnx_weights(converted):
    _assert_seven_bit_weights(converted / "tiny_int8.onnx")


def _assert_machine_recorded(path):
    machine = load_manifest(path).verification.get("machine")
    assert machine, f"{path.name}: its manifest does not say which CPU its verification ran on"
    assert machine["cpu"]["model"] and machine["cpu"]["arch"]
    assert isinstance(machine["cpu"]["features"], list) and isinstance(machine["cpu"]["int8_dot_product"], bool)
    engine = "onnxruntime" if path.suffix == ".onnx" else ("ai-edge-litert", "tflite-runtime", "tensorflow")
    assert machine["engine"].startswith(engine)


@pytest.mark.parametrize("path", shipped_emotion_models(), ids=lambda p: p.name)
def test_shipped_manifests_name_the_cpu_they_were_verified_on(path):
    _assert_machine_recorded(path)


@pytest.mark.slow
def test_converter_records_this_cpu(converted):
    for path in sorted(converted.glob("tiny*.tflite")) + sorted(converted.glob("tiny*.onnx")):
        _assert_machine_recorded(path)
        assert load_manifest(path).verification["machine"]["cpu"] == cpu_info().to_dict()


@pytest.mark.parametrize(("text", "model", "has", "dot"), [
    (AMD_AVX2, "AMD EPYC 7B13", {"avx2", "fma"}, False),
    (XEON_AMX, "Intel(R) Xeon(R) Platinum 8481C", {"avx512f", "avx512_vnni", "amx_int8"}, True),
])
def test_x86_features_are_read_from_cpuinfo(text, model, has, dot):
    name, flags = parse_cpuinfo(text)
    info = CpuInfo(name, "x86_64", tuple(f for f in ("avx2", "fma", "avx512f", "avx512_vnni", "amx_int8")
                                         if f in flags))
    assert name == model and has <= set(info.features) and info.int8_dot_product is dot
    assert model in info.describe()


def test_arm_features_are_read_from_cpuinfo():
    name, flags = parse_cpuinfo(ARM)
    assert {"asimd", "asimddp", "i8mm"} <= flags
    assert CpuInfo(name or "aarch64", "aarch64", ("asimd", "asimddp")).int8_dot_product


def test_this_cpu_is_described():
    info = cpu_info()
    assert info.model and info.arch
    assert set(info.features) <= set(info.to_dict()["features"])

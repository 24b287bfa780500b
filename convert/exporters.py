"""Exporters: a Keras model to TFLite (fp32, fp16, dynamic range, full integer) and ONNX (fp32, static int8)."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from convert.data.calibration import ort_calibration_reader, representative_dataset
from convert.formats import ExportFormat

log = logging.getLogger(__name__)

ONNX_OPSET = 17
INPUT_NAME = "face"


def as_functional(model: Any) -> Any:
    """A Keras 3 Sequential model wrapped as a functional one (tf2onnx needs it: tensorflow-onnx issue 2448)."""
    import keras

    if isinstance(model, keras.Sequential):
        return keras.Model(model.inputs, model.outputs)
    return model


def export_tflite(model: Any, fmt: ExportFormat, out: Path, calibration: np.ndarray | None, int8_io: str) -> None:
    """Writes ``model`` as TFLite in ``fmt.precision``; full-integer int8 uses ``calibration`` faces."""
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if fmt.precision != "fp32":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if fmt.precision == "fp16":
        converter.target_spec.supported_types = [tf.float16]
    elif fmt.precision == "int8":
        if calibration is None:
            raise ValueError("int8 export needs calibration faces")
        converter.representative_dataset = representative_dataset(calibration)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        io_type = {"int8": tf.int8, "uint8": tf.uint8, "float32": tf.float32}[int8_io]
        converter.inference_input_type = io_type
        converter.inference_output_type = io_type
    out.write_bytes(converter.convert())


def export_onnx(model: Any, out: Path) -> None:
    """Writes ``model`` as float32 ONNX through tf2onnx, with a dynamic batch and the input named "face"."""
    import tensorflow as tf
    import tf2onnx

    model = as_functional(model)
    spec = (tf.TensorSpec((None, *model.input_shape[1:]), tf.float32, name=INPUT_NAME),)
    tf2onnx.convert.from_keras(model, input_signature=spec, opset=ONNX_OPSET, output_path=str(out))


def quantize_onnx(fp32: Path, out: Path, calibration: np.ndarray) -> None:
    """Static QDQ int8 quantization of an ONNX model with onnxruntime, calibrated on ``calibration`` faces.

    Activations uint8, weights int8 per channel within [-64, 64] (``reduce_range``), so that the file gives the same
    answers on every CPU. On x86 CPUs without AVX-512 VNNI, onnxruntime's u8 x s8 kernels multiply pairs with
    VPMADDUBSW, whose 16-bit sum saturates when both products are large (255 * 127 * 2 > 32767): measured on an AMD
    EPYC (AVX2 only), full-range weights cost the shipped small CNN 1.8 points of PrivateTest accuracy (top-1
    agreement with fp32 0.888) and MobileNetV2 3.0 points, while VNNI CPUs were exact. With these weights the pair sum
    stays below 2**15 on every instruction set (onnxruntime documents reduce_range for this case); measured there:
    drops of 0.17 and -0.17 points, agreement 0.986 and 0.980, as fast as full range; on an Intel Xeon with
    AVX-512 VNNI and AMX the same files gave bit-identical probabilities on 1,000 PrivateTest faces, where the
    full-range files agreed with their AVX2 results on only 87-90% of them. (u8 x u8 weights are exact too, but were
    up to 1.4x slower on the AVX2 CPU.)
    """
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    with tempfile.TemporaryDirectory() as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        quant_pre_process(str(fp32), str(prepared), skip_symbolic_shape=True)
        quantize_static(
            str(prepared),
            str(out),
            ort_calibration_reader(calibration, INPUT_NAME),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            reduce_range=True,
            calibrate_method=CalibrationMethod.MinMax,
        )

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

    Weights are int8 per channel, activations uint8 (the combination onnxruntime recommends on x86 CPUs).
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
            calibrate_method=CalibrationMethod.MinMax,
        )

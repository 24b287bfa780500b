"""The table of deployable formats: one row per output file `fer-convert` can write."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ExportFormat:
    """One deployable format.

    Attributes:
        key: the name used on the command line (``--int8``) and in manifests' ``extra.format_key``.
        engine: "tflite" or "onnx".
        precision: the manifest precision ("fp32", "fp16", "dynamic", "int8").
        suffix: appended to the model's stem to name the output file.
        calibrated: whether it needs calibration faces (static quantization).
        help: one line for ``--help``.
    """

    key: str
    engine: str
    precision: str
    suffix: str
    calibrated: bool
    help: str


FORMATS: tuple[ExportFormat, ...] = (
    ExportFormat("fp32", "tflite", "fp32", "_fp32.tflite", False, "TFLite, float32"),
    ExportFormat("fp16", "tflite", "fp16", "_fp16.tflite", False, "TFLite, float16 weights"),
    ExportFormat("dynamic", "tflite", "dynamic", "_dynamic.tflite", False,
                 "TFLite, int8 weights with dynamic-range activations"),
    ExportFormat("int8", "tflite", "int8", "_int8.tflite", True,
                 "TFLite, full integer int8 (calibrated on real faces)"),
    ExportFormat("onnx", "onnx", "fp32", "_fp32.onnx", False, "ONNX, float32 (tf2onnx)"),
    ExportFormat("onnx-int8", "onnx", "int8", "_int8.onnx", True,
                 "ONNX, static int8 QDQ (onnxruntime, calibrated on real faces)"),
)

BY_KEY = {f.key: f for f in FORMATS}

"""TFLite models through ai-edge-litert, else tflite-runtime, else tf.lite (a last resort: TensorFlow is heavy)."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from runtime.backends.base import Backend, Device
from runtime.manifest import TensorQuantization
from runtime.preprocess import dequantize, quantize

log = logging.getLogger(__name__)

GPU_DELEGATE_ENV = "FER_EDGE_TFLITE_GPU_DELEGATE"


def interpreter_module() -> tuple[Any, str]:
    """The first TFLite interpreter module that imports, and its name."""
    try:
        from ai_edge_litert import interpreter

        return interpreter, "ai-edge-litert"
    except ImportError:
        pass
    try:
        from tflite_runtime import interpreter

        return interpreter, "tflite-runtime"
    except ImportError:
        pass
    try:
        import tensorflow as tf

        return tf.lite, "tf.lite"
    except ImportError:
        raise ImportError(
            "no TFLite interpreter is installed: pip install ai-edge-litert (or tflite-runtime)"
        ) from None


def tensor_quantization(detail: dict[str, Any]) -> TensorQuantization | None:
    """The affine parameters of an integer tensor, read from the tensor itself; None for a float tensor."""
    dtype = np.dtype(detail["dtype"])
    if dtype.kind not in "iu":
        return None
    scale, zero_point = detail["quantization"]
    if scale == 0:
        raise RuntimeError(f"integer tensor {detail['name']!r} has no quantization parameters")
    return TensorQuantization(dtype=dtype.name, scale=float(scale), zero_point=int(zero_point))


class TFLiteBackend(Backend):
    """A TFLite interpreter. XNNPACK is on (the interpreter's default op resolver); ``threads`` sets its pool."""

    def __init__(self, path: Path, device: Device, threads: int | None = None, gpu_delegate: str | None = None):
        super().__init__()
        self.path = path
        module, name = interpreter_module()
        delegates = self._delegates(module, device, gpu_delegate)
        self.device = Device.GPU if delegates else Device.CPU
        self.provider = f"{name}+{'gpu-delegate' if delegates else 'xnnpack'}"
        try:
            self._interpreter = module.Interpreter(
                model_path=str(path), num_threads=threads, experimental_delegates=delegates or None
            )
            self._interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise RuntimeError(f"cannot load TFLite model {path}: {exc}") from exc
        inputs = self._interpreter.get_input_details()
        outputs = self._interpreter.get_output_details()
        if len(inputs) != 1 or not outputs:
            raise RuntimeError(f"{path.name}: expected one input and at least one output tensor, "
                               f"got {len(inputs)} and {len(outputs)}")
        self._input, self._output, self._outputs = inputs[0], outputs[0], outputs
        signature = self._input.get("shape_signature", self._input["shape"])
        self.input_shape = tuple(int(v) for v in signature)
        self.input_quantization = tensor_quantization(self._input)
        self.output_quantization = tensor_quantization(self._output)
        self._output_quantizations = [tensor_quantization(output) for output in outputs]
        self._batch = int(self._input["shape"][0])

    @staticmethod
    def _delegates(module: Any, device: Device, gpu_delegate: str | None) -> list[Any]:
        if device is Device.CPU:
            return []
        library = gpu_delegate or os.environ.get(GPU_DELEGATE_ENV)
        problem = None
        if not library:
            problem = (f"no TFLite GPU delegate library was given (gpu_delegate= or ${GPU_DELEGATE_ENV}); "
                       "the pip TFLite packages ship none for desktops. For a GPU use an ONNX model with "
                       "onnxruntime-gpu")
        else:
            try:
                return [module.load_delegate(library)]
            except (ValueError, OSError, RuntimeError) as exc:
                problem = f"cannot load the TFLite GPU delegate {library!r}: {exc}"
        if device is Device.GPU:
            raise RuntimeError(f"GPU requested but not available: {problem}")
        log.warning("device=auto: %s; running on the CPU", problem)
        return []

    @property
    def num_outputs(self) -> int:
        return int(self._output["shape"][-1])

    @property
    def num_output_tensors(self) -> int:
        return len(self._outputs)

    def _resize(self, batch: int) -> None:
        if batch != self._batch:
            shape = [batch, *self._input["shape"][1:]]
            self._interpreter.resize_tensor_input(self._input["index"], shape, strict=False)
            self._interpreter.allocate_tensors()
            self._batch = batch

    def _run(self, batch: np.ndarray) -> np.ndarray:
        return self._run_all(batch)[0]

    def _run_all(self, batch: np.ndarray) -> tuple[np.ndarray, ...]:
        if self.input_shape[0] == -1:
            return self._invoke(batch)
        per_item = [self._invoke(batch[i : i + 1]) for i in range(len(batch))]
        return tuple(np.concatenate(outputs) for outputs in zip(*per_item))

    def _invoke(self, batch: np.ndarray) -> tuple[np.ndarray, ...]:
        self._resize(len(batch))
        data = quantize(batch, self.input_quantization) if self.input_quantization else batch
        self._interpreter.set_tensor(self._input["index"], data.astype(self._input["dtype"], copy=False))
        self._interpreter.invoke()
        results = []
        for output, params in zip(self._outputs, self._output_quantizations):
            out = self._interpreter.get_tensor(output["index"])
            results.append(dequantize(out, params) if params else out.astype(np.float32))
        return tuple(results)

    def close(self) -> None:
        self._interpreter = None

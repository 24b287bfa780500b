"""TFLite models through ai-edge-litert, else tflite-runtime, else tf.lite (a last resort: TensorFlow is heavy)."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from runtime.backends import litert_gpu
from runtime.backends.base import Backend, Device
from runtime.backends.native_log import native_stderr_to_log
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
        delegates, self._gpu_model = [], None
        if device is not Device.CPU:
            delegates = self._gpu(module, path, device, gpu_delegate)
        on_gpu = bool(delegates) or self._gpu_model is not None
        self.device = Device.GPU if on_gpu else Device.CPU
        self.provider = f"{name}+{('litert-gpu' if self._gpu_model else 'gpu-delegate') if on_gpu else 'xnnpack'}"
        try:
            with native_stderr_to_log(log):  # LiteRT's "INFO: Created ... XNNPACK delegate" line
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

    def _gpu(self, module: Any, path: Path, device: Device, gpu_delegate: str | None) -> list[Any]:
        """A GPU delegate from a library path when one is given, else LiteRT's GPU accelerator when the installed
        package has one; on failure an error (device gpu) or a warning and the CPU (device auto)."""
        library = gpu_delegate or os.environ.get(GPU_DELEGATE_ENV)
        if library:
            try:
                return [module.load_delegate(library)]
            except (ValueError, OSError, RuntimeError) as exc:
                problem = f"cannot load the TFLite GPU delegate {library!r}: {exc}"
        elif litert_gpu.available():
            try:
                probe = module.Interpreter(model_path=str(path))
                self._gpu_model = litert_gpu.CompiledGpuModel(path, probe.get_output_details())
                return []
            except (RuntimeError, ValueError) as exc:
                problem = ("LiteRT's GPU accelerator could not start (no GPU adapter, or ops it cannot run; "
                           f"LiteRT said: {str(exc).strip().splitlines()[0]}); set ${GPU_DELEGATE_ENV} to a GPU "
                           "delegate library or use an ONNX model with onnxruntime-gpu")
        else:
            problem = (f"no TFLite GPU delegate library was given (gpu_delegate= or ${GPU_DELEGATE_ENV}) and this "
                       "TFLite package has no GPU accelerator. For a GPU use an ONNX model with onnxruntime-gpu")
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
        if self.input_shape[0] == -1 and self._gpu_model is None:
            return self._invoke(batch)
        per_item = [self._invoke(batch[i : i + 1]) for i in range(len(batch))]
        return tuple(np.concatenate(outputs) for outputs in zip(*per_item))

    def _invoke(self, batch: np.ndarray) -> tuple[np.ndarray, ...]:
        data = quantize(batch, self.input_quantization) if self.input_quantization else batch
        data = data.astype(self._input["dtype"], copy=False)
        if self._gpu_model is not None:
            raw = self._gpu_model.run(data)
        else:
            self._resize(len(batch))
            self._interpreter.set_tensor(self._input["index"], data)
            self._interpreter.invoke()
            raw = tuple(self._interpreter.get_tensor(output["index"]) for output in self._outputs)
        return tuple(dequantize(out, params) if params else out.astype(np.float32)
                     for out, params in zip(raw, self._output_quantizations))

    def _release(self) -> None:
        if self._gpu_model is not None:
            self._gpu_model.close()
        self._interpreter = self._gpu_model = None

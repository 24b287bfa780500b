"""ONNX models through ONNX Runtime (``onnxruntime``, or ``onnxruntime-gpu`` for CUDA/TensorRT)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from runtime.backends.base import Backend, Device
from runtime.environment import check_onnxruntime

log = logging.getLogger(__name__)

GPU_PROVIDERS = ("TensorrtExecutionProvider", "CUDAExecutionProvider")


def _onnxruntime():
    try:
        import onnxruntime
    except ImportError:
        raise ImportError("ONNX models need ONNX Runtime: pip install 'fer-edge[onnx]' "
                          "(or 'fer-edge[gpu]' for onnxruntime-gpu)") from None
    check_onnxruntime(onnxruntime.__file__)
    return onnxruntime


class OnnxBackend(Backend):
    """An ONNX Runtime session. On ``gpu`` the session must really run on CUDA or TensorRT, or it raises."""

    def __init__(self, path: Path, device: Device, threads: int | None = None, gpu_delegate: str | None = None):
        super().__init__()
        ort = _onnxruntime()
        self.path = path
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        options.log_severity_level = 3
        gpu = [p for p in GPU_PROVIDERS if p in ort.get_available_providers()]
        wanted = gpu if device is not Device.CPU else []
        if device is not Device.CPU and not gpu:
            self._no_gpu(device, f"this onnxruntime has no GPU provider (available: {ort.get_available_providers()}); "
                                 "install onnxruntime-gpu")
        try:
            self._session = ort.InferenceSession(str(path), options, providers=[*wanted, "CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types for a bad file
            raise RuntimeError(f"cannot load ONNX model {path}: {exc}") from exc
        active = self._session.get_providers()
        on_gpu = any(p in active for p in GPU_PROVIDERS)
        if wanted and not on_gpu:
            # onnxruntime falls back to the CPU silently when CUDA libraries are missing; we do not
            self._no_gpu(device, f"onnxruntime could not start {wanted} (active: {active})")
        self.device = Device.GPU if on_gpu else Device.CPU
        self.provider = active[0]
        model_input = self._session.get_inputs()[0]
        self._input_name = model_input.name
        self.input_shape = tuple(d if isinstance(d, int) else -1 for d in model_input.shape)
        self._output_shape = self._session.get_outputs()[0].shape

    @staticmethod
    def _no_gpu(device: Device, problem: str) -> None:
        if device is Device.GPU:
            raise RuntimeError(f"GPU requested but not available: {problem}")
        log.warning("device=auto: %s; running on the CPU", problem)

    @property
    def num_outputs(self) -> int:
        return int(self._output_shape[-1])

    @property
    def num_output_tensors(self) -> int:
        return len(self._session.get_outputs())

    def _run(self, batch: np.ndarray) -> np.ndarray:
        return self._run_all(batch)[0]

    def _run_all(self, batch: np.ndarray) -> tuple[np.ndarray, ...]:
        if self.input_shape[0] != -1 and self.input_shape[0] != len(batch):
            per_item = [self._run_all(batch[i : i + 1]) for i in range(len(batch))]
            return tuple(np.concatenate(outputs) for outputs in zip(*per_item))
        outputs = self._session.run(None, {self._input_name: batch})
        return tuple(out.astype(np.float32, copy=False) for out in outputs)

    def _release(self) -> None:
        self._session = None

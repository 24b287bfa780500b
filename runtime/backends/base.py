"""The backend interface: float32 batch in, float32 batch out; quantization is the backend's business."""

from __future__ import annotations

import enum
import threading
from abc import ABC, abstractmethod
from pathlib import Path

import numpy as np


class Device(str, enum.Enum):
    """Where a model runs. AUTO tries the GPU and falls back to the CPU with a logged warning."""

    CPU = "cpu"
    GPU = "gpu"
    AUTO = "auto"


def parse_device(device: Device | str) -> Device:
    try:
        return Device(device)
    except ValueError:
        raise ValueError(f"device must be one of {[d.value for d in Device]}, got {device!r}") from None


class Backend(ABC):
    """One loaded model. ``run`` is serialized by a lock, so one backend may be shared between threads.

    Attributes:
        path: the model file.
        input_shape: (batch, height, width, channels); batch is -1 when the model accepts any batch size.
        device: the device the model actually runs on (never AUTO).
        provider: a short description of the engine (e.g. "litert+xnnpack", "CUDAExecutionProvider").
    """

    path: Path
    input_shape: tuple[int, ...]
    device: Device
    provider: str

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._closed = False

    def check_open(self) -> None:
        """Raises RuntimeError once the backend is closed."""
        if self._closed:
            raise RuntimeError(f"{self.path.name}: the model is closed")

    def run(self, batch: np.ndarray) -> np.ndarray:
        """Runs a float32 batch (N, H, W, C), already normalized; returns float32 outputs (N, K).

        Raises:
            ValueError: the batch has the wrong shape.
            RuntimeError: the model has several output tensors (use ``run_all``).
        """
        self.check_open()
        self._check_batch(batch)
        if self.num_output_tensors != 1:
            raise RuntimeError(f"{self.path.name} has {self.num_output_tensors} output tensors; use run_all")
        if len(batch) == 0:
            return np.zeros((0, self.num_outputs), dtype=np.float32)
        with self._lock:
            return self._run(np.ascontiguousarray(batch, dtype=np.float32))

    def run_all(self, batch: np.ndarray) -> tuple[np.ndarray, ...]:
        """Runs a non-empty float32 batch (N, H, W, C); returns every output tensor as float32, in the model's
        order, each with N first (for models with several outputs, such as a detector's boxes and scores).

        Raises:
            ValueError: the batch has the wrong shape or is empty.
        """
        self.check_open()
        self._check_batch(batch)
        if len(batch) == 0:
            raise ValueError(f"{self.path.name}: run_all needs a non-empty batch")
        with self._lock:
            return self._run_all(np.ascontiguousarray(batch, dtype=np.float32))

    def _check_batch(self, batch: np.ndarray) -> None:
        if batch.ndim != 4 or tuple(batch.shape[1:]) != tuple(self.input_shape[1:]):
            raise ValueError(f"{self.path.name} expects input (N, {', '.join(map(str, self.input_shape[1:]))}), "
                             f"got {batch.shape}")

    @property
    @abstractmethod
    def num_outputs(self) -> int:
        """The size K of the last axis of the first output tensor."""

    @property
    @abstractmethod
    def num_output_tensors(self) -> int: ...

    @abstractmethod
    def _run(self, batch: np.ndarray) -> np.ndarray: ...

    @abstractmethod
    def _run_all(self, batch: np.ndarray) -> tuple[np.ndarray, ...]: ...

    def close(self) -> None:
        """Releases the engine; ``run`` raises RuntimeError afterwards. Closing twice is harmless."""
        with self._lock:
            self._closed = True
            self._release()

    def _release(self) -> None:  # noqa: B027 (optional hook: most engines free themselves)
        """Frees the engine's resources (called once per close, under the lock)."""

    def __enter__(self) -> Backend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

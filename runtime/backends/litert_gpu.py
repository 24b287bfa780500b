"""LiteRT's GPU accelerator (``CompiledModel`` with ``HardwareAccelerator.GPU``, WebGPU/OpenCL/Metal underneath),
for ai-edge-litert releases that have it. It runs one fixed-shape batch at a time with tensors the caller
already quantized; the TFLite backend does the rest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def available() -> bool:
    try:
        from ai_edge_litert import compiled_model, hardware_accelerator  # noqa: F401
    except ImportError:
        return False
    return True


class CompiledGpuModel:
    """A model compiled for LiteRT's GPU accelerator alone (no silent CPU fallback).

    Raises (on construction):
        RuntimeError: LiteRT finds no GPU adapter or cannot compile the model for it.
    """

    def __init__(self, path: Path, output_details: list[dict[str, Any]]) -> None:
        from ai_edge_litert.compiled_model import CompiledModel
        from ai_edge_litert.hardware_accelerator import HardwareAccelerator

        self._model = CompiledModel.from_file(str(path), hardware_accel=HardwareAccelerator.GPU)
        self._inputs = self._model.create_input_buffers(0)
        self._outputs = self._model.create_output_buffers(0)
        self._details = output_details

    def run(self, data: np.ndarray) -> tuple[np.ndarray, ...]:
        """Runs one input of the model's own shape and dtype; returns the raw output tensors."""
        self._inputs[0].write(np.ascontiguousarray(data))
        self._model.run_by_index(0, self._inputs, self._outputs)
        results = []
        for buffer, detail in zip(self._outputs, self._details):
            shape = tuple(int(v) for v in detail["shape"])
            results.append(np.asarray(buffer.read(int(np.prod(shape)), detail["dtype"])).reshape(shape))
        return tuple(results)

    def close(self) -> None:
        self._model = None

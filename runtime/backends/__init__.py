"""Inference backends behind one small interface, chosen by the model file's suffix."""

from __future__ import annotations

from pathlib import Path

from runtime.backends.base import Backend, Device, parse_device

_BY_SUFFIX = {".tflite": "runtime.backends.tflite:TFLiteBackend", ".onnx": "runtime.backends.onnx:OnnxBackend"}

__all__ = ["Backend", "Device", "open_backend", "parse_device"]


def open_backend(
    path: str | Path, device: Device | str = Device.CPU, threads: int | None = None, gpu_delegate: str | None = None
) -> Backend:
    """Opens a model file on the backend its suffix names (``.tflite`` or ``.onnx``).

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: the suffix or device is not supported.
        ImportError: the backend's library is not installed (the message names the extra).
        RuntimeError: the file cannot be loaded, or a GPU was asked for and cannot be had.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model file not found: {path}")
    target = _BY_SUFFIX.get(path.suffix.lower())
    if target is None:
        raise ValueError(f"unsupported model file {path.name!r}: expected one of {sorted(_BY_SUFFIX)}")
    module_name, class_name = target.split(":")
    import importlib

    backend_class = getattr(importlib.import_module(module_name), class_name)
    return backend_class(path, parse_device(device), threads=threads, gpu_delegate=gpu_delegate)

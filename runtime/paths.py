"""Where the runtime finds its shipped model files."""

from __future__ import annotations

import os
import sys
from pathlib import Path

MODELS_ENV = "FER_EDGE_MODELS"


def default_model_dir() -> Path:
    """The folder of shipped models: ``$FER_EDGE_MODELS``; else ``models/`` beside the ``runtime`` package (a source
    checkout or an editable install); else ``<prefix>/share/fer-edge/models`` (where a wheel installs them).
    The face detector's files are in its ``blazeface/`` subfolder, the landmark model in ``face_mesh/``.
    """
    if os.environ.get(MODELS_ENV):
        return Path(os.environ[MODELS_ENV]).expanduser()
    beside = Path(__file__).resolve().parent.parent / "models"
    installed = Path(sys.prefix) / "share" / "fer-edge" / "models"
    return installed if not beside.is_dir() and installed.is_dir() else beside


def face_landmark_model() -> Path:
    """MediaPipe's face-mesh landmark model, ``face_mesh/face_landmark.tflite`` in ``default_model_dir()``."""
    return default_model_dir() / "face_mesh" / "face_landmark.tflite"


DEPLOYABLE_SUFFIXES = (".tflite", ".onnx")


def shipped_emotion_models(folder: Path | None = None) -> list[Path]:
    """The deployable emotion model files (``emotion_*.tflite``, ``emotion_*.onnx``) of a models folder (default:
    the shipped one), sorted by name."""
    folder = folder or default_model_dir()
    return sorted(p for p in folder.glob("emotion_*") if p.suffix in DEPLOYABLE_SUFFIXES)

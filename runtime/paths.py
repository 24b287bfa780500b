"""Where the runtime finds its model files.

The model folder is the first of:

1. ``$FER_EDGE_MODELS``, a folder the user names (for example a checkout's ``models/`` with every variant);
2. ``runtime/models/`` inside the installed package: the package data a wheel carries (the default emotion models and
   the face detector in ``blazeface/``, the landmark model in ``face_mesh/``), found through the package itself with
   ``importlib.resources``, so that every kind of install
   (venv, ``--user``, ``--target``, a system Python whose data files land elsewhere) finds it;
3. ``models/`` beside the ``runtime`` package: a source checkout or an editable install, with every variant.

A model can be named by its bare file name (``emotion_resnet16_int8.onnx``): ``resolve_model`` looks it up there.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

MODELS_ENV = "FER_EDGE_MODELS"
DEFAULT_EMOTION_MODEL = "emotion_resnet16_int8.tflite"
DEPLOYABLE_SUFFIXES = (".tflite", ".onnx")
FACE_LANDMARK_FILE = "face_mesh/face_landmark.tflite"


def packaged_model_dir() -> Path:
    """``runtime/models/`` of the imported package (present in a wheel install, absent in a checkout)."""
    return Path(str(resources.files("runtime"))) / "models"


def checkout_model_dir() -> Path:
    """``models/`` beside the ``runtime`` package: the repository's folder in a checkout or an editable install."""
    return Path(__file__).resolve().parent.parent / "models"


def default_model_dir() -> Path:
    """The model folder (see the module docstring). When none exists, the checkout's path, so errors name it."""
    if os.environ.get(MODELS_ENV):
        return Path(os.environ[MODELS_ENV]).expanduser()
    packaged = packaged_model_dir()
    return packaged if packaged.is_dir() else checkout_model_dir()


def resolve_model(model: str | Path) -> Path:
    """A model file given as a path, or as the bare name of a file in the model folder.

    Raises:
        FileNotFoundError: a bare name that is neither a file here nor in the model folder.
    """
    path = Path(model).expanduser()
    if path.exists() or len(path.parts) != 1:
        return path
    folder = default_model_dir()
    if (folder / path).is_file():
        return folder / path
    raise FileNotFoundError(f"model {str(model)!r} not found: no such file here or in the model folder {folder} "
                            f"(fer-analyze --list-models lists the installed models)")


def face_landmark_model() -> Path:
    """MediaPipe's face-mesh landmark model, ``face_mesh/face_landmark.tflite`` in ``default_model_dir()``."""
    return default_model_dir() / FACE_LANDMARK_FILE


def shipped_emotion_models(folder: Path | None = None) -> list[Path]:
    """The deployable emotion model files (``emotion_*.tflite``, ``emotion_*.onnx``) of a models folder (default:
    the model folder), sorted by name."""
    folder = folder or default_model_dir()
    return sorted(p for p in folder.glob("emotion_*") if p.suffix in DEPLOYABLE_SUFFIXES)

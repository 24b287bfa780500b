"""Shared fixtures: small models trained on generated data, so no third-party data is needed."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from tests.synthetic import NUM_CLASSES, SIDE, synthetic_faces

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = Path(__file__).resolve().parents[1]


def _train_tiny(path: Path, sequential: bool, classes: int = NUM_CLASSES) -> Path:
    """A tiny gray 48x48 classifier trained for a few epochs on synthetic faces, saved with a manifest."""
    keras = pytest.importorskip("keras", reason="the converter tests need TensorFlow/Keras (extra 'convert')")
    from keras import layers

    from runtime.manifest import EXPRESSIVENESS_LABELS, FER2013_LABELS, Manifest, Normalization, save_manifest

    keras.utils.set_random_seed(7)
    stack = [
        layers.Rescaling(1 / 255.0),
        layers.Conv2D(8, 3, strides=2, activation="relu"),
        layers.Conv2D(16, 3, strides=2, activation="relu"),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dense(classes, activation="softmax"),
    ]
    if sequential:
        model = keras.Sequential([keras.Input((SIDE, SIDE, 1)), *stack])
    else:
        inputs = keras.Input((SIDE, SIDE, 1))
        x = inputs
        for layer in stack:
            x = layer(x)
        model = keras.Model(inputs, x)
    images, labels = synthetic_faces(700, seed=1)
    labels = labels % classes
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(images[..., None].astype(np.float32), labels, epochs=8, batch_size=32, verbose=0)
    assert history.history["accuracy"][-1] > 0.9, "the tiny model did not learn the generated classes"
    model.save(path)
    emotion = classes == NUM_CLASSES
    save_manifest(Manifest(task="emotion" if emotion else "expressiveness",
                           labels=FER2013_LABELS if emotion else EXPRESSIVENESS_LABELS, input_size=(SIDE, SIDE),
                           color="gray", normalization=Normalization()), path)
    return path


@pytest.fixture(scope="session")
def tiny_keras(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A functional Keras model with its manifest."""
    return _train_tiny(tmp_path_factory.mktemp("tiny") / "tiny.keras", sequential=False)


@pytest.fixture(scope="session")
def tiny_sequential(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Keras 3 Sequential model without a manifest (tf2onnx needs it wrapped)."""
    from runtime.manifest import manifest_path

    path = _train_tiny(tmp_path_factory.mktemp("seq") / "seq.keras", sequential=True)
    manifest_path(path).unlink()
    return path


@pytest.fixture(scope="session")
def calibration_npz(tmp_path_factory: pytest.TempPathFactory) -> Path:
    images, labels = synthetic_faces(210, seed=2)
    path = tmp_path_factory.mktemp("calib") / "faces.npz"
    np.savez(path, images=images, labels=labels)
    return path


@pytest.fixture(scope="session")
def converted(tiny_keras: Path, calibration_npz: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every format of the tiny model, written by fer-convert into one folder."""
    from convert.cli import main

    out = tmp_path_factory.mktemp("converted")
    code = main([str(tiny_keras), "--all", "--out", str(out), "--no-data", "--calibration", str(calibration_npz),
                 "--calibration-count", "140", "--validation-count", "210", "-q"])
    assert code == 0
    return out


@pytest.fixture(scope="session")
def tiny_expressiveness(calibration_npz: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 3-class (Reserved, Balanced, Expressive) model converted to fp32 TFLite."""
    from convert.cli import main

    folder = tmp_path_factory.mktemp("expr")
    keras_path = _train_tiny(folder / "expr.keras", sequential=False, classes=3)
    code = main([str(keras_path), "--fp32", "--out", str(folder), "--no-data", "--calibration", str(calibration_npz),
                 "--validation-count", "70", "-q"])
    assert code == 0
    return folder / "expr_fp32.tflite"


@pytest.fixture(scope="module")
def analyzer(converted: Path):
    """An Analyzer on the tiny int8 TFLite model (real BlazeFace detection), one per test module."""
    from runtime.analyzer import Analyzer

    with Analyzer.from_model_path(converted / "tiny_int8.tflite") as shared:
        yield shared


@pytest.fixture(scope="session")
def photo() -> np.ndarray:
    """The repository's sample photo (one face), BGR."""
    import cv2

    return cv2.imread(str(REPO / "samples" / "astronaut.jpg"))


@pytest.fixture(scope="session")
def built_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built from a copy of the source tree (the checkout gets no build folders)."""
    from tests.install import build_wheel

    return build_wheel(tmp_path_factory.mktemp("wheel"))

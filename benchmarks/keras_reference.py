"""The Keras source model as the fp32 reference, fed exactly what the converted files get.

TensorFlow's thread pools are global and fixed at its first use, so they are set to one thread here, once:
the Keras reference (and the peer's Keras model) are timed on one thread, like the models' one-thread rows.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks.discovery import ModelFile
from runtime.preprocess import prepare_faces, softmax

TF_THREADS = 1


@functools.cache
def tensorflow() -> tuple[Any, bool]:
    """The tensorflow module, and whether its thread pools could still be set to TF_THREADS.

    Raises:
        ImportError: TensorFlow is not installed.
    """
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(TF_THREADS)
        tf.config.threading.set_inter_op_parallelism_threads(TF_THREADS)
        return tf, True
    except RuntimeError:  # something initialized TensorFlow first; its default pools stay
        return tf, False


def keras_predictor(model: ModelFile) -> Callable[[np.ndarray], np.ndarray]:
    """``predict(faces)`` -> probabilities (N, K): the manifest's preprocessing, then ``predict_on_batch`` (Keras's
    compiled inference step; calling the model eagerly costs several times more per call)."""
    tensorflow()
    import keras

    network = keras.models.load_model(model.path, compile=False)
    manifest = model.manifest

    def predict(faces: np.ndarray) -> np.ndarray:
        batch = prepare_faces(faces, manifest.input_size, manifest.color, manifest.normalization)
        scores = np.asarray(network.predict_on_batch(batch), dtype=np.float32)
        return scores if manifest.outputs_probabilities else softmax(scores)

    return predict

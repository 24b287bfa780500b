"""Knowledge distillation: trained teachers' probabilities on the same augmented faces become part of the target.

The student learns from ``(1 - weight) * target + weight * teacher_probabilities``, where the teacher's
probabilities are the mean over the teachers (an ensemble) of each one's mean over the face and its mirror image.
All models take raw gray pixels (they normalize inside), so the teachers see exactly the augmented batch the student
sees, resized to each teacher's own input side when they differ.

Offline (``offline_targets``), the teachers are asked once, on the training faces as they are, and their answers
stay fixed while the faces are augmented: a small mismatch (a rotated or partly erased face keeps the answer for the
whole face) that saves the teachers' forward passes on every batch, several times the student's own training on a CPU.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from convert.pipeline import load_keras


def load_teacher(path: Path, num_classes: int) -> Any:
    """Loads a Keras classifier to distil from; refuses one whose output or input does not fit."""
    teacher = load_keras(path, role="teacher model")
    outputs, inputs = teacher.output_shape[-1], teacher.input_shape
    if outputs != num_classes:
        raise ValueError(f"teacher {path.name} predicts {outputs} classes, the student {num_classes}")
    if len(inputs) != 4 or inputs[-1] != 1:
        raise ValueError(f"teacher {path.name} takes {inputs}, not gray images (batch, side, side, 1)")
    teacher.trainable = False
    return teacher


def teacher_probabilities(teachers: Any | Sequence[Any], images: Any, flip: bool = True) -> Any:
    """The ensemble's probabilities on ``images`` (a float batch in 0..255): the mean over the teachers of each
    one's probabilities, averaged with those on the mirrored faces when ``flip``."""
    import tensorflow as tf

    teachers = list(teachers) if isinstance(teachers, (list, tuple)) else [teachers]
    total = 0.0
    for teacher in teachers:
        side = teacher.input_shape[1]
        batch = images
        if images.shape[1] != side:
            batch = tf.image.resize(images, (side, side), method="bilinear", antialias=True)
        probabilities = teacher(batch, training=False)
        if flip:
            probabilities = (probabilities + teacher(tf.reverse(batch, axis=[2]), training=False)) / 2.0
        total += probabilities
    return total / len(teachers)


def soft_targets(teachers: Any | Sequence[Any], images: Any, labels: Any, weight: float, flip: bool = True) -> Any:
    """Mixes the targets ``labels`` (one-hot or soft) with the teachers' probabilities on ``images``."""
    import tensorflow as tf

    probabilities = tf.cast(teacher_probabilities(teachers, images, flip), labels.dtype)
    return (1.0 - weight) * labels + weight * probabilities


def ensemble_probabilities(teachers: Sequence[Any], images: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """``teacher_probabilities`` (with mirror images) for a whole set of raw-pixel faces (N, side, side, 1), in
    batches; float32 (N, classes)."""
    import tensorflow as tf

    ask = tf.function(lambda batch: teacher_probabilities(list(teachers), batch), reduce_retracing=True)
    answers = [np.asarray(ask(tf.constant(images[start:start + batch_size], tf.float32)))
               for start in range(0, len(images), batch_size)]
    classes = teachers[0].output_shape[-1]
    return np.concatenate(answers).astype(np.float32) if answers else np.zeros((0, classes), np.float32)


def offline_targets(teachers: Sequence[Any], images: np.ndarray, labels: np.ndarray, weight: float,
                    batch_size: int = 256) -> np.ndarray:
    """``soft_targets`` computed once for a whole set: ``images`` (N, side, side, 1) raw pixels, ``labels`` (N,)
    class indices or (N, classes) distributions; returns float32 (N, classes)."""
    classes = teachers[0].output_shape[-1]
    targets = labels.astype(np.float32) if labels.ndim == 2 else np.eye(classes, dtype=np.float32)[labels]
    probabilities = ensemble_probabilities(teachers, images, batch_size)
    return ((1.0 - weight) * targets + weight * probabilities).astype(np.float32)

"""Knowledge distillation: a trained teacher's probabilities on the same augmented faces become part of the target.

The student learns from ``(1 - weight) * one_hot + weight * teacher_probabilities``. Both models take raw gray
pixels (they normalize inside), so the teacher sees exactly the augmented batch the student sees, resized to the
teacher's own input side when the two differ.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

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


def soft_targets(teacher: Any, images: Any, labels: Any, weight: float) -> Any:
    """Mixes the one-hot ``labels`` with the teacher's probabilities on ``images`` (a float batch in 0..255)."""
    import tensorflow as tf

    side = teacher.input_shape[1]
    if images.shape[1] != side:
        images = tf.image.resize(images, (side, side), method="bilinear", antialias=True)
    probabilities = tf.cast(teacher(images, training=False), labels.dtype)
    return (1.0 - weight) * labels + weight * probabilities

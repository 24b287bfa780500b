"""The training faces' augmentation, on batches of raw pixels (B, H, W, C) in [0, 255] inside the tf.data pipeline:
one projective warp (flip, rotation, zoom, shift) with contrast and brightness, and random erasing."""

from __future__ import annotations

from typing import Any

import numpy as np


def augment(images: Any, rotation: float = 0.17, zoom: float = 0.1, shift: float = 0.08) -> Any:
    """Random flip, rotation (radians), zoom, shift, contrast and brightness of a float batch (B, H, W, C) in
    [0, 255]. The geometric part is one projective warp, so it costs one resampling, not four."""
    import tensorflow as tf

    batch = tf.shape(images)[0]
    height, width = images.shape[1], images.shape[2]
    uniform = lambda low, high: tf.random.uniform([batch], low, high)
    angle, scale = uniform(-rotation, rotation), uniform(1.0 - zoom, 1.0 + zoom)
    tx, ty = uniform(-shift, shift) * width, uniform(-shift, shift) * height
    flip = tf.where(uniform(0.0, 1.0) < 0.5, -1.0, 1.0)
    cos, sin = tf.cos(angle) / scale, tf.sin(angle) / scale
    cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
    # maps each output pixel to the input pixel it samples (flip applied to x)
    transform = tf.stack(
        [flip * cos, -flip * sin, cx + tx - flip * cos * cx + flip * sin * cy,
         sin, cos, cy + ty - sin * cx - cos * cy, tf.zeros([batch]), tf.zeros([batch])], axis=1)
    warped = tf.raw_ops.ImageProjectiveTransformV3(
        images=images, transforms=transform, output_shape=[height, width], fill_value=0.0,
        interpolation="BILINEAR", fill_mode="NEAREST")
    mean = tf.reduce_mean(warped, axis=[1, 2, 3], keepdims=True)
    contrast = tf.reshape(uniform(0.8, 1.2), [-1, 1, 1, 1])
    brightness = tf.reshape(uniform(-20.0, 20.0), [-1, 1, 1, 1])
    return tf.clip_by_value((warped - mean) * contrast + mean + brightness, 0.0, 255.0)


def random_erasing(images: Any, probability: float, area: tuple[float, float] = (0.02, 0.2),
                   aspect: tuple[float, float] = (0.3, 3.3)) -> Any:
    """Random erasing (Zhong et al., 2017): with ``probability``, one rectangle of each face, covering ``area`` of
    it at an aspect ratio within ``aspect``, is replaced by uniform noise in [0, 255]. Batch (B, H, W, C) float."""
    import tensorflow as tf

    shape = tf.shape(images)
    batch, height, width = shape[0], images.shape[1], images.shape[2]
    uniform = lambda low, high: tf.random.uniform([batch], low, high)
    size = uniform(*area) * height * width
    ratio = tf.exp(uniform(float(np.log(aspect[0])), float(np.log(aspect[1]))))
    box_h = tf.minimum(tf.sqrt(size * ratio), float(height))
    box_w = tf.minimum(tf.sqrt(size / ratio), float(width))
    top = uniform(0.0, 1.0) * (height - box_h)
    left = uniform(0.0, 1.0) * (width - box_w)
    rows = tf.reshape(tf.range(height, dtype=tf.float32), [1, -1, 1, 1])
    cols = tf.reshape(tf.range(width, dtype=tf.float32), [1, 1, -1, 1])
    column = lambda v: tf.reshape(v, [-1, 1, 1, 1])
    inside = ((rows >= column(top)) & (rows < column(top + box_h))
              & (cols >= column(left)) & (cols < column(left + box_w)))
    chosen = column(tf.cast(uniform(0.0, 1.0) < probability, tf.float32)) > 0.0
    noise = tf.random.uniform(shape, 0.0, 255.0)
    return tf.where(inside & chosen, noise, images)

"""Multiply-accumulate operations of one forward pass of a Keras model, counted from its layers.

Counted: Conv2D (grouped too), DepthwiseConv2D, SeparableConv2D and Dense, the layers that hold nearly all of a
small CNN's arithmetic; batch normalization, activations and pooling are left out (they fold away or are
negligible). Nested models (e.g. a Keras application used as a backbone) are walked into.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _spatial(shape: Any) -> int:
    return int(np.prod(shape[1:-1]))


def layer_macs(layer: Any) -> int:
    """MACs of one layer for one input (batch of 1); 0 for layers that are not counted."""
    from keras import layers

    if hasattr(layer, "layers"):
        return count_macs(layer)
    if isinstance(layer, layers.DepthwiseConv2D):
        kh, kw = layer.kernel_size
        return _spatial(layer.output.shape) * kh * kw * int(layer.input.shape[-1]) * layer.depth_multiplier
    if isinstance(layer, layers.SeparableConv2D):
        kh, kw = layer.kernel_size
        channels = int(layer.input.shape[-1])
        depthwise = _spatial(layer.output.shape) * kh * kw * channels * layer.depth_multiplier
        return depthwise + _spatial(layer.output.shape) * channels * layer.depth_multiplier * layer.filters
    if isinstance(layer, layers.Conv2D):
        kh, kw = layer.kernel_size
        channels = int(layer.input.shape[-1]) // max(1, getattr(layer, "groups", 1))
        return _spatial(layer.output.shape) * kh * kw * channels * layer.filters
    if isinstance(layer, layers.Dense):
        return int(layer.input.shape[-1]) * layer.units
    return 0


def count_macs(model: Any) -> int:
    """MACs of one forward pass of ``model`` for one face."""
    return sum(layer_macs(layer) for layer in model.layers)

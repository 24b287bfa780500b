"""The architectures fer-train builds and the multiply-add count used to compare them."""

from __future__ import annotations

import pytest

pytest.importorskip("tensorflow", reason="building models needs TensorFlow (extra 'convert')")

from convert.train.macs import count_macs
from convert.train.models import SPECS, build_mobilenetv2


def test_macs_are_counted_layer_by_layer():
    import keras
    from keras import layers

    inputs = keras.Input((8, 8, 2))
    x = layers.Conv2D(4, 3, padding="same")(inputs)  # 64 positions x 9 x 2 x 4 = 4,608
    x = layers.DepthwiseConv2D(3, padding="same")(x)  # 64 x 9 x 4 = 2,304
    x = layers.SeparableConv2D(6, 3, strides=2, padding="same")(x)  # 16 x (9 x 4 + 4 x 6) = 960
    x = layers.BatchNormalization()(layers.ReLU()(x))  # not counted
    outputs = layers.Dense(7)(layers.Flatten()(x))  # 96 x 7 = 672
    assert count_macs(keras.Model(inputs, outputs)) == 4608 + 2304 + 960 + 672


def test_nested_backbones_are_counted():
    model = build_mobilenetv2(7, input_side=48)
    backbone = next(layer for layer in model.layers if hasattr(layer, "layers"))
    assert count_macs(model) == count_macs(backbone) + backbone.output.shape[-1] * 7
    assert 10e6 < count_macs(model) < 30e6


@pytest.mark.parametrize("arch", ["resnet", "sepnet"])
def test_student_candidates_fit_the_budget(arch):
    """Issue 11's student budget: at most ~30M multiply-adds per face; 7 probabilities from 48 px gray faces."""
    import numpy as np

    model = SPECS[arch].build(7, input_side=SPECS[arch].input_side)
    assert model.input_shape == (None, 48, 48, 1) and model.output_shape == (None, 7)
    assert count_macs(model) <= 31e6
    probabilities = model.predict(np.random.default_rng(0).uniform(0, 255, (2, 48, 48, 1)), verbose=0)
    np.testing.assert_allclose(probabilities.sum(1), 1.0, atol=1e-5)

"""The architectures. Every model takes raw pixels (0..255 as float) and normalizes inside, so a full-integer
model can take uint8 pixels unchanged; the manifest records that normalization as the identity."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

ARCHITECTURES = ("cnn", "mobilenetv2", "resnet", "sepnet")
DEFAULT_WIDTHS = {"resnet": 16, "sepnet": 64}  # first-stage filters of the architectures that take --width
WIDTH_ARCHITECTURES = tuple(DEFAULT_WIDTHS)
BATCHNORM_MOMENTUM = 0.9
RESNET_MIN_STEM = 16


@dataclass(frozen=True)
class ArchSpec:
    """Defaults for one architecture: input side, batch size, learning rate, epochs."""

    input_side: int
    batch_size: int
    learning_rate: float
    epochs: int
    build: Callable[..., Any]


def build_cnn(num_classes: int, input_side: int = 48, channels: int = 1, dropout: float = 0.4) -> Any:
    """The small 3-block CNN: (Conv-BN-ReLU x2, MaxPool, Dropout) with 32/64/128 filters, then Dense 256."""
    import keras
    from keras import layers

    inputs = keras.Input((input_side, input_side, channels), name="face")
    x = layers.Rescaling(1.0 / 255.0)(inputs)
    for filters in (32, 64, 128):
        for _ in range(2):
            x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
            x = layers.BatchNormalization()(x)
            x = layers.ReLU()(x)
        x = layers.MaxPooling2D()(x)
        x = layers.Dropout(dropout / 2)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(256, use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="fer_cnn")


def build_mobilenetv2(
    num_classes: int, input_side: int = 64, channels: int = 1, alpha: float = 1.0, dropout: float = 0.3
) -> Any:
    """MobileNetV2 from scratch (no ImageNet weights can be fetched here) on gray faces."""
    import keras
    from keras import layers

    inputs = keras.Input((input_side, input_side, channels), name="face")
    x = layers.Rescaling(1.0 / 127.5, offset=-1.0)(inputs)
    backbone = keras.applications.MobileNetV2(
        input_shape=(input_side, input_side, channels), alpha=alpha, include_top=False, weights=None
    )
    # Keras builds it with BatchNorm momentum 0.999, made for fine-tuning: trained from scratch, the moving
    # statistics lag the fast-changing weights and inference collapses to one class (seen here: validation
    # accuracy stuck at 24.9% for 9 epochs while training accuracy rose to 49%). 0.9 follows the weights.
    for layer in backbone.layers:
        if isinstance(layer, layers.BatchNormalization):
            layer.momentum = BATCHNORM_MOMENTUM
    x = backbone(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="fer_mobilenetv2")


def build_resnet(num_classes: int, input_side: int = 48, channels: int = 1, width: int = DEFAULT_WIDTHS["resnet"],
                 blocks: tuple[int, ...] = (1, 2, 2, 1), dropout: float = 0.3) -> Any:
    """A narrow ResNet for 48 px faces: a 3x3 stem at full resolution, then one stage per entry of ``blocks``
    (basic blocks of two 3x3 convolutions), each halving the side and doubling the width from ``width``."""
    import keras
    from keras import layers

    def conv_bn(x: Any, filters: int, stride: int = 1, kernel: int = 3, relu: bool = True) -> Any:
        x = layers.Conv2D(filters, kernel, strides=stride, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization(momentum=BATCHNORM_MOMENTUM)(x)
        return layers.ReLU()(x) if relu else x

    inputs = keras.Input((input_side, input_side, channels), name="face")
    # The stem has at least 16 filters: TensorFlow 2.21's oneDNN kernels corrupt the heap (abort or segfault) when
    # training a strided 1x1 convolution from fewer than 16 channels to 16, the first shortcut of a width-16 net.
    x = conv_bn(layers.Rescaling(1.0 / 127.5, offset=-1.0)(inputs), max(RESNET_MIN_STEM, width // 2))
    for stage, count in enumerate(blocks):
        filters = width * 2**stage
        for block in range(count):
            stride = 2 if block == 0 else 1
            shortcut = x if stride == 1 and x.shape[-1] == filters else conv_bn(x, filters, stride, 1, relu=False)
            y = conv_bn(conv_bn(x, filters, stride), filters, relu=False)
            x = layers.ReLU()(layers.Add()([shortcut, y]))
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name=f"fer_resnet{width}")


def build_sepnet(num_classes: int, input_side: int = 48, channels: int = 1, width: int = DEFAULT_WIDTHS["sepnet"],
                 stages: int = 4, dropout: float = 0.3) -> Any:
    """Depthwise-separable residual blocks (in the manner of mini-Xception): two 3x3 stem convolutions (the second
    halves the side), then
    ``stages`` blocks of two separable convolutions and a strided max-pool, widths doubling from ``width``."""
    import keras
    from keras import layers

    inputs = keras.Input((input_side, input_side, channels), name="face")
    x = layers.Rescaling(1.0 / 127.5, offset=-1.0)(inputs)
    for filters, stride in ((16, 1), (32, 2)):
        x = layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False)(x)
        x = layers.ReLU()(layers.BatchNormalization(momentum=BATCHNORM_MOMENTUM)(x))
    for stage in range(stages):
        filters = width * 2**stage
        shortcut = layers.Conv2D(filters, 1, strides=2, padding="same", use_bias=False)(x)
        shortcut = layers.BatchNormalization(momentum=BATCHNORM_MOMENTUM)(shortcut)
        for index in range(2):
            x = layers.SeparableConv2D(filters, 3, padding="same", use_bias=False)(x)
            x = layers.BatchNormalization(momentum=BATCHNORM_MOMENTUM)(x)
            if index == 0:
                x = layers.ReLU()(x)
        x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
        x = layers.ReLU()(layers.Add()([shortcut, x]))
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name=f"fer_sepnet{width}")


SPECS: dict[str, ArchSpec] = {
    "cnn": ArchSpec(input_side=48, batch_size=64, learning_rate=2e-3, epochs=40, build=build_cnn),
    "mobilenetv2": ArchSpec(input_side=64, batch_size=64, learning_rate=2e-3, epochs=30, build=build_mobilenetv2),
    "resnet": ArchSpec(input_side=48, batch_size=64, learning_rate=2e-3, epochs=150, build=build_resnet),
    "sepnet": ArchSpec(input_side=48, batch_size=64, learning_rate=2e-3, epochs=150, build=build_sepnet),
}

"""The GAN family's own networks (the generators reuse `keras_latent.layers`)."""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import layers

from keras_latent.layers.stacks import (
    Sequential,
    conv_data_format,
    downsampled_size,
    from_conv_layout,
    to_conv_layout,
)


def dcgan_critic(
    image_shape: Sequence[int], filters: Sequence[int], name: str = "critic"
) -> Sequential:
    """DCGAN discriminator without normalisation, one unbounded score.

    WGAN-GP's penalty is per example, so the critic has no batch
    normalisation (Gulrajani et al. 2017, §4).
    """
    downsampled_size(image_shape, len(filters))
    data_format = conv_data_format()
    stack = [keras.Input(tuple(image_shape)), *to_conv_layout(data_format)]
    for count in filters:
        stack.append(
            layers.Conv2D(count, 4, strides=2, padding="same", data_format=data_format)
        )
        stack.append(layers.LeakyReLU(0.2))
    stack += from_conv_layout(data_format)
    stack += [layers.Flatten(), layers.Dense(1)]
    return Sequential(stack, name=name)

"""Network builders shared by the zoo's models.

Each returns a built `keras.Sequential`, so a model that holds it has all its
variables at construction (phases and optimizers need them before `fit`).
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import layers


def _downsampled_size(image_shape: Sequence[int], num_downsamples: int):
    height, width = image_shape[:2]
    factor = 2**num_downsamples
    if height % factor or width % factor:
        raise ValueError(
            f"image_shape {tuple(image_shape)} must have height and width "
            f"divisible by 2**{num_downsamples} = {factor} for "
            f"{num_downsamples} stride-2 layers; change the image size or the "
            "number of filters."
        )
    return height // factor, width // factor


def mlp_image_encoder(
    image_shape: Sequence[int],
    hidden_units: Sequence[int],
    output_dim: int,
    activation: str = "relu",
    name: str = "encoder",
) -> keras.Sequential:
    """Flatten, then an MLP ending in a linear `output_dim` layer."""
    stack = [keras.Input(tuple(image_shape)), layers.Flatten()]
    stack += [layers.Dense(units, activation=activation) for units in hidden_units]
    stack.append(layers.Dense(output_dim))
    return keras.Sequential(stack, name=name)


def mlp_image_decoder(
    latent_dim: int,
    hidden_units: Sequence[int],
    image_shape: Sequence[int],
    name: str = "decoder",
) -> keras.Sequential:
    """An MLP ending in one logit per pixel, reshaped to `image_shape`."""
    size = 1
    for dim in image_shape:
        size *= dim
    stack = [keras.Input((latent_dim,))]
    stack += [layers.Dense(units, activation="relu") for units in hidden_units]
    stack += [layers.Dense(size), layers.Reshape(tuple(image_shape))]
    return keras.Sequential(stack, name=name)


def conv_image_encoder(
    image_shape: Sequence[int],
    filters: Sequence[int],
    output_dim: int,
    activation: str = "relu",
    name: str = "encoder",
) -> keras.Sequential:
    """Stride-2 4×4 convolutions, then a linear `output_dim` layer."""
    _downsampled_size(image_shape, len(filters))
    stack = [keras.Input(tuple(image_shape))]
    for count in filters:
        stack.append(layers.Conv2D(count, 4, strides=2, padding="same"))
        stack.append(layers.Activation(activation))
    stack += [layers.Flatten(), layers.Dense(output_dim)]
    return keras.Sequential(stack, name=name)


def conv_image_decoder(
    latent_dim: int,
    filters: Sequence[int],
    image_shape: Sequence[int],
    batch_norm: bool = False,
    name: str = "decoder",
) -> keras.Sequential:
    """Dense to a small feature map, stride-2 transposed convolutions, logits.

    `filters` lists the channels from the smallest feature map upwards, so a
    decoder mirrors an encoder built with the reversed list.
    """
    height, width = _downsampled_size(image_shape, len(filters))
    stack = [keras.Input((latent_dim,)), layers.Dense(height * width * filters[0])]
    if batch_norm:
        stack.append(layers.BatchNormalization())
    stack += [layers.ReLU(), layers.Reshape((height, width, filters[0]))]
    for count in filters[1:]:
        stack.append(layers.Conv2DTranspose(count, 4, strides=2, padding="same"))
        if batch_norm:
            stack.append(layers.BatchNormalization())
        stack.append(layers.ReLU())
    stack.append(layers.Conv2DTranspose(image_shape[-1], 4, strides=2, padding="same"))
    return keras.Sequential(stack, name=name)


def dcgan_critic(
    image_shape: Sequence[int], filters: Sequence[int], name: str = "critic"
) -> keras.Sequential:
    """DCGAN discriminator without normalisation, one unbounded score.

    WGAN-GP's penalty is per example, so the critic has no batch
    normalisation (Gulrajani et al. 2017, §4).
    """
    _downsampled_size(image_shape, len(filters))
    stack = [keras.Input(tuple(image_shape))]
    for count in filters:
        stack.append(layers.Conv2D(count, 4, strides=2, padding="same"))
        stack.append(layers.LeakyReLU(0.2))
    stack += [layers.Flatten(), layers.Dense(1)]
    return keras.Sequential(stack, name=name)

"""The GAN family's own networks (the generators reuse `keras_latent.layers`)."""

from __future__ import annotations

from collections.abc import Sequence

from keras import layers

from keras_latent.layers.stacks import Sequential, strided_convolutions


def dcgan_critic(
    image_shape: Sequence[int], filters: Sequence[int], name: str = "critic"
) -> Sequential:
    """DCGAN discriminator without normalisation, one unbounded score.

    WGAN-GP's penalty is per example, so the critic has no batch
    normalisation (Gulrajani et al. 2017, §4).
    """
    stack = strided_convolutions(image_shape, filters, lambda: layers.LeakyReLU(0.2))
    stack += [layers.Flatten(), layers.Dense(1)]
    return Sequential(stack, name=name)

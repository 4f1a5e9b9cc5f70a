"""The GAN family's networks: generators and discriminators ("critics").

The generators reuse the zoo's shared decoders (`keras_latent.layers`). The
critic is one `Sequential` whose last layer is the head: `Dense(1)` for a
plain critic, `Dense(1 + K)` for AC-GAN (source logit, then K class
logits). Everything before the head is the feature extractor that feature
matching and the projection discriminator read (`critic_features`). Its
regularisers are built in: spectral normalisation wraps every `Conv2D` and
`Dense`, weight clipping constrains them, minibatch discrimination sits just
before the head.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import layers

from keras_latent.layers import stacks
from keras_latent.layers.regularizers import (
    ClipWeights,
    MinibatchDiscrimination,
    SpectralNormalization,
)
from keras_latent.layers.stacks import Sequential, strided_convolutions


def dcgan_critic(
    image_shape: Sequence[int], filters: Sequence[int], name: str = "critic"
) -> Sequential:
    """DCGAN discriminator without normalisation, one unbounded score.

    WGAN-GP's penalty is per example, so the critic has no batch
    normalisation (Gulrajani et al. 2017, §4).
    """
    return build_critic(image_shape, "dcgan", filters, (), name=name)


def build_critic(
    input_shape: Sequence[int],
    architecture: str,
    filters: Sequence[int],
    hidden_units: Sequence[int],
    outputs: int = 1,
    spectral_norm: bool = False,
    clip_value: float | None = None,
    minibatch_kernels: int = 0,
    name: str = "critic",
) -> Sequential:
    """A discriminator: features, then a linear head of `outputs` logits.

    Args:
        input_shape: `(height, width, channels)` of what it reads (images,
            with label maps appended for a conditional critic); for `"mlp"`
            any shape, flattened first.
        architecture: `"dcgan"` (stride-2 4×4 convolutions with
            LeakyReLU(0.2), no normalisation, so per-example penalties stay
            per example) or `"mlp"` (LeakyReLU(0.2) layers).
        filters: channels of the convolutions (`"dcgan"`).
        hidden_units: widths of the hidden layers (`"mlp"`).
        outputs: int. Logits of the head. Defaults to `1`.
        spectral_norm: bool. Wrap every `Conv2D` and `Dense` in
            `keras_latent.layers.SpectralNormalization`. Defaults to `False`.
        clip_value: float or None. Clip every weight to `[−c, c]` after each
            update (WGAN). Defaults to `None`.
        minibatch_kernels: int. Closeness features of a
            `MinibatchDiscrimination` layer before the head; 0 for none.
            Defaults to `0`.
        name: str. Defaults to `"critic"`.
    """
    constraint = ClipWeights(clip_value) if clip_value else None

    def dense(units, activation=None):
        layer = layers.Dense(
            units,
            activation=activation,
            kernel_constraint=constraint,
            bias_constraint=constraint,
        )
        return SpectralNormalization(layer) if spectral_norm else layer

    if architecture == "dcgan":
        stack = strided_convolutions(
            input_shape,
            filters,
            lambda: layers.LeakyReLU(0.2),
            constraint=constraint,
            spectral_norm=spectral_norm,
        )
        stack.append(layers.Flatten())
    else:
        stack = [keras.Input(tuple(input_shape)), layers.Flatten()]
        # `"leaky_relu"` is LeakyReLU(0.2), Keras's default slope.
        stack += [dense(units, "leaky_relu") for units in hidden_units]
    if minibatch_kernels:
        stack.append(MinibatchDiscrimination(minibatch_kernels))
    stack.append(dense(outputs))
    return Sequential(stack, name=name)


def build_generator(
    input_dim: int,
    image_shape: Sequence[int],
    architecture: str,
    filters: Sequence[int],
    hidden_units: Sequence[int],
    name: str = "generator",
) -> Sequential:
    """The generator: noise (and labels) to image logits; tanh is applied by
    the model. `"dcgan"`: Dense to a small map, BatchNorm and ReLU, stride-2
    transposed convolutions (Radford et al. 2016); `"mlp"`: ReLU layers."""
    if architecture == "dcgan":
        return stacks.conv_image_decoder(
            input_dim, filters, image_shape, batch_norm=True, name=name
        )
    return stacks.mlp_image_decoder(input_dim, hidden_units, image_shape, name=name)


def critic_features(critic: Sequential, inputs, training: bool = False):
    """`(logits, features)`: the critic's head output and what fed it."""
    features = inputs
    for layer in critic.layers[:-1]:
        features = layer(features, training=training)
    return critic.layers[-1](features), features

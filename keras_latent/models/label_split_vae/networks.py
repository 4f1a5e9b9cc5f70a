"""The networks of the label-relevant/irrelevant VAE.

Two image encoders (the label-relevant E_s and the label-irrelevant E_u),
one decoder of the concatenated codes, and the adversarial classifier C
that reads the label-irrelevant code. Every builder returns a built
`keras_latent.layers.Sequential`, so the model has all its variables at
construction (the phase trainer's players need them before `fit`).
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import layers

from keras_latent.layers import stacks
from keras_latent.models.gan.networks import build_critic


def image_encoder(
    image_shape: Sequence[int],
    architecture: str,
    filters: Sequence[int],
    hidden_units: Sequence[int],
    output_dim: int,
    name: str,
) -> stacks.Sequential:
    """An encoder from images to `output_dim` linear outputs.

    Args:
        image_shape: `(height, width, channels)`.
        architecture: `"conv"` (stride-2 4×4 convolutions with ReLU, then a
            Dense layer) or `"mlp"` (Flatten, ReLU Dense layers, then a
            linear one).
        filters: channels of the convolutions (`"conv"`).
        hidden_units: widths of the hidden layers (`"mlp"`).
        output_dim: int. Width of the linear output.
        name: str. The network's name.

    Example:

    ```python
    relevant = image_encoder((28, 28, 1), "conv", (32, 64), (), 16, "relevant")
    ```
    """
    if architecture == "conv":
        return stacks.conv_image_encoder(image_shape, filters, output_dim, name=name)
    return stacks.mlp_image_encoder(image_shape, hidden_units, output_dim, name=name)


def image_decoder(
    code_dim: int,
    image_shape: Sequence[int],
    architecture: str,
    filters: Sequence[int],
    hidden_units: Sequence[int],
) -> stacks.Sequential:
    """A decoder from `concat(z_s, z_u)` to one logit per pixel.

    It mirrors the encoders: the filters (or widths) are read in reverse,
    from the smallest feature map (or the code) upwards.

    Args:
        code_dim: int. `relevant_dim + irrelevant_dim`.
        image_shape: `(height, width, channels)`.
        architecture: `"conv"` or `"mlp"`.
        filters: the encoders' channels, in encoder order (`"conv"`).
        hidden_units: the encoders' widths, in encoder order (`"mlp"`).

    Example:

    ```python
    decoder = image_decoder(32, (28, 28, 1), "conv", (32, 64), ())
    ```
    """
    if architecture == "conv":
        return stacks.conv_image_decoder(code_dim, tuple(filters)[::-1], image_shape)
    return stacks.mlp_image_decoder(code_dim, tuple(hidden_units)[::-1], image_shape)


def latent_classifier(
    code_dim: int, hidden_units: Sequence[int], num_classes: int
) -> stacks.Sequential:
    """The adversarial classifier C: a ReLU MLP from z_u to class logits.

    Args:
        code_dim: int. The dimension of the label-irrelevant code z_u.
        hidden_units: widths of its hidden layers (Zheng & Sun: one of 256).
        num_classes: int. K, the number of class logits.

    Example:

    ```python
    classifier = latent_classifier(16, (256,), 10)
    logits = classifier(z_u)  # (batch, 10)
    ```
    """
    stack = [keras.Input((code_dim,))]
    stack += [layers.Dense(units, activation="relu") for units in hidden_units]
    stack.append(layers.Dense(num_classes))
    return stacks.Sequential(stack, name="adversarial_classifier")


def projection_discriminator(
    image_shape: Sequence[int],
    architecture: str,
    filters: Sequence[int],
    hidden_units: Sequence[int],
    num_classes: int,
) -> tuple[stacks.Sequential, stacks.Sequential]:
    """The optional pixel discriminator: `(critic, label projection)`.

    A projection discriminator (Miyato & Koyama 2018) with spectral
    normalisation on every layer: `D(x, y) = ψ(φ(x)) + ⟨E y, φ(x)⟩`, φ the
    critic's features (stride-2 4×4 convolutions with LeakyReLU(0.2) for
    `"conv"`, LeakyReLU layers of `hidden_units` for `"mlp"`), ψ its linear
    head and E the label embedding (the second network).

    Args:
        image_shape: `(height, width, channels)`.
        architecture: `"conv"` or `"mlp"`.
        filters: channels of the convolutions (`"conv"`).
        hidden_units: widths of the hidden layers (`"mlp"`).
        num_classes: int. K, the width of the one-hot labels.

    Example:

    ```python
    critic, projection = projection_discriminator((28, 28, 1), "conv", (32, 64), (), 10)
    ```
    """
    critic = build_critic(
        image_shape,
        "dcgan" if architecture == "conv" else "mlp",
        filters,
        hidden_units,
        spectral_norm=True,
        name="pixel_discriminator",
    )
    feature_dim = int(critic.layers[-1].input.shape[-1])
    projection = stacks.Sequential(
        [keras.Input((num_classes,)), layers.Dense(feature_dim, use_bias=False)],
        name="label_projection",
    )
    return critic, projection

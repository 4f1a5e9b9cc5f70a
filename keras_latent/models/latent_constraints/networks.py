"""The networks of Latent Constraints: MLPs in the frozen VAE's latent space.

The realism critic D(z, y) and the actor G(z, y) are `conditional_mlp`s; an
attribute critic D_attr(z) is a `latent_mlp`, trained by wrapping it in a
`LatentAttributeClassifier` (docs/models.md, "Latent Constraints").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import keras
from keras import layers, ops

from keras_latent.layers import stacks


def conditional_mlp(
    latent_dim: int,
    label_dim: int,
    hidden_units: Sequence[int],
    label_embedding_dim: int,
    output_dim: int,
    name: str,
) -> keras.Model:
    """`[z, y] → output`: y enters through a Dense layer concatenated with z.

    Args:
        latent_dim: int. Width of z.
        label_dim: int. Width of the label vectors y.
        hidden_units: sequence of int. Widths of the ReLU layers.
        label_embedding_dim: int. Width of the Dense embedding of y.
        output_dim: int. Width of the linear output.
        name: str. The model's name.
    """
    z = keras.Input((latent_dim,), name="z")
    y = keras.Input((label_dim,), name="y")
    hidden = layers.Concatenate()([z, layers.Dense(label_embedding_dim)(y)])
    for units in hidden_units:
        hidden = layers.Dense(units, activation="relu")(hidden)
    return keras.Model([z, y], layers.Dense(output_dim)(hidden), name=name)


def latent_mlp(
    latent_dim: int, hidden_units: Sequence[int], output_dim: int, name: str
) -> stacks.Sequential:
    """`z → logits`: a ReLU MLP with a linear output, an attribute critic.

    Args:
        latent_dim: int. Width of z.
        hidden_units: sequence of int. Widths of the ReLU layers.
        output_dim: int. Number of logits (one per attribute or class).
        name: str. The network's name.
    """
    stack = [keras.Input((latent_dim,))]
    stack += [layers.Dense(units, activation="relu") for units in hidden_units]
    stack.append(layers.Dense(output_dim))
    return stacks.Sequential(stack, name=name)


class AttributeCritic(NamedTuple):
    """Where an attribute is judged: a critic network and one of its columns."""

    network: keras.Layer
    column: int
    label_type: str


def critic_probabilities(logits, label_type: str):
    """An attribute critic's probabilities: softmax over classes or sigmoids."""
    if label_type == "categorical":
        return ops.softmax(logits, axis=-1)
    return ops.sigmoid(logits)


class LatentAttributeClassifier(keras.Model):
    """Trains one attribute critic on posterior samples z ~ q(z|x).

    The data are posterior means and standard deviations, so every epoch sees
    fresh z without running the encoder again. Only a trainer: the critic it
    wraps is what the model keeps.

    Args:
        critic: the attribute critic network, `z → logits`.
        seed: int or None. Seed of the posterior noise. Defaults to `None`.
        **kwargs: passed to `keras.Model`.
    """

    def __init__(self, critic, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.critic = critic
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=False):
        # Keras casts a mixed-precision model's inputs to 16 bits; the noise
        # and the sum stay float32 (TensorFlow does not mix float dtypes).
        mean = ops.cast(inputs["z_mean"], "float32")
        std = ops.cast(inputs["z_std"], "float32")
        if training:
            noise = keras.random.normal(ops.shape(mean), seed=self.seed_generator)
            mean = mean + std * noise
        return ops.cast(self.critic(mean, training=training), "float32")

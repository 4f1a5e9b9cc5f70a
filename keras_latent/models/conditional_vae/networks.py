"""The CVAE's networks and its label head's math, in `keras.ops`.

The encoder is the VAE's encoder stack with `K` more outputs: one linear
layer on the shared features gives `(μ, s, ℓ_y)`, which is the same as two
linear heads on one trunk and keeps the weight layout of the shared stacks.
The decoder is the VAE's decoder stack reading `concat[z, y]`; its first
layer is a Dense for both architectures, so that is where the labels enter.
IFcVAE-GAN adds two adversaries: the auxiliary network A(z) (an MLP from z
to label logits) and the pixel discriminator C(x) (the GAN family's critic
with one logit).
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
from keras import layers, ops

from keras_latent import losses
from keras_latent.layers import stacks
from keras_latent.models.gan import networks as gan_networks


def build_encoder(
    architecture: str,
    image_shape: Sequence[int],
    latent_dim: int,
    label_dim: int,
    hidden_units: Sequence[int],
    filters: Sequence[int],
) -> stacks.Sequential:
    """Images → `2 · latent_dim + label_dim` outputs: `(μ, s, ℓ_y)`."""
    output_dim = 2 * latent_dim + label_dim
    if architecture == "mlp":
        return stacks.mlp_image_encoder(image_shape, hidden_units, output_dim)
    return stacks.conv_image_encoder(image_shape, filters, output_dim)


def build_decoder(
    architecture: str,
    image_shape: Sequence[int],
    latent_dim: int,
    label_dim: int,
    hidden_units: Sequence[int],
    filters: Sequence[int],
) -> stacks.Sequential:
    """`concat[z, y]` → one logit per pixel; mirrors `build_encoder`."""
    input_dim = latent_dim + label_dim
    if architecture == "mlp":
        return stacks.mlp_image_decoder(input_dim, hidden_units[::-1], image_shape)
    return stacks.conv_image_decoder(input_dim, filters[::-1], image_shape)


def build_auxiliary(
    latent_dim: int, units: Sequence[int], label_dim: int
) -> stacks.Sequential:
    """A(z): ReLU layers of `units`, then `label_dim` label logits."""
    stack = [keras.Input((latent_dim,))]
    stack += [layers.Dense(count, activation="relu") for count in units]
    stack.append(layers.Dense(label_dim))
    return stacks.Sequential(stack, name="auxiliary")


def build_discriminator(
    architecture: str,
    image_shape: Sequence[int],
    filters: Sequence[int],
    hidden_units: Sequence[int],
) -> stacks.Sequential:
    """C(x): one real/fake logit per image.

    `"conv"`: the DCGAN critic (stride-2 4×4 convolutions of `filters`,
    LeakyReLU(0.2)); `"mlp"`: LeakyReLU(0.2) layers of `hidden_units`. Both
    without normalisation, as the GAN family's.
    """
    if architecture == "mlp":
        return gan_networks.build_critic(
            image_shape, "mlp", (), hidden_units, name="discriminator"
        )
    return gan_networks.build_critic(
        image_shape, "dcgan", filters, (), name="discriminator"
    )


def split_encoder_outputs(outputs, latent_dim: int):
    """`(mean, std, label_logits)` from the encoder's float32 outputs."""
    mean, raw_std, label_logits = ops.split(
        outputs, [latent_dim, 2 * latent_dim], axis=-1
    )
    # The VAE's floor: log σ² stays finite when softplus underflows.
    return mean, ops.softplus(raw_std) + 1e-6, label_logits


def label_probabilities(logits, label_type: str):
    """The label head's probabilities: a softmax, or a sigmoid per attribute."""
    if label_type == "categorical":
        return ops.softmax(logits, axis=-1)
    return ops.sigmoid(logits)


def label_cross_entropy(logits, labels, label_type: str):
    """Per-example −log p(y|x) of the label head, `(batch,)`.

    Summed over the attributes for multi-label heads (the log-likelihood of
    the whole label vector, as the VAE's terms are sums), one softmax
    cross-entropy for categorical ones.
    """
    if label_type == "categorical":
        return ops.logsumexp(logits, axis=-1) - ops.sum(labels * logits, axis=-1)
    return ops.sum(losses.sigmoid_cross_entropy(logits, labels), axis=-1)


def label_accuracy(logits, labels, label_type: str):
    """The batch's accuracy: of the argmax, or of each attribute at 0.5."""
    if label_type == "categorical":
        hits = ops.argmax(logits, axis=-1) == ops.argmax(labels, axis=-1)
    else:
        hits = ops.cast(logits > 0.0, "float32") == labels
    return ops.mean(ops.cast(hits, "float32"))


def binarize(probabilities: np.ndarray, label_type: str, excluded=()) -> np.ndarray:
    """Label vectors from the head's NumPy probabilities `(N, K)`.

    One-hot of the argmax for categorical labels (never an `excluded`
    class: the most likely of the others), else each attribute at > 0.5.
    """
    if label_type == "categorical":
        scores = np.array(probabilities, "float64")
        scores[:, list(excluded)] = -np.inf
        return np.eye(scores.shape[1], dtype="float32")[scores.argmax(axis=1)]
    return (probabilities > 0.5).astype("float32")

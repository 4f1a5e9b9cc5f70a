"""The variational autoencoder's terms: KL to the prior and reconstruction
likelihoods, written in `keras.ops`."""

from __future__ import annotations

from keras import ops

from keras_latent.losses.adversarial import sigmoid_cross_entropy


def gaussian_kl(mean, log_var):
    """KL(N(mean, exp(log_var)) ‖ N(0, I)), *summed* over latent dims.

    Args:
        mean: tensor `(batch, latent_dim)`.
        log_var: tensor `(batch, latent_dim)`, log variances.

    Returns:
        Tensor `(batch,)`.
    """
    return 0.5 * ops.sum(ops.square(mean) + ops.exp(log_var) - 1.0 - log_var, axis=-1)


def gaussian_reconstruction(x, x_mean, sigma: float):
    """−log N(x; x_mean, σ² I) up to a constant, *summed* over pixels.

    `Σ (x − x̂)² / (2σ²)`: the constant `½ log 2πσ²` per pixel is dropped since
    it does not depend on the model.

    Args:
        x: tensor `(batch, ...)`, the data.
        x_mean: tensor of the same shape, the decoder's mean.
        sigma: float. The decoder's fixed standard deviation σ_x.

    Returns:
        Tensor `(batch,)`.
    """
    axes = tuple(range(1, len(x.shape)))
    return ops.sum(ops.square(x - x_mean), axis=axes) / (2.0 * sigma**2)


def bernoulli_reconstruction(x, logits):
    """−log Bernoulli(x; sigmoid(logits)), *summed* over pixels.

    Computed from logits for stability; `x` may be any value in [0, 1].

    Returns:
        Tensor `(batch,)`.
    """
    axes = tuple(range(1, len(x.shape)))
    return ops.sum(sigmoid_cross_entropy(logits, x), axis=axes)

"""Losses of the zoo, written in `keras.ops` (SPEC §1 and §3)."""

from __future__ import annotations

from collections.abc import Callable

from keras import ops

from keras_latent.trainer import input_gradients


def gradient_penalty(
    critic_fn: Callable,
    inputs,
    target_norm: float = 1.0,
    epsilon: float = 1e-12,
):
    """Two-sided gradient penalty of Gulrajani et al. (2017).

    Returns `mean((‖∇_x critic(x)‖₂ − target_norm)²)` over the batch, where
    the norm is taken per example over all non-batch axes.

    Args:
        critic_fn: callable mapping a batch of inputs to one score each.
        inputs: tensor `(batch, ...)`, usually interpolates between real and
            generated examples.
        target_norm: float. Defaults to `1.0`.
        epsilon: float. Added inside the square root so a zero gradient gives
            a finite penalty gradient instead of NaN. Defaults to `1e-12`.

    Example:

    ```python
    eps = keras.random.uniform((n, 1, 1, 1), seed=seed_generator)
    x_hat = eps * real + (1.0 - eps) * fake
    penalty = gradient_penalty(lambda t: critic(t, training=True), x_hat)
    ```
    """
    _, grads = input_gradients(critic_fn, inputs)
    axes = tuple(range(1, len(grads.shape)))
    norms = ops.sqrt(ops.sum(ops.square(grads), axis=axes) + epsilon)
    return ops.mean(ops.square(norms - target_norm))


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


def sigmoid_cross_entropy(logits, targets):
    """Element-wise binary cross-entropy of `sigmoid(logits)` against `targets`.

    The stable form `log(1 + exp(l)) − t·l`; `targets` may be any value in
    [0, 1] and broadcasts against `logits`.
    """
    return ops.softplus(logits) - targets * logits


def bernoulli_reconstruction(x, logits):
    """−log Bernoulli(x; sigmoid(logits)), *summed* over pixels.

    Computed from logits for stability; `x` may be any value in [0, 1].

    Returns:
        Tensor `(batch,)`.
    """
    axes = tuple(range(1, len(x.shape)))
    return ops.sum(sigmoid_cross_entropy(logits, x), axis=axes)


def wasserstein_critic_loss(real_scores, fake_scores):
    """`E[D(fake)] − E[D(real)]`: the WGAN critic minimises this."""
    return ops.mean(fake_scores) - ops.mean(real_scores)


def wasserstein_generator_loss(fake_scores):
    """`−E[D(fake)]`: the WGAN generator minimises this."""
    return -ops.mean(fake_scores)

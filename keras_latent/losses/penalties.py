"""Regularisers on a critic's input gradients, written in `keras.ops`."""

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


def r1_penalty(critic_fn: Callable, real_inputs):
    """R1 penalty (Mescheder, Geiger & Nowozin 2018): `E[‖∇_x D(x)‖₂²]` on
    real data.

    The discriminator adds `γ/2` times it to its loss; it pushes the
    gradient to zero on the data, which makes the game converge locally.

    Args:
        critic_fn: callable mapping a batch of inputs to one score each.
        real_inputs: tensor `(batch, ...)` of real examples.

    Example:

    ```python
    penalty = r1_penalty(lambda t: critic(t, training=True), real)
    loss = loss + 0.5 * gamma * penalty
    ```
    """
    _, grads = input_gradients(critic_fn, real_inputs)
    axes = tuple(range(1, len(grads.shape)))
    return ops.mean(ops.sum(ops.square(grads), axis=axes))

"""How far an encode–decode round trip or a latent edit moves its input."""

from __future__ import annotations

import numpy as np

from keras_latent.utils.batching import check_finite, to_numpy


def reconstruction_mse(images, reconstructions) -> float:
    """Mean squared error per pixel between images and their reconstructions.

    The mean over every pixel and channel of every image, as in Table 1 of
    Creswell et al. (2017; e.g. 0.028 for their 64×64 CelebA model in
    `[0, 1]`; docs/models.md, "Metrics and their protocol"). It is *not* the
    per-image sum that a VAE's reconstruction loss uses.

    Args:
        images: array of shape `(num_images, ...)`.
        reconstructions: array of the same shape.

    Returns:
        The MSE, a Python float.

    Example:

    ```python
    mse = keras_latent.metrics.reconstruction_mse(images, model.reconstruct(images))
    ```
    """
    x = to_numpy(images, "float64")
    y = to_numpy(reconstructions, "float64")
    if x.shape != y.shape:
        raise ValueError(
            "`images` and `reconstructions` must have the same shape. "
            f"Received {x.shape} and {y.shape}."
        )
    check_finite(x, "`images`")
    check_finite(y, "`reconstructions`")
    return float(np.mean(np.square(x - y)))


def latent_mse(z_before, z_after, sigma_bar) -> float:
    """zMSE of Latent Constraints: how far an actor moved latents.

    `mean_examples[ mean_dims[ ((z' − z) / σ̄_z)² ] ]`, where `σ̄_z` is the
    per-dimension mean of the encoder's σ(x) over the training set: a move
    of one typical posterior width along every dimension gives 1
    (docs/models.md, "Metrics and their protocol").

    Args:
        z_before: array of shape `(num_examples, latent_dim)`: the latents
            before the transformation (e.g. prior samples).
        z_after: array of the same shape: the transformed latents `z'`.
        sigma_bar: array of shape `(latent_dim,)`, or a scalar: `σ̄_z`.

    Returns:
        zMSE, a Python float.

    Example:

    ```python
    # z: prior samples; z_edit: the actor's output for them; sigma_bar: σ̄_z.
    zmse = keras_latent.metrics.latent_mse(z, z_edit, sigma_bar)
    ```
    """
    z = to_numpy(z_before, "float64")
    z_new = to_numpy(z_after, "float64")
    sigma = to_numpy(sigma_bar, "float64")
    if z.shape != z_new.shape or z.ndim != 2:
        raise ValueError(
            "`z_before` and `z_after` must have the same shape (num_examples, "
            f"latent_dim). Received {z.shape} and {z_new.shape}."
        )
    if sigma.ndim > 1 or (sigma.ndim == 1 and sigma.shape[0] != z.shape[1]):
        raise ValueError(
            f"`sigma_bar` must be a scalar or have shape ({z.shape[1]},). "
            f"Received shape {sigma.shape}."
        )
    check_finite(z, "`z_before`")
    check_finite(z_new, "`z_after`")
    check_finite(sigma, "`sigma_bar`")
    if np.any(sigma <= 0):
        raise ValueError("`sigma_bar` must be positive.")
    per_example = np.mean(np.square((z_new - z) / sigma), axis=1)
    return float(np.mean(per_example))

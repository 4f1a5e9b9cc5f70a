"""Distances between latent codes, written in `keras.ops`."""

from __future__ import annotations

from keras import ops


def latent_distance(z_new, z_old, latent_std):
    """Latent Constraints' identity term L_dist, per example.

    `mean_d log(1 + (z'_d − z_d)²) / σ̄_d²`, where σ̄ is the mean posterior
    standard deviation of each latent dimension over the training set
    (Engel et al. 2017, eq. 4): a robust distance that keeps an edit close
    to the code it started from, measured in units of the VAE's own
    uncertainty.

    Args:
        z_new: tensor `(batch, latent_dim)`, the edited codes.
        z_old: tensor `(batch, latent_dim)`, the codes they started from.
        latent_std: tensor `(latent_dim,)`, σ̄.

    Returns:
        Tensor `(batch,)`.
    """
    return ops.mean(ops.log1p(ops.square(z_new - z_old)) / ops.square(latent_std), -1)

"""Losses of the zoo, written in `keras.ops` so they run on every backend.

- `vae`: the VAE's KL term and reconstruction likelihoods;
- `adversarial`: the logistic (sigmoid cross-entropy) and Wasserstein losses;
- `penalties`: regularisers on a critic's input gradients;
- `latent`: distances between latent codes.

The equations, and the papers they come from, are in `docs/models.md`.
"""

from keras_latent.losses.adversarial import (
    sigmoid_cross_entropy,
    wasserstein_critic_loss,
    wasserstein_generator_loss,
)
from keras_latent.losses.latent import latent_distance
from keras_latent.losses.penalties import gradient_penalty
from keras_latent.losses.vae import (
    bernoulli_reconstruction,
    gaussian_kl,
    gaussian_reconstruction,
)

__all__ = [
    "bernoulli_reconstruction",
    "gaussian_kl",
    "gaussian_reconstruction",
    "gradient_penalty",
    "latent_distance",
    "sigmoid_cross_entropy",
    "wasserstein_critic_loss",
    "wasserstein_generator_loss",
]

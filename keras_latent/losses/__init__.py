"""Losses of the zoo, written in `keras.ops` so they run on every backend.

- `vae`: the VAE's KL term and reconstruction likelihoods;
- `adversarial`: the GAN losses by name (`adversarial_loss("hinge")` and
  the other pairs), feature matching, the logistic loss;
- `penalties`: regularisers on a critic's input gradients (WGAN-GP, R1);
- `latent`: distances between latent codes;
- `gaussian_mixture`: the Gaussian-mixture (GM) loss of Wan et al. (2018)
  on labelled codes, with class means and variances.

The equations, and the papers they come from, are in `docs/models.md`.
"""

from keras_latent.losses.adversarial import (
    ADVERSARIAL_LOSSES,
    AdversarialLoss,
    adversarial_loss,
    feature_matching_loss,
    hinge_discriminator_loss,
    least_squares_discriminator_loss,
    least_squares_generator_loss,
    logistic_discriminator_loss,
    minimax_generator_loss,
    non_saturating_generator_loss,
    sigmoid_cross_entropy,
    wasserstein_critic_loss,
    wasserstein_generator_loss,
)
from keras_latent.losses.gaussian_mixture import (
    gaussian_mixture_distances,
    gaussian_mixture_logits,
    gaussian_mixture_loss,
    unlabelled_likelihood_loss,
)
from keras_latent.losses.latent import latent_distance
from keras_latent.losses.penalties import gradient_penalty, r1_penalty
from keras_latent.losses.vae import (
    bernoulli_reconstruction,
    gaussian_kl,
    gaussian_reconstruction,
)

__all__ = [
    "ADVERSARIAL_LOSSES",
    "AdversarialLoss",
    "adversarial_loss",
    "feature_matching_loss",
    "hinge_discriminator_loss",
    "least_squares_discriminator_loss",
    "least_squares_generator_loss",
    "logistic_discriminator_loss",
    "minimax_generator_loss",
    "non_saturating_generator_loss",
    "r1_penalty",
    "bernoulli_reconstruction",
    "gaussian_kl",
    "gaussian_mixture_distances",
    "gaussian_mixture_logits",
    "gaussian_mixture_loss",
    "gaussian_reconstruction",
    "unlabelled_likelihood_loss",
    "gradient_penalty",
    "latent_distance",
    "sigmoid_cross_entropy",
    "wasserstein_critic_loss",
    "wasserstein_generator_loss",
]

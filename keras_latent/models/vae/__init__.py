"""Variational autoencoder (Kingma & Welling 2014, "Auto-Encoding Variational
Bayes"), the zoo's base model: Latent Constraints edits in its latent space.

The encoder gives q(z|x) = N(μ(x), diag σ²(x)), σ = softplus(·) + 1e-6; the
decoder gives the mean of p(x|z): N(sigmoid(logits), σ_x² I) with a fixed σ_x
(`decoder_distribution="gaussian"`, `decoder_sigma=0.1` by default: the sharp
decoder Latent Constraints trains with) or Bernoulli(sigmoid(logits)). The
loss per example is

    −ELBO = −log p(x|z) + β · KL(q(z|x) ‖ N(0, I)),   z = μ + σ ⊙ ε,

both terms **summed** over pixels and latent dimensions, then averaged over
the batch (with means the same β would weigh the KL differently). The terms
are `keras_latent.losses.gaussian_reconstruction`, `bernoulli_reconstruction`
and `gaussian_kl`. More in `docs/models.md`, "VAE".

- `vae.py`: the `VAE` model (one optimizer: Keras's stock trainer through
  `compute_loss`); its networks are the shared stacks of `keras_latent.layers`.
"""

from keras_latent.models.vae.vae import ARCHITECTURES, DECODER_DISTRIBUTIONS, VAE

__all__ = ["ARCHITECTURES", "DECODER_DISTRIBUTIONS", "VAE"]

"""The Gaussian-mixture (GM) loss of Wan et al. (2018), in `keras.ops`.

A code `z` (`(batch, D)`) with class `y` among K classes is scored against K
Gaussians with means `μ_k` and diagonal variances `σ²_k` (`(K, D)` each) and
equal priors `1/K`:

    d_k(z) = ½ Σ_j (z_j − μ_kj)² / σ²_kj + ½ Σ_j log σ²_kj
    L_cls  = −log[ exp(−d_y(1 + α)) / (exp(−d_y(1 + α)) + Σ_{k≠y} exp(−d_k)) ]
    L_lkd  = d_y(z)
    L_GM   = L_cls + λ_lkd · L_lkd, averaged over the batch.

- `gaussian_mixture_distances(z, μ, σ²)`: the `(batch, K)` matrix of `d_k(z)`;
- `gaussian_mixture_logits(z, μ, σ²)`: `−d_k(z)`, whose argmax predicts the
  class;
- `gaussian_mixture_loss(z, y, μ, σ², margin=0.0, likelihood_weight=0.1)`:
  the dict `{"loss", "classification", "likelihood"}`;
- `unlabelled_likelihood_loss(z, μ, σ², prior="mixture")`: the likelihood
  term of codes without a label, under the whole mixture
  (`−log Σ_k (1/K) exp(−d_k)`) or under one "ambiguous" Gaussian with the
  mixture's overall mean and variance (`prior="ambiguous"`), for the
  semi-supervised fine-tuning of Zheng & Sun (2019).

The defaults `α = 0`, `λ_lkd = 0.1` are those of the label-relevant/irrelevant
VAE of Zheng & Sun (2019); the GM-loss paper uses `α = 0.1`, `λ_lkd = 0.01`.
The layer `keras_latent.layers.GaussianMixture` holds learnable means and
variances and computes these terms. The functions are defined next to it in
`keras_latent/layers/gaussian_mixture.py`, since the package's layers sit
below its losses and may not import them.
"""

from keras_latent.layers.gaussian_mixture import (
    gaussian_mixture_distances,
    gaussian_mixture_logits,
    gaussian_mixture_loss,
    unlabelled_likelihood_loss,
)

__all__ = [
    "gaussian_mixture_distances",
    "gaussian_mixture_logits",
    "gaussian_mixture_loss",
    "unlabelled_likelihood_loss",
]

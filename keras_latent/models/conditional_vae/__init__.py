"""Conditional VAE (Sohn, Lee & Yan 2015, "Learning Structured Output
Representation using Deep Conditional Generative Models", NeurIPS), in the
form that Creswell, Bharath & Sengupta (2017, "Conditional Autoencoders with
Adversarial Information Factorization") use as their naive baseline: a
conditional decoder and a label head on the encoder.

Notation: q(z|x) = N(μ(x), diag σ²(x)), σ = softplus(·) + 1e-6, as the VAE's
encoder; y a label vector (K attributes, 0/1; one-hot rows for categorical
labels); ŷ(x) the label head (softmax, or one sigmoid per attribute). The
decoder D(z, y) reads concat[z, y] and gives the mean of p(x|z, y), Gaussian
with a fixed σ_x or Bernoulli. The loss per example is

    rec(x, D(z, y)) + β · KL(q(z|x) ‖ N(0, I)) + w · CE(ŷ(x), y),
    z = μ + σ ⊙ ε,

rec and KL **summed** over pixels and latent dimensions (as the VAE's), CE
the label vector's negative log-likelihood, all averaged over the batch.

Edits decode z = μ(x) with the head's binarised reading of the image and the
asked attributes set; samples decode z ~ N(0, I) with asked or drawn labels.
Nothing keeps label information out of z, so an edit may keep traces of the
old attribute: what IFcVAE-GAN's adversarial factorisation then removes.
More in `docs/models.md`, "CVAE".

IFcVAE-GAN (Creswell, Bharath & Sengupta 2017) trains the same encoder and
decoder against two adversaries on the multi-player trainer: a pixel
discriminator C(x) (real, reconstructed x̂ = D(ẑ, y), or sampled
D(z ~ N(0, I), y_s)), and an auxiliary network A(ẑ) that guesses y from
ẑ, which the encoder learns to defeat (information factorisation):

    C minimises L_gan = ⅓[BCE(C(x), 1) + BCE(C(x̂), 0) + BCE(C(x_s), 0)]
    A minimises L_aux = CE(A(ẑ), y)
    D minimises L_rec + β L̂_class − δ L_gan
    E minimises L_rec + α KL + β L̂_class + ρ CE(ŷ, y) − δ L_gan − L_aux

with L̂_class = CE(ŷ(x̂), sg(ŷ(x))). The naive cVAE-GAN baseline (`CVAEGAN`)
drops `− L_aux` and L̂_class. More in `docs/models.md`, "IFcVAE-GAN and the
naive cVAE-GAN".

- `base.py`: what the models share (`ConditionalAutoencoder`): label
  handling, the encoder and decoder's tensor maths, and the inference API
  (`encode`, `predict_attributes`, `decode`, `reconstruct`, `transform`,
  `generate`);
- `cvae.py`: the `CVAE` model (one optimizer: Keras's stock trainer through
  `compute_loss`);
- `ifcvaegan.py`: `IFcVAEGAN` and `CVAEGAN` (three players: discriminator,
  auxiliary, autoencoder);
- `networks.py`: the encoder (with the label head) and conditional decoder,
  built from the shared stacks, the label head's math, and IFcVAE-GAN's
  auxiliary network and discriminator.
"""

from keras_latent.models.conditional_vae.cvae import (
    ARCHITECTURES,
    CVAE,
    DECODER_DISTRIBUTIONS,
)
from keras_latent.models.conditional_vae.ifcvaegan import CVAEGAN, IFcVAEGAN

__all__ = ["ARCHITECTURES", "CVAE", "CVAEGAN", "DECODER_DISTRIBUTIONS", "IFcVAEGAN"]

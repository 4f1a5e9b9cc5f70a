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

- `cvae.py`: the `CVAE` model (one optimizer: Keras's stock trainer through
  `compute_loss`);
- `networks.py`: its encoder (with the label head) and conditional decoder,
  built from the shared stacks, and the label head's math.
"""

from keras_latent.models.conditional_vae.cvae import (
    ARCHITECTURES,
    CVAE,
    DECODER_DISTRIBUTIONS,
)

__all__ = ["ARCHITECTURES", "CVAE", "DECODER_DISTRIBUTIONS"]

"""The zoo's models, one package each.

- `vae`: the variational autoencoder, the base model;
- `gan`: the GAN family (GAN, CGAN, ACGAN, WGANGP);
- `conditional_vae`: the conditional VAE (CVAE), the naive editing baseline;
- `label_split_vae`: the label-relevant/irrelevant VAE
  (`LabelRelevantIrrelevantVAE`, Zheng & Sun 2019): a Gaussian-mixture
  label code and an adversarially label-free style code;
- `latent_constraints`: Latent Constraints, the flagship (conditional
  generation and attribute editing in a VAE's latent space);
- `classifier`: image classifiers, the zoo's independent judges.

Each package holds its model class, the networks only it uses, and a
docstring with its equations; `docs/models.md` has the whole account.
"""

from keras_latent.models.classifier import ImageClassifier
from keras_latent.models.conditional_vae import CVAE, CVAEGAN, IFcVAEGAN
from keras_latent.models.gan import ACGAN, CGAN, GAN, WGANGP
from keras_latent.models.label_split_vae import LabelRelevantIrrelevantVAE
from keras_latent.models.latent_constraints import LatentConstraints
from keras_latent.models.vae import VAE

__all__ = [
    "ACGAN",
    "CGAN",
    "CVAE",
    "CVAEGAN",
    "GAN",
    "VAE",
    "WGANGP",
    "IFcVAEGAN",
    "ImageClassifier",
    "LabelRelevantIrrelevantVAE",
    "LatentConstraints",
]

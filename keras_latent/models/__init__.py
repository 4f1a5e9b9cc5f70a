"""The zoo's models."""

from keras_latent.models.classifier import ImageClassifier
from keras_latent.models.latent_constraints import LatentConstraints
from keras_latent.models.vae import VAE
from keras_latent.models.wgan_gp import WGANGP

__all__ = ["VAE", "WGANGP", "ImageClassifier", "LatentConstraints"]

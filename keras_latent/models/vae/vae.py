"""The variational autoencoder, the zoo's base model (see the package docstring)."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
from keras import ops

from keras_latent import losses
from keras_latent.layers import stacks
from keras_latent.optimizers import Adam
from keras_latent.presets import PresetMixin
from keras_latent.trainer.nonfinite import SkipsNonFiniteSteps
from keras_latent.utils.inputs import (
    ChecksFitImages,
    ChecksPredictImages,
    GeneratesFromStandardNormal,
    check_choice,
    check_int,
    check_non_negative,
    predict_in_batches,
    standardize_images,
    validate_images,
    validate_latents,
    validate_num_samples,
    validate_seed,
)
from keras_latent.utils.state_guard import RestoreStateOnError

ARCHITECTURES = ("mlp", "conv")
DECODER_DISTRIBUTIONS = ("gaussian", "bernoulli")


@keras.saving.register_keras_serializable(package="keras_latent")
class VAE(
    PresetMixin,
    GeneratesFromStandardNormal,
    ChecksFitImages,
    ChecksPredictImages,
    RestoreStateOnError,
    SkipsNonFiniteSteps,
    keras.Model,
):
    """Variational autoencoder with a Gaussian encoder.

    The encoder gives q(z|x) = N(μ(x), diag σ²(x)) with σ = softplus(·); the
    decoder gives the mean of p(x|z), either N(sigmoid(logits), σ_x² I) with a
    fixed σ_x ("gaussian") or Bernoulli(sigmoid(logits)) ("bernoulli"). The
    loss per example is `reconstruction + β · KL(q(z|x) ‖ N(0, I))` where both
    terms are **sums** over pixels and latent dimensions, averaged over the
    batch: with means instead of sums the same β weighs the KL differently.

    It trains with one optimizer, so it uses Keras's stock trainer through
    `compute_loss`. `fit`'s logs show `loss`, `reconstruction` and `kl`.
    Compile it with `keras_latent.optimizers.Adam`, Keras's Adam with an
    in-place update on torch, where Keras's own is about 3× slower.

    Its inference methods (`encode`, `decode`, `reconstruct`, `generate`,
    `negative_elbo`) take NumPy (or tensors) and return float32 NumPy arrays
    on every backend, with no autograd history. Calling the model
    (`vae(images)`, what `fit` and `predict` run) returns the decoder's
    logits as backend tensors; `predict` checks NumPy images like `fit`.

    Args:
        image_shape: tuple `(height, width, channels)`. Defaults to
            `(28, 28, 1)`.
        latent_dim: int. Dimension of z. Defaults to `16`.
        architecture: `"mlp"` or `"conv"`. Defaults to `"mlp"`.
        hidden_units: sequence of int. MLP widths (encoder order; the decoder
            mirrors them). Used by `"mlp"`. Defaults to `(512, 256)`.
        filters: sequence of int. Channels of the stride-2 convolutions
            (encoder order; the decoder mirrors them). Used by `"conv"`.
            Defaults to `(32, 64)`.
        decoder_distribution: `"gaussian"` or `"bernoulli"`. Defaults to
            `"gaussian"`.
        decoder_sigma: float. σ_x of the Gaussian decoder (Latent Constraints
            uses a sharp 0.1). Defaults to `0.1`.
        beta: float >= 0. Weight of the KL term. Defaults to `1.0`.
        seed: int in [0, 2**31 - 1] or None. Seed of the model's noise.
            Defaults to `None`.

    Example:

    ```python
    vae = keras_latent.models.VAE(image_shape=(28, 28, 1), latent_dim=16)
    vae.compile(optimizer=keras_latent.optimizers.Adam(1e-3))
    vae.fit(images, epochs=10, batch_size=64)
    samples = vae.generate(16, seed=0)  # float32 in [0, 1], (16, 28, 28, 1)
    ```
    """

    optimizer_identifiers = {"adam": Adam}

    def __init__(
        self,
        image_shape: Sequence[int] = (28, 28, 1),
        latent_dim: int = 16,
        architecture: str = "mlp",
        hidden_units: Sequence[int] = (512, 256),
        filters: Sequence[int] = (32, 64),
        decoder_distribution: str = "gaussian",
        decoder_sigma: float = 0.1,
        beta: float = 1.0,
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_choice("architecture", architecture, ARCHITECTURES)
        check_choice(
            "decoder_distribution", decoder_distribution, DECODER_DISTRIBUTIONS
        )
        if not decoder_sigma > 0:
            raise ValueError(
                f"`decoder_sigma` must be positive. Received: {decoder_sigma}"
            )
        # A negative β rewards the KL term: the posterior runs away.
        check_non_negative(beta, "beta")
        latent_dim = check_int(latent_dim, "latent_dim", minimum=1)
        seed = validate_seed(seed)
        self.image_shape = tuple(int(d) for d in image_shape)
        self.latent_dim = int(latent_dim)
        self.architecture = architecture
        self.hidden_units = tuple(int(u) for u in hidden_units)
        self.filters = tuple(int(f) for f in filters)
        self.decoder_distribution = decoder_distribution
        self.decoder_sigma = float(decoder_sigma)
        self.beta = float(beta)
        self.seed = seed

        if architecture == "mlp":
            self.encoder = stacks.mlp_image_encoder(
                self.image_shape, self.hidden_units, 2 * self.latent_dim
            )
            self.decoder = stacks.mlp_image_decoder(
                self.latent_dim, self.hidden_units[::-1], self.image_shape
            )
        else:
            self.encoder = stacks.conv_image_encoder(
                self.image_shape, self.filters, 2 * self.latent_dim
            )
            self.decoder = stacks.conv_image_decoder(
                self.latent_dim, self.filters[::-1], self.image_shape
            )
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")
        self.kl_tracker = keras.metrics.Mean(name="kl")
        self.built = True

    # -- the probabilistic model (backend tensors, with gradients) ---------------

    def _encode(self, images, training: bool = False):
        """The posterior `(mean, std)` of q(z|x) as tensors, `(batch, latent)`."""
        validate_images(images, self.image_shape)
        # Networks compute in the dtype policy's dtype (bfloat16 under
        # mixed precision); the model's own math stays float32.
        stats = ops.cast(self.encoder(images, training=training), "float32")
        mean, raw_std = ops.split(stats, 2, axis=-1)
        # The floor keeps log σ² finite when softplus underflows.
        return mean, ops.softplus(raw_std) + 1e-6

    def _decode_logits(self, z, training: bool = False):
        return ops.cast(self.decoder(z, training=training), "float32")

    def _decode(self, z, training: bool = False):
        """The decoder's mean image in [0, 1] as a tensor, `(batch, H, W, C)`."""
        return ops.sigmoid(self._decode_logits(z, training=training))

    def call(self, images, training: bool = False):
        """The decoder's logits for `images`: z ~ q(z|x) when training, else μ(x).

        Adds `β · KL` to the model's losses, so `compute_loss` needs no second
        pass through the encoder. Works on tensors (inside graphs too) and
        checks only the images' shape and dtype.
        """
        mean, std = self._encode(images, training=training)
        if training:
            noise = keras.random.normal(ops.shape(mean), seed=self.seed_generator)
            z = mean + std * noise
        else:
            z = mean
        kl = losses.gaussian_kl(mean, 2.0 * ops.log(std))
        self.add_loss(self.beta * ops.mean(kl))
        return self._decode_logits(z, training=training)

    def reconstruction_loss(self, images, logits):
        """Per-example negative log-likelihood, summed over pixels."""
        if self.decoder_distribution == "gaussian":
            return losses.gaussian_reconstruction(
                images, ops.sigmoid(logits), self.decoder_sigma
            )
        return losses.bernoulli_reconstruction(images, logits)

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        reconstruction = ops.mean(self.reconstruction_loss(x, y_pred))
        kl = sum(self.losses)
        self.reconstruction_tracker.update_state(reconstruction)
        self.kl_tracker.update_state(kl / self.beta if self.beta else kl)
        return reconstruction + kl

    def _negative_elbo(self, images, num_samples: int):
        images = ops.convert_to_tensor(images, "float32")
        mean, std = self._encode(images)
        kl = losses.gaussian_kl(mean, 2.0 * ops.log(std))
        reconstruction = 0.0
        for _ in range(num_samples):
            noise = keras.random.normal(ops.shape(mean), seed=self.seed_generator)
            logits = self._decode_logits(mean + std * noise)
            reconstruction += self.reconstruction_loss(images, logits)
        reconstruction = reconstruction / num_samples
        if self.decoder_distribution == "gaussian":
            pixels = float(np.prod(self.image_shape))
            reconstruction += (
                0.5 * pixels * float(np.log(2 * np.pi * self.decoder_sigma**2))
            )
        return reconstruction + kl

    # -- inference: NumPy in, float32 NumPy out, on every backend ------------------

    def encode(self, images, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
        """The posterior `(mean, std)` of q(z|x) for `images`.

        Args:
            images: `(N, H, W, C)` floats in [0, 1], uint8 images (divided by
                255), or a list of images. Float NumPy images outside [0, 1]
                raise a ValueError.
            batch_size: int. Defaults to `256`.

        Returns:
            A tuple of two float32 NumPy arrays `(N, latent_dim)`, the mean
            and the standard deviation, with no autograd history.
        """
        images = standardize_images(images, self.image_shape)
        stats = predict_in_batches(
            lambda x: ops.concatenate(self._encode(x), axis=-1), images, batch_size
        )
        return stats[:, : self.latent_dim], stats[:, self.latent_dim :]

    def decode(self, z, batch_size: int = 256) -> np.ndarray:
        """The decoder's mean image in [0, 1] for latents `z`.

        Args:
            z: latents `(N, latent_dim)`, an array or a tensor.
            batch_size: int. Defaults to `256`.

        Returns:
            A float32 NumPy array `(N, H, W, C)` in [0, 1].
        """
        z = validate_latents(z, self.latent_dim)
        return predict_in_batches(self._decode, z, batch_size)

    def negative_elbo(
        self, images, num_samples: int = 1, batch_size: int = 256
    ) -> np.ndarray:
        """Per-example −ELBO with β = 1, in nats.

        Averages the reconstruction term over `num_samples` draws of z. For the
        Gaussian decoder the constant `½ log 2πσ_x²` per pixel is included, so
        the value is a true bound on −log p(x).

        Args:
            images: `(N, H, W, C)` floats in [0, 1], uint8 images (divided by
                255), or a list of images.
            num_samples: int >= 1. Draws of z per image. Defaults to `1`.
            batch_size: int. Defaults to `256`.

        Returns:
            A float32 NumPy array `(N,)`.
        """
        num_samples = validate_num_samples(num_samples)
        # uint8 and lists become [0, 1] floats before the float32 conversion,
        # which would pass 0–255 values through.
        images = standardize_images(images, self.image_shape)
        return predict_in_batches(
            lambda x: self._negative_elbo(x, num_samples), images, batch_size
        )

    def reconstruct(self, images, batch_size: int = 256) -> np.ndarray:
        """Decodes the posterior means of `images`.

        Args:
            images: `(N, H, W, C)` floats in [0, 1], uint8 images (divided by
                255), or a list of images.
            batch_size: int. Defaults to `256`.

        Returns:
            A float32 NumPy array `(N, H, W, C)` in [0, 1].
        """
        images = standardize_images(images, self.image_shape)
        return predict_in_batches(
            lambda x: self._decode(self._encode(x)[0]), images, batch_size
        )

    def _images_from_latents(self, z):
        """What `generate` maps z ~ N(0, I) through."""
        return self._decode(z)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "image_shape": list(self.image_shape),
                "latent_dim": self.latent_dim,
                "architecture": self.architecture,
                "hidden_units": list(self.hidden_units),
                "filters": list(self.filters),
                "decoder_distribution": self.decoder_distribution,
                "decoder_sigma": self.decoder_sigma,
                "beta": self.beta,
                "seed": self.seed,
            }
        )
        return config

"""WGAN-GP on the multi-player trainer (see the package docstring)."""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import ops

from keras_latent import losses
from keras_latent.layers import stacks
from keras_latent.models.gan.networks import dcgan_critic
from keras_latent.presets import PresetMixin
from keras_latent.trainer import CriticGame
from keras_latent.utils.inputs import (
    ChecksFitImages,
    GeneratesFromStandardNormal,
    check_int,
    check_non_negative,
    validate_images,
    validate_seed,
)

ARCHITECTURES = ("dcgan", "mlp")


@keras.saving.register_keras_serializable(package="keras_latent")
class WGANGP(PresetMixin, GeneratesFromStandardNormal, ChecksFitImages, CriticGame):
    """Wasserstein GAN with gradient penalty, DCGAN-style networks.

    The critic minimises `E[D(x̃)] − E[D(x)] + λ·E[(‖∇D(x̂)‖₂ − 1)²]` with
    `x̂ = εx + (1 − ε)x̃`, ε ~ U[0, 1] drawn **per example**; the generator
    minimises `−E[D(x̃)]`. Each `fit` step runs `critic_steps` critic updates
    (same real batch, fresh noise) then one generator update.

    The generator ends in tanh, so the critic sees images in [−1, 1]; data
    passed to `fit` and images returned by `generate` are in [0, 1].
    `generate` returns float32 NumPy on every backend; calling the model on
    noise (`gan(z)`) returns backend tensors.

    `fit`'s logs: `critic_loss`, `wasserstein` (the critic's estimate
    E[D(x)] − E[D(x̃)]), `gradient_penalty`, `generator_loss`.

    Args:
        image_shape: tuple `(height, width, channels)`; height and width must
            be divisible by `2 ** len(critic_filters)` and
            `2 ** len(generator_filters)` for `"dcgan"`. Any shape (e.g. `(2,)`
            for points) for `"mlp"`. Defaults to `(28, 28, 1)`.
        architecture: `"dcgan"` (convolutional) or `"mlp"`. Defaults to
            `"dcgan"`.
        hidden_units: sequence of int. Widths of both players' hidden layers
            for `"mlp"`. Defaults to `(256, 256)`.
        latent_dim: int. Dimension of the generator's noise. Defaults to `128`.
        generator_filters: sequence of int. Channels from the smallest feature
            map up; each entry is one stride-2 upsampling. Defaults to
            `(128, 64)`.
        critic_filters: sequence of int. Channels of the critic's stride-2
            convolutions. Defaults to `(64, 128)`.
        critic_steps: int. Critic updates per generator update (n_critic).
            Defaults to `5`.
        gradient_penalty_weight: float >= 0. λ. Defaults to `10.0`.
        seed: int in [0, 2**31 - 1] or None. Seed of the model's noise.
            Defaults to `None`.

    Example:

    ```python
    gan = keras_latent.models.WGANGP(image_shape=(28, 28, 1))
    gan.compile()  # Adam(1e-4, β1=0, β2=0.9) for both players
    gan.fit(images, epochs=5, batch_size=64)
    samples = gan.generate(16, seed=0)
    ```
    """

    opponent = "generator"
    critic_metrics = ("wasserstein", "gradient_penalty")

    def __init__(
        self,
        image_shape: Sequence[int] = (28, 28, 1),
        architecture: str = "dcgan",
        hidden_units: Sequence[int] = (256, 256),
        latent_dim: int = 128,
        generator_filters: Sequence[int] = (128, 64),
        critic_filters: Sequence[int] = (64, 128),
        critic_steps: int = 5,
        gradient_penalty_weight: float = 10.0,
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        critic_steps = check_int(critic_steps, "critic_steps", minimum=1)
        check_non_negative(gradient_penalty_weight, "gradient_penalty_weight")
        latent_dim = check_int(latent_dim, "latent_dim", minimum=1)
        seed = validate_seed(seed)
        if architecture not in ARCHITECTURES:
            raise ValueError(
                f"`architecture` must be one of {list(ARCHITECTURES)}. "
                f"Received: {architecture!r}"
            )
        self.image_shape = tuple(int(d) for d in image_shape)
        self.architecture = architecture
        self.hidden_units = tuple(int(u) for u in hidden_units)
        self.latent_dim = int(latent_dim)
        self.generator_filters = tuple(int(f) for f in generator_filters)
        self.critic_filters = tuple(int(f) for f in critic_filters)
        self.critic_steps = critic_steps
        self.gradient_penalty_weight = float(gradient_penalty_weight)
        self.seed = seed

        if architecture == "dcgan":
            self.generator = stacks.conv_image_decoder(
                self.latent_dim,
                self.generator_filters,
                self.image_shape,
                batch_norm=True,
                name="generator",
            )
            self.critic = dcgan_critic(
                self.image_shape, self.critic_filters, name="critic"
            )
        else:
            self.generator = stacks.mlp_image_decoder(
                self.latent_dim, self.hidden_units, self.image_shape, name="generator"
            )
            self.critic = stacks.mlp_image_encoder(
                self.image_shape,
                self.hidden_units,
                1,
                activation="leaky_relu",
                name="critic",
            )
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.built = True

    # -- training -----------------------------------------------------------------

    def _real_images(self, data):
        images = keras.utils.unpack_x_y_sample_weight(data)[0]
        validate_images(images, self.image_shape, argument="x")
        return ops.cast(images, "float32") * 2.0 - 1.0

    # The networks compute in the dtype policy's dtype (bfloat16 under mixed
    # precision); the losses and the penalty stay float32.
    def _generate(self, noise, training):
        return ops.cast(ops.tanh(self.generator(noise, training=training)), "float32")

    def _criticize(self, images, training):
        return ops.cast(self.critic(images, training=training), "float32")

    def _noise(self, batch_size):
        return keras.random.normal(
            (batch_size, self.latent_dim), seed=self.seed_generator
        )

    def critic_loss(self, data, training=True):
        real = self._real_images(data)
        batch_size = ops.shape(real)[0]
        fake = ops.stop_gradient(
            self._generate(self._noise(batch_size), training=training)
        )
        real_scores = self._criticize(real, training=training)
        fake_scores = self._criticize(fake, training=training)
        epsilon = keras.random.uniform(
            (batch_size,) + (1,) * len(self.image_shape), seed=self.seed_generator
        )
        interpolates = epsilon * real + (1.0 - epsilon) * fake
        penalty = losses.gradient_penalty(
            lambda x: self._criticize(x, training=training), interpolates
        )
        loss = losses.wasserstein_critic_loss(real_scores, fake_scores)
        loss = loss + self.gradient_penalty_weight * penalty
        wasserstein = ops.mean(real_scores) - ops.mean(fake_scores)
        return loss, {"wasserstein": wasserstein, "gradient_penalty": penalty}

    def generator_loss(self, data, training=True):
        batch_size = ops.shape(keras.utils.unpack_x_y_sample_weight(data)[0])[0]
        fake = self._generate(self._noise(batch_size), training=training)
        return losses.wasserstein_generator_loss(
            self._criticize(fake, training=training)
        )

    # -- inference ----------------------------------------------------------------

    def call(self, z, training: bool = False):
        """Maps noise `(batch, latent_dim)` to images in [0, 1]."""
        return (self._generate(z, training=training) + 1.0) / 2.0

    def _images_from_latents(self, z):
        """The generator in inference mode: what `generate` maps z through."""
        return self(z)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "image_shape": list(self.image_shape),
                "architecture": self.architecture,
                "hidden_units": list(self.hidden_units),
                "latent_dim": self.latent_dim,
                "generator_filters": list(self.generator_filters),
                "critic_filters": list(self.critic_filters),
                "critic_steps": self.critic_steps,
                "gradient_penalty_weight": self.gradient_penalty_weight,
                "seed": self.seed,
            }
        )
        return config

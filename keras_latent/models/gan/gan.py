"""`GAN`: the unconditional GAN family on the multi-player trainer."""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import ops

from keras_latent import losses
from keras_latent.models.gan import networks
from keras_latent.presets import PresetMixin
from keras_latent.trainer import CriticGame
from keras_latent.utils.inputs import (
    ChecksFitImages,
    GeneratesFromStandardNormal,
    check_choice,
    check_int,
    check_non_negative,
    validate_images,
    validate_seed,
)

ARCHITECTURES = ("dcgan", "mlp")
WASSERSTEIN_LOSSES = ("wasserstein", "wasserstein_gp")


def _default_optimizers(loss: str, players) -> dict:
    """The reference optimizers of each loss: RMSprop(5e-5) for WGAN with
    clipping, Adam(1e-4, β₁ = 0, β₂ = 0.9) for WGAN-GP, DCGAN's Adam(2e-4,
    β₁ = 0.5) otherwise."""
    if loss == "wasserstein":
        return {p: keras.optimizers.RMSprop(5e-5) for p in players}
    if loss == "wasserstein_gp":
        return {p: keras.optimizers.Adam(1e-4, beta_1=0.0, beta_2=0.9) for p in players}
    return {p: keras.optimizers.Adam(2e-4, beta_1=0.5) for p in players}


@keras.saving.register_keras_serializable(package="keras_latent")
class GAN(PresetMixin, GeneratesFromStandardNormal, ChecksFitImages, CriticGame):
    """A GAN with its loss and regularisers chosen by argument.

    The discriminator is the `critic` player (the trainer's name for it);
    each `fit` step runs `critic_steps` critic updates, then one generator
    update. The generator ends in tanh: the critic sees images in [−1, 1];
    data passed to `fit` and images from `generate` are in [0, 1].

    Losses (`keras_latent.losses.adversarial_loss`): `"minimax"`,
    `"non_saturating"`, `"least_squares"`, `"wasserstein"` (weights clipped to
    `[−clip_value, clip_value]`), `"wasserstein_gp"` (gradient penalty,
    ε ~ U[0, 1] per example) and `"hinge"`. Regularisers that compose with
    any of them: `spectral_norm`, `feature_matching_weight`,
    `minibatch_kernels`, `instance_noise`, `r1_weight` and `ema_decay` (see
    `docs/models.md`, "The GAN family").

    `fit`'s logs: `critic_loss`, `real_logit` and `fake_logit` (the critic's
    mean outputs), `generator_loss`, and, when used, `gradient_penalty`,
    `r1_penalty`, `feature_matching`.

    Args:
        image_shape: tuple `(height, width, channels)`, divisible by
            `2 ** len(filters)` for `"dcgan"`; any shape for `"mlp"`.
            Defaults to `(28, 28, 1)`.
        architecture: `"dcgan"` or `"mlp"`. Defaults to `"dcgan"`.
        loss: str. The adversarial loss's name. Defaults to
            `"non_saturating"`.
        latent_dim: int. Dimension of the noise z ~ N(0, I). Defaults to
            `100`.
        hidden_units: sequence of int. Hidden widths of both players for
            `"mlp"`. Defaults to `(256, 256)`.
        generator_filters: sequence of int. Channels from the smallest map
            up, one stride-2 upsampling each. Defaults to `(128, 64)`.
        critic_filters: sequence of int. Channels of the critic's stride-2
            convolutions. Defaults to `(64, 128)`.
        critic_steps: int or None. Critic updates per generator update;
            `None`: 5 for the Wasserstein losses, else 1. Defaults to `None`.
        gradient_penalty_weight: float >= 0. λ of `"wasserstein_gp"`.
            Defaults to `10.0`.
        clip_value: float > 0. c of `"wasserstein"`. Defaults to `0.01`.
        spectral_norm: bool. Spectral normalisation of the critic's layers.
            Defaults to `False`.
        feature_matching_weight: float >= 0. Weight of the feature-matching
            term in the generator's loss. Defaults to `0.0`.
        minibatch_kernels: int >= 0. Minibatch discrimination features.
            Defaults to `0`.
        instance_noise: float >= 0. Std of Gaussian noise added to the
            critic's inputs (in [−1, 1] units), annealed linearly to 0 over
            `instance_noise_steps` steps. Defaults to `0.0`.
        instance_noise_steps: int. Defaults to `10000`.
        r1_weight: float >= 0. γ of the R1 penalty `γ/2 E‖∇D(x)‖²` on real
            data. Defaults to `0.0`.
        ema_decay: float in (0, 1) or None. Keep an exponential moving
            average of the generator's weights, which `generate` then uses.
            Defaults to `None`.
        seed: int in [0, 2**31 - 1] or None. Seed of the model's noise.
            Defaults to `None`.

    Example:

    ```python
    gan = keras_latent.models.GAN(loss="hinge", spectral_norm=True)
    gan.compile()  # the loss's reference optimizers
    gan.fit(images, epochs=5, batch_size=64)
    samples = gan.generate(16, seed=0)
    ```
    """

    opponent = "generator"
    # Labels the generator reads, and the critic's extra logits (AC-GAN).
    label_dim = 0
    class_logits = 0
    conditions_generator = False

    def __init__(
        self,
        image_shape: Sequence[int] = (28, 28, 1),
        architecture: str = "dcgan",
        loss: str = "non_saturating",
        latent_dim: int = 100,
        hidden_units: Sequence[int] = (256, 256),
        generator_filters: Sequence[int] = (128, 64),
        critic_filters: Sequence[int] = (64, 128),
        critic_steps: int | None = None,
        gradient_penalty_weight: float = 10.0,
        clip_value: float = 0.01,
        spectral_norm: bool = False,
        feature_matching_weight: float = 0.0,
        minibatch_kernels: int = 0,
        instance_noise: float = 0.0,
        instance_noise_steps: int = 10000,
        r1_weight: float = 0.0,
        ema_decay: float | None = None,
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_choice("architecture", architecture, ARCHITECTURES)
        check_choice("loss", loss, list(losses.ADVERSARIAL_LOSSES))
        self.adversarial = losses.adversarial_loss(loss)
        self.image_shape = tuple(int(d) for d in image_shape)
        self.architecture = architecture
        self.loss_name = loss
        self.latent_dim = check_int(latent_dim, "latent_dim", minimum=1)
        self.hidden_units = tuple(int(u) for u in hidden_units)
        self.generator_filters = tuple(int(f) for f in generator_filters)
        self.critic_filters = tuple(int(f) for f in critic_filters)
        if critic_steps is None:
            critic_steps = 5 if loss in WASSERSTEIN_LOSSES else 1
        self.critic_steps = check_int(critic_steps, "critic_steps", minimum=1)
        for name, value in (
            ("gradient_penalty_weight", gradient_penalty_weight),
            ("clip_value", clip_value),
            ("feature_matching_weight", feature_matching_weight),
            ("instance_noise", instance_noise),
            ("r1_weight", r1_weight),
        ):
            setattr(self, name, check_non_negative(value, name))
        if loss == "wasserstein" and not self.clip_value > 0:
            raise ValueError(
                "`clip_value` must be > 0 for loss='wasserstein'. "
                f"Received: clip_value={clip_value!r}"
            )
        self.spectral_norm = bool(spectral_norm)
        self.minibatch_kernels = check_int(
            minibatch_kernels, "minibatch_kernels", minimum=0
        )
        self.instance_noise_steps = check_int(
            instance_noise_steps, "instance_noise_steps", minimum=1
        )
        if ema_decay is not None and not 0.0 < float(ema_decay) < 1.0:
            raise ValueError(
                f"`ema_decay` must be None or in (0, 1). Received: {ema_decay!r}"
            )
        self.ema_decay = None if ema_decay is None else float(ema_decay)
        self.seed = validate_seed(seed)
        self.critic_metrics = self._critic_log_names()
        self.opponent_metrics = (
            ("feature_matching",) if self.feature_matching_weight else ()
        )
        self._build_networks()
        self.seed_generator = keras.random.SeedGenerator(self.seed)
        self.built = True

    def _critic_log_names(self) -> tuple:
        names = ["real_logit", "fake_logit"]
        if self.loss_name in WASSERSTEIN_LOSSES:
            names.insert(0, "wasserstein")
        if self.loss_name == "wasserstein_gp":
            names.append("gradient_penalty")
        if self.r1_weight:
            names.append("r1_penalty")
        return tuple(names)

    # -- networks ---------

    def _critic_input_shape(self) -> tuple:
        return self.image_shape

    def _build_networks(self):
        generator_input = self.latent_dim + (
            self.label_dim if self.conditions_generator else 0
        )

        def generator(name):
            return networks.build_generator(
                generator_input,
                self.image_shape,
                self.architecture,
                self.generator_filters,
                self.hidden_units,
                name=name,
            )

        self.generator = generator("generator")
        self.critic = networks.build_critic(
            self._critic_input_shape(),
            self.architecture,
            self.critic_filters,
            self.hidden_units,
            outputs=1 + self.class_logits,
            spectral_norm=self.spectral_norm,
            clip_value=self.clip_value if self.loss_name == "wasserstein" else None,
            minibatch_kernels=self.minibatch_kernels,
        )
        self._build_extra_networks()
        if self.ema_decay is not None:
            self.generator_ema = generator("generator_ema")
            self.generator_ema.trainable = False
            for ema, weight in zip(self.generator_ema.weights, self.generator.weights):
                # A copy: on JAX two variables must not share one buffer.
                ema.assign(ops.copy(weight.value))
        if self.instance_noise:
            self.noise_step = self.add_weight(
                shape=(),
                initializer="zeros",
                trainable=False,
                name="noise_step",
            )

    def _build_extra_networks(self):
        """Conditional models add their label networks here."""

    def default_optimizers(self) -> dict:
        return _default_optimizers(self.loss_name, ("critic", self.opponent))

    # -- one step's pieces ----------------------------------------------------------

    def _unpack(self, data):
        """`(real images in [−1, 1], labels or None)` of a training batch."""
        images = keras.utils.unpack_x_y_sample_weight(data)[0]
        validate_images(images, self.image_shape, argument="x")
        return ops.cast(images, "float32") * 2.0 - 1.0, None

    def _noise(self, batch_size):
        return keras.random.normal(
            (batch_size, self.latent_dim), seed=self.seed_generator
        )

    # The networks compute in the dtype policy's dtype (bfloat16 under mixed
    # precision); the losses and penalties stay float32.
    def _generate(self, noise, labels, training, network=None):
        network = network or self.generator
        inputs = noise
        if self.conditions_generator:
            inputs = ops.concatenate([noise, ops.cast(labels, noise.dtype)], axis=-1)
        return ops.cast(ops.tanh(network(inputs, training=training)), "float32")

    def _noisy(self, images):
        """Instance noise: N(0, σ²) with σ annealed linearly to 0."""
        if not self.instance_noise:
            return images
        fraction = ops.maximum(
            0.0, 1.0 - ops.cast(self.noise_step, "float32") / self.instance_noise_steps
        )
        noise = keras.random.normal(ops.shape(images), seed=self.seed_generator)
        return images + self.instance_noise * fraction * noise

    def _critic_inputs(self, images, labels):
        """What the critic reads: the images (conditional critics append
        the labels)."""
        return images

    def _criticize(self, images, labels, training, with_features=False):
        """`(source logits (N,), class logits or None, features or None)`."""
        inputs = self._critic_inputs(self._noisy(images), labels)
        if with_features or self._needs_features():
            outputs, features = networks.critic_features(
                self.critic, inputs, training=training
            )
        else:
            outputs, features = self.critic(inputs, training=training), None
        outputs = ops.cast(outputs, "float32")
        source = self._source_logits(outputs[:, 0], features, labels)
        classes = outputs[:, 1:] if self.class_logits else None
        return source, classes, features

    def _needs_features(self) -> bool:
        return False

    def _source_logits(self, logits, features, labels):
        """The projection discriminator adds ⟨embed(y), φ(x)⟩ here."""
        return logits

    def _penalties(self, real, fake, labels, training):
        """`(total, logs)`: gradient penalty and R1, as configured."""
        total, logs = 0.0, {}

        def score(x):
            return self._criticize(x, labels, training)[0]

        if self.loss_name == "wasserstein_gp":
            shape = (ops.shape(real)[0],) + (1,) * len(self.image_shape)
            epsilon = keras.random.uniform(shape, seed=self.seed_generator)
            interpolates = epsilon * real + (1.0 - epsilon) * fake
            penalty = losses.gradient_penalty(score, interpolates)
            total = total + self.gradient_penalty_weight * penalty
            logs["gradient_penalty"] = penalty
        if self.r1_weight:
            penalty = losses.r1_penalty(score, real)
            total = total + 0.5 * self.r1_weight * penalty
            logs["r1_penalty"] = penalty
        return total, logs

    def _fake_labels(self, labels):
        """The labels generated images are asked for: the real batch's."""
        return labels

    def _class_losses(self, real_classes, fake_classes, labels, fake_labels):
        """AC-GAN's class terms `(critic's, generator's, logs)`; none here."""
        return 0.0, 0.0, {}

    # -- the two phases ---------

    def critic_loss(self, data, training=True):
        real, labels = self._unpack(data)
        fake_labels = self._fake_labels(labels)
        noise = self._noise(ops.shape(real)[0])
        fake = ops.stop_gradient(self._generate(noise, fake_labels, training))
        real_logits, real_classes, _ = self._criticize(real, labels, training)
        fake_logits, fake_classes, _ = self._criticize(fake, fake_labels, training)
        loss = self.adversarial.discriminator(real_logits, fake_logits)
        penalty, logs = self._penalties(real, fake, labels, training)
        class_loss, _, class_logs = self._class_losses(
            real_classes, fake_classes, labels, fake_labels
        )
        logs.update(class_logs)
        logs["real_logit"] = ops.mean(real_logits)
        logs["fake_logit"] = ops.mean(fake_logits)
        if self.loss_name in WASSERSTEIN_LOSSES:
            logs["wasserstein"] = logs["real_logit"] - logs["fake_logit"]
        return loss + penalty + class_loss, logs

    def generator_loss(self, data, training=True):
        real, labels = self._unpack(data)
        fake_labels = self._fake_labels(labels)
        if training:
            self._update_averages()
        fake = self._generate(self._noise(ops.shape(real)[0]), fake_labels, training)
        matching = bool(self.feature_matching_weight)
        fake_logits, fake_classes, fake_features = self._criticize(
            fake, fake_labels, training, with_features=matching
        )
        loss = self.adversarial.generator(fake_logits)
        _, class_loss, _ = self._class_losses(None, fake_classes, labels, fake_labels)
        loss = loss + class_loss
        logs = {}
        if matching:
            real_features = self._criticize(real, labels, training, True)[2]
            distance = losses.feature_matching_loss(real_features, fake_features)
            loss = loss + self.feature_matching_weight * distance
            logs["feature_matching"] = distance
        return loss, logs

    def _update_averages(self):
        """Once per training step, before the generator's update: the EMA of
        its weights (one step behind, which a decay near 1 does not notice)
        and the instance-noise clock. Batch statistics are copied.
        `evaluate` moves neither."""
        if self.instance_noise:
            self.noise_step.assign(self.noise_step + 1.0)
        if self.ema_decay is None:
            return
        for ema, weight in zip(self.generator_ema.weights, self.generator.weights):
            value = ops.stop_gradient(ops.convert_to_tensor(weight))
            if weight.trainable:
                value = self.ema_decay * ema + (1.0 - self.ema_decay) * value
            ema.assign(value)

    # -- inference ---------

    @property
    def sampling_generator(self):
        """The network `generate` uses: the EMA copy when there is one."""
        return self.generator if self.ema_decay is None else self.generator_ema

    def call(self, z, training: bool = False):
        """Maps noise `(batch, latent_dim)` to images in [0, 1]."""
        images = self._generate(z, None, training, self.sampling_generator)
        return (images + 1.0) / 2.0

    def _images_from_latents(self, z):
        return self(z)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "image_shape": list(self.image_shape),
                "architecture": self.architecture,
                "loss": self.loss_name,
                "latent_dim": self.latent_dim,
                "hidden_units": list(self.hidden_units),
                "generator_filters": list(self.generator_filters),
                "critic_filters": list(self.critic_filters),
                "critic_steps": self.critic_steps,
                "gradient_penalty_weight": self.gradient_penalty_weight,
                "clip_value": self.clip_value,
                "spectral_norm": self.spectral_norm,
                "feature_matching_weight": self.feature_matching_weight,
                "minibatch_kernels": self.minibatch_kernels,
                "instance_noise": self.instance_noise,
                "instance_noise_steps": self.instance_noise_steps,
                "r1_weight": self.r1_weight,
                "ema_decay": self.ema_decay,
                "seed": self.seed,
            }
        )
        return config

"""IFcVAE-GAN and the naive cVAE-GAN baseline (see the package docstring)."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
from keras import ops

from keras_latent import losses
from keras_latent.models.conditional_vae import networks
from keras_latent.models.conditional_vae.base import (
    ConditionalAutoencoder,
    positive_ints,
)
from keras_latent.models.conditional_vae.cvae import ARCHITECTURES
from keras_latent.models.gan.conditional import DIGITS
from keras_latent.presets import PresetMixin
from keras_latent.trainer import MultiPlayerModel, Phase
from keras_latent.utils.inputs import (
    ChecksFitImages,
    ChecksPredictImages,
    check_choice,
    check_non_negative,
    validate_images,
)
from keras_latent.utils.labels import LABEL_TYPES

PLAYERS = ("discriminator", "auxiliary", "autoencoder")
# Fixed by the naive baseline: no factorisation, no label reconstruction.
BASELINE_SWITCHES = ("information_factorization", "label_reconstruction_weight")


@keras.saving.register_keras_serializable(package="keras_latent")
class IFcVAEGAN(
    PresetMixin,
    ConditionalAutoencoder,
    ChecksFitImages,
    ChecksPredictImages,
    MultiPlayerModel,
):
    """Conditional VAE-GAN with adversarial information factorisation
    (Creswell, Bharath & Sengupta 2017).

    Four networks play: the encoder E (q(z|x) = N(μ(x), diag σ²(x)) and a
    label head ŷ = E_y(x), softmax or one sigmoid per attribute, as the
    `CVAE`'s), the decoder D(z, y) (the `CVAE`'s, Bernoulli), the auxiliary
    network A(z) (an MLP guessing y from z; the paper's ψ) and the pixel
    discriminator C(x) (one real/fake logit; the paper's χ). With
    ẑ = μ + σ ⊙ ε, x̂ = D(ẑ, y) decoded with the **true** labels, and a
    sample x_s = D(z_p, y_s), z_p ~ N(0, I), y_s drawn from the training
    label marginals (`label_prior`):

        L_rec   = Σ_pixels BCE(x̂, x)            L_KL = KL(q(z|x) ‖ N(0, I))
        L_class = CE(ŷ, y)                       L_aux = CE(A(ẑ), y)
        L̂_class = CE(E_y(x̂), sg(ŷ))
        L_gan   = ⅓ [BCE(C(x), 1) + BCE(C(x̂), 0) + BCE(C(x_s), 0)]

    each averaged over the batch; CE is the label vector's negative
    log-likelihood (the attributes' summed BCEs, or the softmax
    cross-entropy), L_rec and L_KL are sums as the `CVAE`'s. The players
    minimise

        C:  L_gan                    A:  L_aux
        D:  λ L_rec + β L̂_class − δ L_gan
        E:  λ L_rec + α L_KL + β L̂_class + ρ L_class − δ L_gan − L_aux

    The encoder defeats A (`− L_aux`) with `information_factorization`,
    so ẑ keeps no label information and edits must come from y; without
    it the term is dropped. The paper's Algorithm 1 swaps the update lines
    of C and A (a typo) and writes its L_bce without the minus sign; the
    equations above are the corrected ones. λ (`reconstruction_weight`,
    1 in the paper's equations) sets the scale of L_rec, a sum over every
    pixel: the reference code divides it by the number of pixel positions
    (4,096 at 64×64) and averages L_KL over z's dimensions, which on
    CelebA leaves the other terms a say; set λ and α to match. −δ L_gan is the game as
    written: the minimax (saturating) generator loss, whose gradient fades
    when C rejects x̂ confidently. L̂_class asks the head to read the
    reconstruction as it read x; its target ŷ carries no gradient (a
    cross-entropy pulled through its target would sharpen ŷ, not teach
    the decoder). β is its only switch: the term is computed, logged and
    counted iff β > 0 (`label_reconstruction`).

    Training runs three phases a step, in order: `discriminator` (C),
    `auxiliary` (A), then `autoencoder` (E and D together). One update of
    E ∪ D on E's loss gives each its own gradient: the terms of E's loss
    that D's lacks (L_KL, L_class, L_aux) do not depend on D, and D's terms
    are all in E's. It is the paper's simultaneous update from one forward
    pass. Each player has its own optimizer, RMSprop(1e-4) by default.

    `fit(images, labels)` takes labels as `CVAE.fit` does and logs
    `discriminator_loss` (L_gan), `real_logit`, `reconstruction_logit`,
    `sample_logit` (C's mean logits), `auxiliary_loss` (L_aux) and
    `aux_accuracy`, each before its player's update; then
    `autoencoder_loss` (E's loss) and its terms after those updates:
    `reconstruction`, `kl`, `label_loss`, `label_accuracy`, `gan_loss`,
    `aux_loss` (also without factorisation: a probe of the label
    information left in ẑ) and, with β > 0, `label_reconstruction`.

    Inference is the `CVAE`'s: `encode`, `predict_attributes`,
    `decode(z, labels)`, `reconstruct`, `transform(images, attributes)`
    (μ(x) decoded with the head's binarised labels, the asked attributes
    set) and `generate(attributes, num_samples, seed)`, NumPy in and
    float32 NumPy out.

    Args:
        image_shape: tuple `(height, width, channels)`. Defaults to
            `(28, 28, 1)`.
        attribute_names: sequence of str. The labels' names, in the order of
            the label vectors. Defaults to the ten digits `"0"`–`"9"`.
        label_type: `"categorical"` or `"multi_label"` (CelebA's
            attributes). Defaults to `"categorical"`.
        latent_dim: int. Dimension of z. Defaults to `16`; the paper uses
            200 on 64×64 CelebA.
        architecture: `"conv"` or `"mlp"`, for E, D and C. Defaults to
            `"conv"`.
        filters: sequence of int. Channels of the encoder's stride-2
            convolutions (the decoder mirrors them). Defaults to `(32, 64)`.
        hidden_units: sequence of int. MLP widths of E, D and C for
            `"mlp"`. Defaults to `(512, 256)`.
        aux_units: sequence of int. ReLU layers of A. Defaults to `(256,)`.
        critic_filters: sequence of int. Channels of C's stride-2
            convolutions for `"conv"`. Defaults to `(32, 64)`.
        information_factorization: bool. Whether E's loss has `− L_aux`.
            Defaults to `True`.
        label_reconstruction_weight: float >= 0. β; 0 leaves L̂_class out.
            Defaults to `0.0`.
        reconstruction_weight: float > 0. λ, the weight of L_rec in E's
            and D's losses. Defaults to `1.0`.
        kl_weight: float >= 0. α. Defaults to `0.2`.
        label_weight: float >= 0. ρ. Defaults to `0.1`.
        adversarial_weight: float >= 0. δ. Defaults to `0.1`.
        seed: int in [0, 2**31 - 1] or None. Seed of the model's noise.
            Defaults to `None`.

    Example:

    ```python
    model = keras_latent.models.IFcVAEGAN(
        image_shape=(64, 64, 3),
        attribute_names=["Smiling"],
        label_type="multi_label",
        latent_dim=200,
    )
    model.compile()  # RMSprop(1e-4) for each player
    model.fit(images, labels, epochs=10, batch_size=64)
    smiling = model.transform(images[:8], {"Smiling": 1})
    ```
    """

    def __init__(
        self,
        image_shape: Sequence[int] = (28, 28, 1),
        attribute_names: Sequence[str] = DIGITS,
        label_type: str = "categorical",
        latent_dim: int = 16,
        architecture: str = "conv",
        filters: Sequence[int] = (32, 64),
        hidden_units: Sequence[int] = (512, 256),
        aux_units: Sequence[int] = (256,),
        critic_filters: Sequence[int] = (32, 64),
        information_factorization: bool = True,
        label_reconstruction_weight: float = 0.0,
        reconstruction_weight: float = 1.0,
        kl_weight: float = 0.2,
        label_weight: float = 0.1,
        adversarial_weight: float = 0.1,
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_choice("label_type", label_type, LABEL_TYPES)
        check_choice("architecture", architecture, ARCHITECTURES)
        if not isinstance(information_factorization, (bool, np.bool_)):
            raise ValueError(
                "`information_factorization` must be True or False. "
                f"Received: {information_factorization!r}"
            )
        self.information_factorization = bool(information_factorization)
        # A negative weight turns its term around: −α rewards the KL term,
        # −ρ teaches the head to mislabel, −δ has D help C.
        for name, value in (
            ("label_reconstruction_weight", label_reconstruction_weight),
            ("reconstruction_weight", reconstruction_weight),
            ("kl_weight", kl_weight),
            ("label_weight", label_weight),
            ("adversarial_weight", adversarial_weight),
        ):
            setattr(self, name, check_non_negative(value, name))
        if self.reconstruction_weight == 0:
            raise ValueError(
                "`reconstruction_weight` must be > 0: without L_rec nothing "
                f"ties ẑ to the image. Received: {reconstruction_weight!r}"
            )
        self._build_autoencoder(
            image_shape,
            attribute_names,
            label_type,
            latent_dim,
            architecture,
            filters,
            hidden_units,
            seed,
        )
        self.aux_units = positive_ints(aux_units, "aux_units")
        self.critic_filters = positive_ints(critic_filters, "critic_filters")
        self.auxiliary = networks.build_auxiliary(
            self.latent_dim, self.aux_units, self.label_dim
        )
        self.discriminator = networks.build_discriminator(
            architecture, self.image_shape, self.critic_filters, self.hidden_units
        )
        self.built = True

    @property
    def label_reconstruction(self) -> bool:
        """Whether L̂_class is in the loss: `label_reconstruction_weight > 0`."""
        return self.label_reconstruction_weight > 0

    # -- the trainer's description --------------------------------------------------

    def players(self) -> dict:
        return {
            "discriminator": self.discriminator.trainable_variables,
            "auxiliary": self.auxiliary.trainable_variables,
            "autoencoder": (
                self.encoder.trainable_variables + self.decoder.trainable_variables
            ),
        }

    def default_optimizers(self) -> dict:
        return {player: keras.optimizers.RMSprop(1e-4) for player in PLAYERS}

    def build_phases(self) -> list[Phase]:
        autoencoder_logs = [
            "reconstruction",
            "kl",
            "label_loss",
            "label_accuracy",
            "gan_loss",
            "aux_loss",
        ]
        if self.label_reconstruction:
            autoencoder_logs.append("label_reconstruction")
        return [
            Phase(
                "discriminator",
                "discriminator",
                self.discriminator_loss,
                metrics=("real_logit", "reconstruction_logit", "sample_logit"),
            ),
            Phase(
                "auxiliary", "auxiliary", self.auxiliary_loss, metrics=("aux_accuracy",)
            ),
            Phase(
                "autoencoder",
                "autoencoder",
                self.autoencoder_loss,
                metrics=tuple(autoencoder_logs),
            ),
        ]

    # -- one step's pieces (backend tensors) ----------------------------------------

    def _unpack(self, data):
        """`(images, labels)` of a batch, float32 tensors."""
        images, labels = keras.utils.unpack_x_y_sample_weight(data)[:2]
        validate_images(images, self.image_shape, argument="x")
        return ops.cast(images, "float32"), self._training_labels(labels)

    def _prior_draws(self, batch_size):
        """`(z_p, y_s)`: z_p ~ N(0, I), y_s from the label marginals."""
        noise = keras.random.normal(
            (batch_size, self.latent_dim), seed=self.seed_generator
        )
        return noise, self._draw_label_tensors(batch_size, self.seed_generator)

    def _discriminate(self, images, training: bool = False):
        """C's logits `(batch,)`; C reads [−1, 1], as the GAN family's critics."""
        logits = self.discriminator(images * 2.0 - 1.0, training=training)
        return ops.cast(logits, "float32")[:, 0]

    def _gan_loss(self, images, reconstructions, samples, training: bool):
        """`(L_gan, (real, reconstruction, sample) logits)`."""
        # One pass of C over the three batches: C has no batch statistics.
        logits = self._discriminate(
            ops.concatenate([images, reconstructions, samples], axis=0), training
        )
        parts = ops.split(logits, 3, axis=0)
        terms = [
            ops.mean(losses.sigmoid_cross_entropy(part, target))
            for part, target in zip(parts, (1.0, 0.0, 0.0))
        ]
        return (terms[0] + terms[1] + terms[2]) / 3.0, parts

    def _aux_loss(self, z, labels, training: bool):
        """`(L_aux, A's logits)`."""
        logits = ops.cast(self.auxiliary(z, training=training), "float32")
        loss = ops.mean(networks.label_cross_entropy(logits, labels, self.label_type))
        return loss, logits

    # -- the three phases -----------------------------------------------------------

    def discriminator_loss(self, data, training: bool = True) -> tuple:
        """C's phase: L_gan on real, reconstructed and sampled images.

        Args:
            data: a batch `(images, labels)`, labels `(batch, K)` or
                categorical class ids `(batch,)`.
            training: bool. Sample ẑ (else ẑ = μ(x)). Defaults to `True`.

        Returns:
            `(L_gan, logs)`, logs C's mean logits on each kind of image.
        """
        images, labels = self._unpack(data)
        z = self.call(images, training=training)["z"]
        noise, sampled_labels = self._prior_draws(ops.shape(images)[0])
        # Only C learns here: E and D's outputs are constants.
        reconstructions = ops.stop_gradient(self._decode(z, labels, training))
        samples = ops.stop_gradient(self._decode(noise, sampled_labels, training))
        loss, (real, reconstructed, sampled) = self._gan_loss(
            images, reconstructions, samples, training
        )
        return loss, {
            "real_logit": ops.mean(real),
            "reconstruction_logit": ops.mean(reconstructed),
            "sample_logit": ops.mean(sampled),
        }

    def auxiliary_loss(self, data, training: bool = True) -> tuple:
        """A's phase: L_aux, guessing the labels from ẑ.

        Args:
            data: a batch `(images, labels)`, as `discriminator_loss`'s.
            training: bool. Sample ẑ (else ẑ = μ(x)). Defaults to `True`.

        Returns:
            `(L_aux, {"aux_accuracy": ...})`.
        """
        images, labels = self._unpack(data)
        z = ops.stop_gradient(self.call(images, training=training)["z"])
        loss, logits = self._aux_loss(z, labels, training)
        return loss, {
            "aux_accuracy": networks.label_accuracy(logits, labels, self.label_type)
        }

    def autoencoder_loss(self, data, training: bool = True) -> tuple:
        """E and D's phase: E's loss (class docstring), with its terms.

        Args:
            data: a batch `(images, labels)`, as `discriminator_loss`'s.
            training: bool. Sample ẑ (else ẑ = μ(x)). Defaults to `True`.

        Returns:
            `(loss, logs)`, logs the loss's terms before their weights.
        """
        images, labels = self._unpack(data)
        posterior = self.call(images, training=training)
        z, label_logits = posterior["z"], posterior["label_logits"]
        logits = self._decode_logits(z, labels, training)
        reconstruction = ops.mean(losses.bernoulli_reconstruction(images, logits))
        log_var = 2.0 * ops.log(posterior["z_std"])
        kl = ops.mean(losses.gaussian_kl(posterior["z_mean"], log_var))
        label_loss = ops.mean(
            networks.label_cross_entropy(label_logits, labels, self.label_type)
        )
        reconstructions = ops.sigmoid(logits)
        noise, sampled_labels = self._prior_draws(ops.shape(images)[0])
        samples = self._decode(noise, sampled_labels, training)
        gan_loss, _ = self._gan_loss(images, reconstructions, samples, training)
        # Without factorisation A only probes ẑ: no gradient reaches E.
        aux_input = z if self.information_factorization else ops.stop_gradient(z)
        aux_loss, _ = self._aux_loss(aux_input, labels, training)
        loss = (
            self.reconstruction_weight * reconstruction
            + self.kl_weight * kl
            + self.label_weight * label_loss
            - self.adversarial_weight * gan_loss
        )
        if self.information_factorization:
            loss = loss - aux_loss
        logs = {
            "reconstruction": reconstruction,
            "kl": kl,
            "label_loss": label_loss,
            "label_accuracy": networks.label_accuracy(
                label_logits, labels, self.label_type
            ),
            "gan_loss": gan_loss,
            "aux_loss": aux_loss,
        }
        if self.label_reconstruction:
            term = self._label_reconstruction(label_logits, reconstructions, training)
            logs["label_reconstruction"] = term
            loss = loss + self.label_reconstruction_weight * term
        return loss, logs

    def _label_reconstruction(self, label_logits, reconstructions, training: bool):
        """L̂_class: the head's reading of x̂ against its reading of x."""
        # ŷ(x) is the target only: the term teaches D (and the head on x̂),
        # it does not move ŷ(x).
        target = ops.stop_gradient(
            networks.label_probabilities(label_logits, self.label_type)
        )
        read = self._encode(reconstructions, training=training)[2]
        return ops.mean(networks.label_cross_entropy(read, target, self.label_type))

    def get_config(self):
        config = super().get_config()
        config.update(self._autoencoder_config())
        config.update(
            {
                "aux_units": list(self.aux_units),
                "critic_filters": list(self.critic_filters),
                "information_factorization": self.information_factorization,
                "label_reconstruction_weight": self.label_reconstruction_weight,
                "reconstruction_weight": self.reconstruction_weight,
                "kl_weight": self.kl_weight,
                "label_weight": self.label_weight,
                "adversarial_weight": self.adversarial_weight,
                "seed": self.seed,
            }
        )
        return config


@keras.saving.register_keras_serializable(package="keras_latent")
class CVAEGAN(IFcVAEGAN):
    """The naive cVAE-GAN baseline of Creswell, Bharath & Sengupta (2017).

    `IFcVAEGAN` with `information_factorization=False` and
    `label_reconstruction_weight=0`, both fixed: the encoder's loss is
    `L_rec + α L_KL + ρ L_class − δ L_gan`, so nothing keeps label
    information out of ẑ. It trains exactly as an `IFcVAEGAN` with those
    two settings; A still learns, as a probe whose `aux_loss` and
    `aux_accuracy` show how much label information ẑ holds, but never
    feeds back. This is not Bao et al. (2017)'s CVAE-GAN, which adds a
    classifier network and mean feature matching.

    Args:
        **kwargs: the arguments of `IFcVAEGAN`, but for the two it fixes.

    Example:

    ```python
    baseline = keras_latent.models.CVAEGAN(image_shape=(28, 28, 1))
    baseline.compile()
    baseline.fit(images, digit_ids, epochs=10, batch_size=64)
    as_threes = baseline.transform(images[:8], {"3": 1})
    ```
    """

    def __init__(self, **kwargs):
        fixed = [name for name in BASELINE_SWITCHES if name in kwargs]
        if fixed:
            raise ValueError(
                f"CVAEGAN fixes {fixed} (no information factorisation, no "
                "label reconstruction); use IFcVAEGAN to set them."
            )
        super().__init__(
            information_factorization=False, label_reconstruction_weight=0.0, **kwargs
        )

    def get_config(self):
        config = super().get_config()
        for name in BASELINE_SWITCHES:
            config.pop(name)
        return config

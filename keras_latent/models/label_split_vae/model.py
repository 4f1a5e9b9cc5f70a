"""`LabelRelevantIrrelevantVAE`: the model, its players and its three phases."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
from keras import ops

from keras_latent import losses
from keras_latent.layers import GaussianMixture
from keras_latent.models.gan.conditional import DIGITS
from keras_latent.models.label_split_vae import networks
from keras_latent.models.label_split_vae.inference import InferenceMixin
from keras_latent.models.label_split_vae.pixel_gan import PixelDiscriminatorMixin
from keras_latent.models.label_split_vae.semi_supervised import SemiSupervisedMixin
from keras_latent.models.vae.vae import ARCHITECTURES  # built from the same stacks
from keras_latent.presets import PresetMixin
from keras_latent.trainer import MultiPlayerModel, Phase
from keras_latent.utils.inputs import (
    ChecksFitImages,
    ChecksPredictImages,
    check_choice,
    check_int,
    check_non_negative,
    validate_images,
    validate_seed,
)
from keras_latent.utils.labels import (
    LabelsMixin,
    attribute_name_list,
)

# The posterior's standard deviation floor: keeps log σ² finite when the
# softplus underflows (as the zoo's VAE).
STD_FLOOR = 1e-6


def _layer_sizes(values, argument: str, allow_empty: bool = False) -> tuple:
    """`values` as a tuple of positive ints (layer widths or channels)."""
    if isinstance(values, (int, np.integer, str)) or (
        not allow_empty and not len(values)
    ):
        raise ValueError(
            f"`{argument}` must be a {'' if allow_empty else 'non-empty '}"
            f"sequence of positive ints. Received: {values!r}"
        )
    return tuple(check_int(v, argument, minimum=1) for v in values)


def _image_shape(image_shape) -> tuple:
    if isinstance(image_shape, (int, np.integer, str)) or len(image_shape) != 3:
        raise ValueError(
            "`image_shape` must be (height, width, channels). "
            f"Received: {image_shape!r}"
        )
    return tuple(check_int(d, "image_shape", minimum=1) for d in image_shape)


@keras.saving.register_keras_serializable(package="keras_latent")
class LabelRelevantIrrelevantVAE(
    InferenceMixin,
    PixelDiscriminatorMixin,
    SemiSupervisedMixin,
    LabelsMixin,
    PresetMixin,
    ChecksFitImages,
    ChecksPredictImages,
    MultiPlayerModel,
):
    """The label-relevant/irrelevant VAE (Lr-LiVAE) of Zheng & Sun (2019).

    An image x of class y (one of K) is split into two codes: a
    label-relevant z_s = E_s(x) (deterministic), shaped by the Gaussian-
    mixture (GM) loss into one Gaussian N(μ_k, diag σ²_k) per class, and a
    label-irrelevant z_u ~ q(z_u|x) = N(μ(x), diag σ²(x)) (E_u), pulled to
    N(0, I) by a KL term and emptied of label information by an adversarial
    classifier C. The decoder D maps concat(z_s, z_u) to the image
    (sigmoid output). With x̂ = D(z_s, z_u), z_u = μ + σ ⊙ ε:

        L_GM  = L_cls(z_s, y) + λ_lkd · L_lkd(z_s, y)     (GaussianMixture)
        L_rec = Σ_pixels (x − x̂)²
        KL    = KL(q(z_u|x) ‖ N(0, I))
        L_C   = −log softmax(C(sg(z_u)))_y
        L_adv = −Σ_k (1/K) log softmax(C(z_u))_k

    all averaged over the batch. Each `fit` step on a batch `(x, y)` runs
    three phases of the zoo's multi-player trainer, in order:

    1. `gm` (`gm_steps` times): E_s and the GM means and variances minimise
       L_GM;
    2. `joint`: E_s, E_u and D minimise `w_rec · L_rec + β · KL +
       λ_lkd · L_lkd + w_adv · L_adv`;
    3. `classifier`: C minimises L_C;
    4. with `pixel_discriminator=True`, `discriminator`: a conditional
       projection discriminator minimises a hinge loss on real images,
       reconstructions and class samples D(z_s ~ N(μ_k, Σ_k), z_u ~ N(0, I)),
       and the joint stage adds `w_pix · L_G` for the decoder (`pixel_gan.py`).

    **Players.** E_s is trained by two losses with two update rules, so it
    belongs to two players: `gaussian_mixture` (E_s with the GM means and
    raw variances) and `autoencoder` (E_s, E_u and D); `classifier` is C
    alone. The trainer allows a variable in several players
    (`PlayerOptimizers` builds each optimizer on its own player's
    variables), so each player keeps its own Adam moments: the GM stage's
    moments of E_s are not disturbed by the reconstruction gradients, which
    are orders of magnitude larger (summed over pixels, weighted by 10).
    A phase changes only its player's variables: the joint stage's L_lkd
    moves E_s but not the GM means, and L_adv moves E_u but not C.

    Defaults: every player uses Adam(1e-3, β₁ = 0.5). Most of the objective
    is autoencoding, which the zoo's VAE trains at 1e-3; the only
    adversarial game lives in the small latent space (a classifier, not a
    pixel discriminator), so a GAN's lower 2e-4 is not needed, and β₁ = 0.5
    (DCGAN's) damps the oscillation between E_u and C.

    `fit(x, y)` takes images in [0, 1] and labels as int class ids `(N,)`
    or one-hot rows `(N, K)` in the order of `attribute_names`; NumPy
    labels also set the class marginals `generate(attributes=None)` draws
    from (with a dataset call `set_label_prior(y)`). Its logs: `gm_loss`,
    `gm_accuracy` (argmax of the GM logits −d_k against y),
    `gm_classification` (L_cls), `gm_likelihood` (L_lkd), `joint_loss`,
    `reconstruction` (L_rec), `kl`, `likelihood` (L_lkd in the joint
    stage), `adversarial` (L_adv), `classifier_loss` (L_C),
    `classifier_accuracy`, and the trainer's `loss` and `nonfinite_steps`.

    Inference takes NumPy (floats in [0, 1] or uint8) and returns float32
    NumPy on every backend: `encode`, `decode`, `reconstruct`,
    `predict_attributes`, `generate`, `transform`, `interpolate`,
    `inpaint` (see `docs/models.md`, "The label-relevant/irrelevant VAE").
    Calling the model (`model(images)`, what `predict` runs) returns the
    reconstructions D(E_s(x), μ(x)) as backend tensors.

    **Semi-supervised fine-tuning.** `fine_tune_unlabelled(images,
    prior="mixture")` then trains E_s, E_u and D on images without labels
    (Zheng & Sun, §3.6): `w_rec · L_rec + β · KL + λ_lkd · L_lkd^u`, with
    z_s's likelihood under the learnt mixture or, with
    `prior="ambiguous"`, under one Gaussian with its overall mean and
    variance (images of new classes); `semi_supervised.py`.

    Args:
        image_shape: tuple `(height, width, channels)`. Defaults to
            `(28, 28, 1)`.
        attribute_names: sequence of str. The K >= 2 class names, in the
            order of the one-hot label columns. Defaults to the ten digits
            `"0"`–`"9"`.
        relevant_dim: int. Dimension of z_s. Defaults to `16`.
        irrelevant_dim: int. Dimension of z_u. Defaults to `16`.
        architecture: `"conv"` or `"mlp"`, for both encoders and the
            decoder. Defaults to `"conv"`.
        filters: sequence of int. Channels of the encoders' stride-2 4×4
            convolutions (the decoder mirrors them). Used by `"conv"`.
            Defaults to `(32, 64)`.
        hidden_units: sequence of int. Widths of the encoders' hidden layers
            (the decoder mirrors them). Used by `"mlp"`. Defaults to
            `(512, 256)`.
        classifier_units: sequence of int. Hidden widths of C. Defaults to
            `(256,)`.
        beta: float >= 0. β, the weight of the KL term. Defaults to `1.0`.
        reconstruction_weight: float >= 0. w_rec. Defaults to `10.0`.
        adversarial_weight: float >= 0. w_adv. Defaults to `1.0`.
        margin: float >= 0. The GM loss's margin α. Defaults to `0.0`.
        likelihood_weight: float >= 0. λ_lkd, in both stages. Defaults to
            `0.1`.
        min_variance: float >= 0. Floor of the GM variances (see
            `keras_latent.layers.GaussianMixture`): the likelihood term's
            `½ log|Σ_y|` is unbounded below without one, and on MNIST with
            no floor the variances collapsed after about 5,000 steps and
            the class code with them. Defaults to `0.1`.
        gm_steps: int >= 1. GM-stage updates per training step. Defaults
            to `3`.
        pixel_discriminator: bool. Add the optional conditional pixel
            discriminator (projection, spectral norm, hinge; a fourth player
            `discriminator` with Adam(2e-4, β₁ = 0.5)), which also trains the
            decoder on class samples (`pixel_gan.py`). Defaults to `False`.
        discriminator_filters: sequence of int. Channels of its stride-2
            convolutions for `"conv"` (`"mlp"` uses `hidden_units`).
            Defaults to `(32, 64)`.
        pixel_adversarial_weight: float >= 0. w_pix, the weight of its
            generator loss L_G in the joint stage. Defaults to `1.0`.
        seed: int in [0, 2**31 - 1] or None. Seeds the initialisation of
            the GM means and the model's noise. Defaults to `None`.

    Example:

    ```python
    model = keras_latent.models.LabelRelevantIrrelevantVAE()
    model.compile()  # Adam(1e-3, beta_1=0.5) for each player
    model.fit(images, digit_ids, epochs=10, batch_size=64)
    sevens = model.generate({"7": 1}, num_samples=8, seed=0)
    as_threes = model.transform(images[:8], {"3": 1})  # keeps the style z_u
    ```
    """

    label_type = "categorical"
    gm_metrics = ("gm_accuracy", "gm_classification", "gm_likelihood")
    joint_metrics = ("reconstruction", "kl", "likelihood", "adversarial")
    classifier_metrics = ("classifier_accuracy",)

    def __init__(
        self,
        image_shape: Sequence[int] = (28, 28, 1),
        attribute_names: Sequence[str] = DIGITS,
        relevant_dim: int = 16,
        irrelevant_dim: int = 16,
        architecture: str = "conv",
        filters: Sequence[int] = (32, 64),
        hidden_units: Sequence[int] = (512, 256),
        classifier_units: Sequence[int] = (256,),
        beta: float = 1.0,
        reconstruction_weight: float = 10.0,
        adversarial_weight: float = 1.0,
        margin: float = 0.0,
        likelihood_weight: float = 0.1,
        min_variance: float = 0.1,
        gm_steps: int = 3,
        pixel_discriminator: bool = False,
        discriminator_filters: Sequence[int] = (32, 64),
        pixel_adversarial_weight: float = 1.0,
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_choice("architecture", architecture, ARCHITECTURES)
        self.image_shape = _image_shape(image_shape)
        self.attribute_names = attribute_name_list(attribute_names)
        if len(self.attribute_names) < 2:
            raise ValueError(
                "`attribute_names` must name at least 2 classes. "
                f"Received: {attribute_names!r}"
            )
        self.label_dim = len(self.attribute_names)
        self.relevant_dim = check_int(relevant_dim, "relevant_dim", minimum=1)
        self.irrelevant_dim = check_int(irrelevant_dim, "irrelevant_dim", minimum=1)
        self.architecture = architecture
        self.filters = _layer_sizes(filters, "filters", architecture == "mlp")
        self.hidden_units = _layer_sizes(hidden_units, "hidden_units", True)
        self.classifier_units = _layer_sizes(classifier_units, "classifier_units", True)
        for name, value in (
            ("beta", beta),
            ("reconstruction_weight", reconstruction_weight),
            ("adversarial_weight", adversarial_weight),
            ("margin", margin),
            ("likelihood_weight", likelihood_weight),
            ("min_variance", min_variance),
            ("pixel_adversarial_weight", pixel_adversarial_weight),
        ):
            setattr(self, name, check_non_negative(value, name))
        if not isinstance(pixel_discriminator, (bool, np.bool_)):
            raise ValueError(
                "`pixel_discriminator` must be True or False. "
                f"Received: {pixel_discriminator!r}"
            )
        self.pixel_discriminator = bool(pixel_discriminator)
        self.discriminator_filters = _layer_sizes(
            discriminator_filters, "discriminator_filters"
        )
        self.gm_steps = check_int(gm_steps, "gm_steps", minimum=1)
        self.seed = validate_seed(seed)
        self._build_networks()
        self.label_prior = self.add_weight(
            shape=(self.label_dim,),
            initializer=keras.initializers.Constant(1.0 / self.label_dim),
            trainable=False,
            name="label_prior",
        )
        self.seed_generator = keras.random.SeedGenerator(self.seed)
        self.built = True

    def _build_networks(self):
        # Tracked in this order, which a model built from the config repeats
        # (Keras files sub-networks in weights files in tracking order).
        shape, arch = self.image_shape, self.architecture
        sizes = (self.filters, self.hidden_units)
        self.relevant_encoder = networks.image_encoder(
            shape, arch, *sizes, self.relevant_dim, name="relevant_encoder"
        )
        self.irrelevant_encoder = networks.image_encoder(
            shape, arch, *sizes, 2 * self.irrelevant_dim, name="irrelevant_encoder"
        )
        self.decoder = networks.image_decoder(
            self.relevant_dim + self.irrelevant_dim,
            shape,
            arch,
            *sizes,
        )
        self.mixture = GaussianMixture(
            self.label_dim,
            min_variance=self.min_variance,
            margin=self.margin,
            likelihood_weight=self.likelihood_weight,
            seed=self.seed,
            name="gaussian_mixture",
        )
        self.mixture.build((None, self.relevant_dim))
        self.classifier = networks.latent_classifier(
            self.irrelevant_dim, self.classifier_units, self.label_dim
        )
        if self.pixel_discriminator:
            self.discriminator, self.label_projection = (
                networks.projection_discriminator(
                    shape,
                    arch,
                    self.discriminator_filters,
                    self.hidden_units,
                    self.label_dim,
                )
            )

    @property
    def known_attributes(self) -> list:
        return list(self.attribute_names)

    # -- the players and their phases --------------------------------------------------

    def players(self) -> dict:
        if self._unlabelled_prior is not None:
            return self._fine_tuning_players()
        relevant = self.relevant_encoder.trainable_variables
        players = {
            "gaussian_mixture": relevant + self.mixture.trainable_variables,
            "autoencoder": relevant
            + self.irrelevant_encoder.trainable_variables
            + self.decoder.trainable_variables,
            "classifier": self.classifier.trainable_variables,
        }
        if self.pixel_discriminator:
            players["discriminator"] = (
                self.discriminator.trainable_variables
                + self.label_projection.trainable_variables
            )
        return players

    def default_optimizers(self) -> dict:
        optimizers = {
            player: keras.optimizers.Adam(1e-3, beta_1=0.5)
            for player in ("gaussian_mixture", "autoencoder", "classifier")
        }
        if self.pixel_discriminator:
            # A pixel GAN's critic: the usual 2e-4 of spectrally normalised
            # hinge GANs.
            optimizers["discriminator"] = keras.optimizers.Adam(2e-4, beta_1=0.5)
        return optimizers

    def build_phases(self) -> list[Phase]:
        if self._unlabelled_prior is not None:
            return self._fine_tuning_phases()
        return [
            Phase(
                "gm",
                "gaussian_mixture",
                self.gm_loss,
                repeat=self.gm_steps,
                metrics=self.gm_metrics,
            ),
            Phase(
                "joint",
                "autoencoder",
                self.joint_loss,
                metrics=self.joint_metrics
                + (("pixel_adversarial",) if self.pixel_discriminator else ()),
            ),
            Phase(
                "classifier",
                "classifier",
                self.classifier_loss,
                metrics=self.classifier_metrics,
            ),
        ] + self._discriminator_phases()

    # -- labels ------------------------------------------------------------------------

    def fit(self, x=None, y=None, *args, **kwargs):
        """As `keras.Model.fit`, on images `x` and class labels `y`.

        NumPy labels are checked first and set the class marginals of
        `generate(attributes=None)`; with a dataset yielding
        `(images, labels)`, call `set_label_prior` yourself.

        Args:
            x: float images `(N, H, W, C)` in [0, 1], or a dataset of
                `(images, labels)` batches.
            y: class ids `(N,)` (ints in [0, K − 1]) or one-hot rows
                `(N, K)` in the order of `attribute_names`. Required with
                array images.
            *args: the rest of `keras.Model.fit`'s arguments.
            **kwargs: the rest of `keras.Model.fit`'s arguments.

        Example:

        ```python
        model.compile()
        history = model.fit(images, digit_ids, epochs=10, batch_size=64)
        ```
        """
        if y is not None:
            y = self._label_matrix(y)
            self.set_label_prior(y)
        elif x is not None and hasattr(x, "shape"):
            raise ValueError(
                f"{type(self).__name__} trains on labelled images: pass "
                f"`fit(x, y)` with `y` the class ids or one-hot rows for "
                f"{self.attribute_names}."
            )
        return super().fit(x, y, *args, **kwargs)

    def _unpack(self, data):
        """`(images, one-hot labels)` of a batch, as float32 tensors."""
        images, labels = keras.utils.unpack_x_y_sample_weight(data)[:2]
        if labels is None:
            raise ValueError(
                f"{type(self).__name__} trains on (images, labels): `y` is "
                f"missing. Pass the class ids or one-hot rows for "
                f"{self.attribute_names}."
            )
        validate_images(images, self.image_shape, argument="x")
        labels = ops.convert_to_tensor(labels)
        if len(labels.shape) == 1:
            labels = ops.one_hot(ops.cast(labels, "int32"), self.label_dim)
        elif len(labels.shape) != 2 or labels.shape[-1] != self.label_dim:
            raise ValueError(
                f"`y` must be class ids (batch,) or one-hot rows (batch, "
                f"{self.label_dim}) for {self.attribute_names}. Received shape "
                f"{tuple(labels.shape)}."
            )
        return ops.cast(images, "float32"), ops.cast(labels, "float32")

    # -- the networks as tensor functions ----------------------------------------------

    # The networks compute in the dtype policy's dtype (bfloat16 under mixed
    # precision); the losses stay float32.
    def _relevant_code(self, images, training: bool = False):
        """z_s = E_s(x), `(batch, relevant_dim)`."""
        return ops.cast(self.relevant_encoder(images, training=training), "float32")

    def _irrelevant_posterior(self, images, training: bool = False):
        """`(mean, std)` of q(z_u|x), each `(batch, irrelevant_dim)`."""
        stats = self.irrelevant_encoder(images, training=training)
        mean, raw_std = ops.split(ops.cast(stats, "float32"), 2, axis=-1)
        return mean, ops.softplus(raw_std) + STD_FLOOR

    def _irrelevant_code(self, images, training: bool):
        """`(mean, std, z_u)`: z_u = μ + σ ⊙ ε when training, else μ."""
        mean, std = self._irrelevant_posterior(images, training)
        if not training:
            return mean, std, mean
        noise = keras.random.normal(ops.shape(mean), seed=self.seed_generator)
        return mean, std, mean + std * noise

    def _decode(self, z_s, z_u, training: bool = False):
        """x̂ = D(concat(z_s, z_u)) in [0, 1], `(batch, H, W, C)`."""
        codes = ops.concatenate(
            [ops.cast(z_s, "float32"), ops.cast(z_u, "float32")], axis=-1
        )
        logits = self.decoder(codes, training=training)
        return ops.sigmoid(ops.cast(logits, "float32"))

    def _class_logits(self, z_s):
        """The GM logits −d_k(z_s), `(batch, K)`."""
        return losses.gaussian_mixture_logits(
            z_s, self.mixture.means, self.mixture.variances
        )

    def _classifier_logits(self, z_u, training: bool):
        return ops.cast(self.classifier(z_u, training=training), "float32")

    # -- the three phases' losses ------------------------------------------------------

    def gm_loss(self, data, training: bool = True):
        """L_GM on z_s: the GM stage's loss and logs."""
        images, labels = self._unpack(data)
        z_s = self._relevant_code(images, training)
        terms = self.mixture.loss(z_s, labels)
        logs = {
            "gm_accuracy": _accuracy(self._class_logits(z_s), labels),
            "gm_classification": terms["classification"],
            "gm_likelihood": terms["likelihood"],
        }
        return terms["loss"], logs

    def joint_loss(self, data, training: bool = True):
        """`w_rec · L_rec + β · KL + λ_lkd · L_lkd + w_adv · L_adv` (+ w_pix · L_G)."""
        images, labels = self._unpack(data)
        z_s, z_u, reconstructed, reconstruction, kl = self._autoencode(images, training)
        # Only E_s is in this player: the GM means stay where the GM stage
        # put them, and C is left to its own phase.
        likelihood = self.mixture.loss(z_s, labels)["likelihood"]
        log_probs = ops.log_softmax(self._classifier_logits(z_u, training), axis=-1)
        adversarial = -ops.mean(ops.mean(log_probs, axis=-1))
        loss = (
            self.reconstruction_weight * reconstruction
            + self.beta * kl
            + self.likelihood_weight * likelihood
            + self.adversarial_weight * adversarial
        )
        logs = {
            "reconstruction": reconstruction,
            "kl": kl,
            "likelihood": likelihood,
            "adversarial": adversarial,
        }
        if self.pixel_discriminator:
            term = self.pixel_generator_loss(images, labels, reconstructed, training)
            logs["pixel_adversarial"] = term
            loss = loss + self.pixel_adversarial_weight * term
        return loss, logs

    def _autoencode(self, images, training: bool):
        """`(z_s, z_u, x̂, L_rec, KL)` of a batch: the pass the joint stage
        and the unlabelled fine-tuning share."""
        z_s = self._relevant_code(images, training)
        mean, std, z_u = self._irrelevant_code(images, training)
        reconstructed = self._decode(z_s, z_u, training)
        axes = tuple(range(1, len(images.shape)))
        reconstruction = ops.mean(
            ops.sum(ops.square(images - reconstructed), axis=axes)
        )
        kl = ops.mean(losses.gaussian_kl(mean, 2.0 * ops.log(std)))
        return z_s, z_u, reconstructed, reconstruction, kl

    def classifier_loss(self, data, training: bool = True):
        """L_C: C's cross-entropy for y from the detached z_u."""
        images, labels = self._unpack(data)
        z_u = ops.stop_gradient(self._irrelevant_code(images, training)[2])
        logits = self._classifier_logits(z_u, training)
        loss = ops.mean(
            ops.logsumexp(logits, axis=-1) - ops.sum(labels * logits, axis=-1)
        )
        return loss, {"classifier_accuracy": _accuracy(logits, labels)}

    # -- the model as a Keras model ----------------------------------------------------

    def call(self, images, training: bool = False):
        """Reconstructions D(E_s(x), μ(x)) in [0, 1] of images `(batch, H, W, C)`."""
        validate_images(images, self.image_shape)
        images = ops.cast(images, "float32")
        z_s = self._relevant_code(images, training)
        mean = self._irrelevant_posterior(images, training)[0]
        return self._decode(z_s, mean, training)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "image_shape": list(self.image_shape),
                "attribute_names": list(self.attribute_names),
                "relevant_dim": self.relevant_dim,
                "irrelevant_dim": self.irrelevant_dim,
                "architecture": self.architecture,
                "filters": list(self.filters),
                "hidden_units": list(self.hidden_units),
                "classifier_units": list(self.classifier_units),
                "beta": self.beta,
                "reconstruction_weight": self.reconstruction_weight,
                "adversarial_weight": self.adversarial_weight,
                "margin": self.margin,
                "likelihood_weight": self.likelihood_weight,
                "min_variance": self.min_variance,
                "gm_steps": self.gm_steps,
                "pixel_discriminator": self.pixel_discriminator,
                "discriminator_filters": list(self.discriminator_filters),
                "pixel_adversarial_weight": self.pixel_adversarial_weight,
                "seed": self.seed,
            }
        )
        return config


def _accuracy(logits, labels):
    hits = ops.argmax(logits, axis=-1) == ops.argmax(labels, axis=-1)
    return ops.mean(ops.cast(hits, "float32"))

"""Conditional GANs: `CGAN` (labels into both players) and `ACGAN`."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
from keras import layers, ops

from keras_latent import losses
from keras_latent.layers.stacks import Sequential
from keras_latent.models.gan.gan import GAN
from keras_latent.utils.inputs import (
    check_choice,
    check_non_negative,
    predict_in_batches,
    standard_normal_latents,
    validate_batch_size,
)
from keras_latent.utils.labels import (
    LABEL_TYPES,
    LabelsMixin,
    attribute_name_list,
)

CONDITIONINGS = ("concat", "projection")
CRITIC_CLASS_LOSSES = ("real_and_fake", "real")
DIGITS = tuple(str(d) for d in range(10))


class ConditionalGAN(LabelsMixin, GAN):
    """What the conditional GANs share: labels in `fit`, `generate` by
    attribute, the label marginals.

    `fit(x, y)` takes 0/1 label vectors `(N, K)` in the order of
    `attribute_names` (one-hot rows for `label_type="categorical"`, where
    integer class ids `(N,)` are accepted too). A generated image is asked
    for its real batch's labels during training. `generate` takes
    `attributes` as `LatentConstraints.generate` does.
    """

    conditions_generator = True

    def __init__(
        self,
        attribute_names: Sequence[str] = DIGITS,
        label_type: str = "categorical",
        **kwargs,
    ):
        # Before the networks are built: they are sized by the labels.
        check_choice("label_type", label_type, LABEL_TYPES)
        self.attribute_names = attribute_name_list(attribute_names)
        self.label_type = label_type
        self.label_dim = len(self.attribute_names)
        super().__init__(**kwargs)
        self.label_prior = self.add_weight(
            shape=(self.label_dim,),
            initializer=keras.initializers.Constant(
                1.0 / self.label_dim if label_type == "categorical" else 0.5
            ),
            trainable=False,
            name="label_prior",
        )

    @property
    def known_attributes(self) -> list:
        return list(self.attribute_names)

    # -- labels in training ---------

    def fit(self, x=None, y=None, *args, **kwargs):
        """As `keras.Model.fit`, with 0/1 labels `y` (see the class doc).

        NumPy labels are checked first and set the label marginals that
        `generate(attributes=None)` draws from; with a dataset yielding
        `(images, labels)` call `set_label_prior(y)` for them.
        """
        if y is not None:
            y = self._label_matrix(y)
            self.set_label_prior(y)
        return super().fit(x, y, *args, **kwargs)

    def _unpack(self, data):
        images, labels = keras.utils.unpack_x_y_sample_weight(data)[:2]
        if labels is None:
            raise ValueError(
                f"{type(self).__name__} trains on (images, labels): pass "
                f"`fit(x, y)` with labels for {self.attribute_names}."
            )
        real = super()._unpack((images,))[0]
        labels = ops.convert_to_tensor(labels)
        if len(labels.shape) == 1:
            labels = ops.one_hot(ops.cast(labels, "int32"), self.label_dim)
        if labels.shape[-1] != self.label_dim:
            raise ValueError(
                f"Labels must have {self.label_dim} columns, one per attribute "
                f"in {self.attribute_names}. Received shape {labels.shape}."
            )
        return real, ops.cast(labels, "float32")

    # -- inference ---------

    def call(self, inputs, training: bool = False):
        """`[z, labels] → images` in [0, 1]."""
        z, labels = inputs
        images = self._generate(z, labels, training, self.sampling_generator)
        return (images + 1.0) / 2.0

    def generator_graph(self, noise, labels):
        """Images in [0, 1] from noise z ~ N(0, I) and label vectors.

        What `generate` runs, and what `keras_latent.export` exports: Keras
        layers and `keras.ops` only, on backend tensors or inside traced
        graphs.

        Args:
            noise: float32 tensor `(batch, noise_dim)`.
            labels: float32 tensor `(batch, K)`, 0/1 in the order of
                `attribute_names` (one-hot rows for categorical labels).

        Returns:
            A float32 tensor `(batch, H, W, C)` in [0, 1].
        """
        return self([noise, labels])

    def generate(
        self,
        attributes=None,
        num_samples: int = 16,
        seed: int | None = None,
        batch_size: int = 256,
    ) -> np.ndarray:
        """Generates images with the asked-for attributes.

        Args:
            attributes: a dict of name → 0/1 (names left out are drawn from
                the training marginals), a 0/1 array `(K,)` or
                `(num_samples, K)` of label vectors (one-hot rows for
                categorical labels), or `None` (all drawn). Defaults to
                `None`.
            num_samples: int. Defaults to `16`.
            seed: int in [0, 2**31 - 1] or None. The same seed gives the
                same images on one backend. Defaults to `None`.
            batch_size: int. Defaults to `256`.

        Returns:
            float32 NumPy array `(num_samples, H, W, C)` in [0, 1].
        """
        batch_size = validate_batch_size(batch_size)
        labels = self.label_vectors(attributes, num_samples, seed)
        z = standard_normal_latents(
            num_samples, self.latent_dim, seed, self.seed_generator
        )
        z = keras.ops.convert_to_numpy(z)
        return predict_in_batches(self.generator_graph, (z, labels), batch_size)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "attribute_names": list(self.attribute_names),
                "label_type": self.label_type,
            }
        )
        return config


@keras.saving.register_keras_serializable(package="keras_latent")
class CGAN(ConditionalGAN):
    """Conditional GAN (Mirza & Osindero 2014): labels into both players.

    The generator reads `[z, y]`. The critic reads the labels by
    `"concat"` (appended to its input: as constant feature maps for
    `"dcgan"`, to the flattened image for `"mlp"`) or by `"projection"`
    (Miyato & Koyama 2018: `D(x, y) = ψ(φ(x)) + ⟨E y, φ(x)⟩`, with φ the
    critic's features and E a learnt embedding). Every `GAN` argument
    (loss, regularisers) applies.

    Args:
        attribute_names: sequence of str. The labels' names, in the order
            of the label vectors. Defaults to the ten digits `"0"`–`"9"`.
        label_type: `"categorical"` (one class per image, softmax) or
            `"multi_label"` (independent 0/1 attributes). Defaults to
            `"categorical"`.
        conditioning: `"concat"` or `"projection"`. Defaults to `"concat"`.
        **kwargs: the arguments of `GAN`.

    Example:

    ```python
    cgan = keras_latent.models.CGAN(image_shape=(28, 28, 1))
    cgan.compile()
    cgan.fit(images, digit_ids, epochs=5, batch_size=64)
    sevens = cgan.generate({"7": 1}, num_samples=8, seed=0)
    ```
    """

    def __init__(self, conditioning: str = "concat", **kwargs):
        check_choice("conditioning", conditioning, CONDITIONINGS)
        self.conditioning = conditioning
        super().__init__(**kwargs)

    def _critic_input_shape(self) -> tuple:
        if self.conditioning == "projection":
            return self.image_shape
        if self.architecture == "mlp":
            return (int(np.prod(self.image_shape)) + self.label_dim,)
        return (*self.image_shape[:-1], self.image_shape[-1] + self.label_dim)

    def _critic_inputs(self, images, labels):
        if self.conditioning == "projection":
            return images
        if self.architecture == "mlp":
            flat = ops.reshape(images, (ops.shape(images)[0], -1))
            return ops.concatenate([flat, labels], axis=-1)
        shape = ops.shape(images)
        maps = ops.broadcast_to(
            labels[:, None, None, :], (shape[0], shape[1], shape[2], self.label_dim)
        )
        return ops.concatenate([images, maps], axis=-1)

    def _build_extra_networks(self):
        if self.conditioning != "projection":
            return
        feature_dim = int(self.critic.layers[-1].input.shape[-1])
        self.label_projection = Sequential(
            [keras.Input((self.label_dim,)), layers.Dense(feature_dim, use_bias=False)],
            name="label_projection",
        )

    def players(self) -> dict:
        players = super().players()
        if self.conditioning == "projection":
            players["critic"] = (
                self.critic.trainable_variables
                + self.label_projection.trainable_variables
            )
        return players

    def _needs_features(self) -> bool:
        return self.conditioning == "projection"

    def _source_logits(self, logits, features, labels):
        if self.conditioning != "projection":
            return logits
        embedded = ops.cast(self.label_projection(labels), "float32")
        return logits + ops.sum(embedded * ops.cast(features, "float32"), axis=-1)

    def get_config(self):
        config = super().get_config()
        config["conditioning"] = self.conditioning
        return config


@keras.saving.register_keras_serializable(package="keras_latent")
class ACGAN(ConditionalGAN):
    """AC-GAN (Odena, Olah & Shlens 2017): the critic also classifies.

    The generator reads `[z, c]`; the critic reads the image only and
    outputs a source logit and class logits. With `L_C` the class
    log-likelihood (softmax for categorical labels, the mean of the
    attributes' sigmoids for multi-label ones) and the source loss of
    `loss`, the critic minimises `source loss − w·L_C(real) − w·L_C(fake)`
    and the generator `source loss − w·L_C(fake)`. With
    `critic_class_loss="real"` the critic's class head learns from real
    images only, a known remedy when AC-GAN's samples collapse within a
    class (the critic can otherwise reward easy-to-classify fakes).

    `fit` also logs `real_class_loss`, `fake_class_loss` and
    `real_class_accuracy` (the critic's, on the real batch).

    Args:
        attribute_names: sequence of str. Defaults to the ten digits.
        label_type: `"categorical"` or `"multi_label"`. Defaults to
            `"categorical"`.
        class_loss_weight: float >= 0. w. Defaults to `1.0`.
        critic_class_loss: `"real_and_fake"` (the paper) or `"real"`.
            Defaults to `"real_and_fake"`.
        **kwargs: the arguments of `GAN`.

    Example:

    ```python
    acgan = keras_latent.models.ACGAN(image_shape=(28, 28, 1))
    acgan.compile()
    acgan.fit(images, digit_ids, epochs=5, batch_size=64)
    threes = acgan.generate({"3": 1}, num_samples=8, seed=0)
    ```
    """

    def __init__(
        self,
        class_loss_weight: float = 1.0,
        critic_class_loss: str = "real_and_fake",
        **kwargs,
    ):
        check_choice("critic_class_loss", critic_class_loss, CRITIC_CLASS_LOSSES)
        self.class_loss_weight = check_non_negative(
            class_loss_weight, "class_loss_weight"
        )
        self.critic_class_loss = critic_class_loss
        super().__init__(**kwargs)

    @property
    def class_logits(self) -> int:
        return self.label_dim

    def _critic_log_names(self) -> tuple:
        return super()._critic_log_names() + (
            "real_class_loss",
            "fake_class_loss",
            "real_class_accuracy",
        )

    def _class_nll(self, logits, labels):
        """−L_C: the mean negative log-likelihood of `labels`."""
        if self.label_type == "categorical":
            return ops.mean(
                ops.logsumexp(logits, axis=-1) - ops.sum(labels * logits, axis=-1)
            )
        return ops.mean(losses.sigmoid_cross_entropy(logits, labels))

    def _accuracy(self, logits, labels):
        if self.label_type == "categorical":
            hits = ops.argmax(logits, axis=-1) == ops.argmax(labels, axis=-1)
        else:
            hits = ops.cast(logits > 0.0, "float32") == labels
        return ops.mean(ops.cast(hits, "float32"))

    def _class_losses(self, real_classes, fake_classes, labels, fake_labels):
        fake_nll = self._class_nll(fake_classes, fake_labels)
        generator_loss = self.class_loss_weight * fake_nll
        if real_classes is None:
            return 0.0, generator_loss, {}
        real_nll = self._class_nll(real_classes, labels)
        critic_loss = real_nll
        if self.critic_class_loss == "real_and_fake":
            critic_loss = critic_loss + fake_nll
        logs = {
            "real_class_loss": real_nll,
            "fake_class_loss": fake_nll,
            "real_class_accuracy": self._accuracy(real_classes, labels),
        }
        return self.class_loss_weight * critic_loss, generator_loss, logs

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "class_loss_weight": self.class_loss_weight,
                "critic_class_loss": self.critic_class_loss,
            }
        )
        return config

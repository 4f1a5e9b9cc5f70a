"""The conditional VAE baseline (see the package docstring)."""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import ops

from keras_latent import losses
from keras_latent.models.conditional_vae import networks
from keras_latent.models.conditional_vae.base import ConditionalAutoencoder
from keras_latent.models.gan.conditional import DIGITS
from keras_latent.models.vae.vae import ARCHITECTURES, DECODER_DISTRIBUTIONS
from keras_latent.optimizers import Adam
from keras_latent.presets import PresetMixin
from keras_latent.trainer.nonfinite import SkipsNonFiniteSteps
from keras_latent.utils.inputs import (
    ChecksFitImages,
    ChecksPredictImages,
    check_choice,
    check_non_negative,
)
from keras_latent.utils.labels import LABEL_TYPES
from keras_latent.utils.state_guard import RestoreStateOnError


@keras.saving.register_keras_serializable(package="keras_latent")
class CVAE(
    PresetMixin,
    ConditionalAutoencoder,
    ChecksFitImages,
    ChecksPredictImages,
    RestoreStateOnError,
    SkipsNonFiniteSteps,
    keras.Model,
):
    """Conditional VAE (Sohn, Lee & Yan 2015) with a label head: the naive
    attribute-editing baseline of Creswell, Bharath & Sengupta (2017).

    The encoder gives q(z|x) = N(μ(x), diag σ²(x)) (as the `VAE`'s) and a
    label head ŷ(x) (a softmax for categorical labels, one sigmoid per
    attribute for multi-label ones); the decoder reads `concat[z, y]` and
    gives the mean of p(x|z, y), Gaussian with a fixed σ_x or Bernoulli. The
    loss per example is

        rec(x, D(z, y)) + β · KL(q(z|x) ‖ N(0, I)) + w · CE(ŷ(x), y),

    z = μ + σ ⊙ ε, with the true labels y in the decoder. rec and KL are
    **sums** over pixels and latent dimensions, as the VAE's; CE is the
    label vector's negative log-likelihood. All three are averaged over the
    batch. Nothing keeps label information out of z: that is what makes it
    the naive baseline (edits may keep some of the old attribute).

    It trains with one optimizer through `compute_loss` and Keras's stock
    trainer, on `fit(images, labels)`; labels are 0/1 vectors `(N, K)` in
    the order of `attribute_names` (one-hot rows, or int class ids `(N,)`,
    for `label_type="categorical"`). `fit` logs `loss`, `reconstruction`,
    `kl` (before β), `label_loss` (before w) and `label_accuracy`.

    Edits (`reconstruct`, `transform`) decode the posterior mean with the
    label head's own reading of the image, binarised (argmax one-hot, or
    > 0.5), with the asked attributes put in. `generate` decodes z ~ N(0, I)
    with labels drawn from the training marginals where not asked for. The
    inference methods take NumPy (uint8 or [0, 1] floats) or tensors and
    return float32 NumPy on every backend. Calling the model (what `fit` and
    `predict` run) returns a dict of backend tensors: `z` (a posterior
    sample when training, else μ), `z_mean`, `z_std` and `label_logits`.

    Args:
        image_shape: tuple `(height, width, channels)`. Defaults to
            `(28, 28, 1)`.
        attribute_names: sequence of str. The labels' names, in the order of
            the label vectors. Defaults to the ten digits `"0"`–`"9"`.
        label_type: `"categorical"` (one class per image) or `"multi_label"`
            (independent 0/1 attributes). Defaults to `"categorical"`.
        latent_dim: int. Dimension of z. Defaults to `16`.
        architecture: `"conv"` or `"mlp"`. Defaults to `"conv"`.
        filters: sequence of int. Channels of the stride-2 convolutions
            (encoder order; the decoder mirrors them). Used by `"conv"`.
            Defaults to `(32, 64)`.
        hidden_units: sequence of int. MLP widths (encoder order; the
            decoder mirrors them). Used by `"mlp"`. Defaults to `(512, 256)`.
        decoder_distribution: `"bernoulli"` or `"gaussian"`. Defaults to
            `"bernoulli"`.
        decoder_sigma: float > 0. σ_x of the Gaussian decoder. Defaults to
            `0.1`.
        beta: float >= 0. Weight of the KL term. Defaults to `1.0`.
        label_weight: float >= 0. w, the weight of the label head's
            cross-entropy. Defaults to `1.0`.
        seed: int in [0, 2**31 - 1] or None. Seed of the model's noise.
            Defaults to `None`.

    Example:

    ```python
    cvae = keras_latent.models.CVAE(image_shape=(28, 28, 1))
    cvae.compile(optimizer=keras_latent.optimizers.Adam(1e-3))
    cvae.fit(images, digit_ids, epochs=10, batch_size=64)
    sevens = cvae.generate({"7": 1}, num_samples=8, seed=0)
    as_threes = cvae.transform(images[:8], {"3": 1})
    ```
    """

    optimizer_identifiers = {"adam": Adam}

    def __init__(
        self,
        image_shape: Sequence[int] = (28, 28, 1),
        attribute_names: Sequence[str] = DIGITS,
        label_type: str = "categorical",
        latent_dim: int = 16,
        architecture: str = "conv",
        filters: Sequence[int] = (32, 64),
        hidden_units: Sequence[int] = (512, 256),
        decoder_distribution: str = "bernoulli",
        decoder_sigma: float = 0.1,
        beta: float = 1.0,
        label_weight: float = 1.0,
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_choice("label_type", label_type, LABEL_TYPES)
        check_choice("architecture", architecture, ARCHITECTURES)
        check_choice(
            "decoder_distribution", decoder_distribution, DECODER_DISTRIBUTIONS
        )
        if not decoder_sigma > 0:
            raise ValueError(
                f"`decoder_sigma` must be positive. Received: {decoder_sigma}"
            )
        # A negative β rewards the KL term: the posterior runs away; a
        # negative w would teach the head to mislabel.
        self.beta = check_non_negative(beta, "beta")
        self.label_weight = check_non_negative(label_weight, "label_weight")
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
        self.decoder_distribution = decoder_distribution
        self.decoder_sigma = float(decoder_sigma)
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")
        self.kl_tracker = keras.metrics.Mean(name="kl")
        self.label_loss_tracker = keras.metrics.Mean(name="label_loss")
        self.label_accuracy_tracker = keras.metrics.Mean(name="label_accuracy")
        self.built = True

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
        labels = self._training_labels(y)
        logits = self._decode_logits(y_pred["z"], labels, training=training)
        reconstruction = ops.mean(self.reconstruction_loss(x, logits))
        log_var = 2.0 * ops.log(y_pred["z_std"])
        kl = ops.mean(losses.gaussian_kl(y_pred["z_mean"], log_var))
        head = y_pred["label_logits"]
        label_loss = ops.mean(
            networks.label_cross_entropy(head, labels, self.label_type)
        )
        self.reconstruction_tracker.update_state(reconstruction)
        self.kl_tracker.update_state(kl)
        self.label_loss_tracker.update_state(label_loss)
        self.label_accuracy_tracker.update_state(
            networks.label_accuracy(head, labels, self.label_type)
        )
        return reconstruction + self.beta * kl + self.label_weight * label_loss

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "image_shape": list(self.image_shape),
                "attribute_names": list(self.attribute_names),
                "label_type": self.label_type,
                "latent_dim": self.latent_dim,
                "architecture": self.architecture,
                "filters": list(self.filters),
                "hidden_units": list(self.hidden_units),
                "decoder_distribution": self.decoder_distribution,
                "decoder_sigma": self.decoder_sigma,
                "beta": self.beta,
                "label_weight": self.label_weight,
                "seed": self.seed,
            }
        )
        return config

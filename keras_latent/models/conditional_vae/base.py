"""What the conditional autoencoders share: labels, the encoder and decoder's
tensor maths, and the NumPy inference API.

`CVAE` and `IFcVAEGAN` (with its baseline `CVAEGAN`) have the same encoder
(q(z|x) and a label head) and the same decoder D(z, y); they differ only in
how they train. `ConditionalAutoencoder` holds everything else once, so the
models edit and sample in exactly the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import keras
import numpy as np
from keras import ops

from keras_latent.models.conditional_vae import networks
from keras_latent.utils.inputs import (
    check_int,
    predict_in_batches,
    standard_normal_latents,
    standardize_images,
    validate_batch_size,
    validate_images,
    validate_latents,
    validate_seed,
)
from keras_latent.utils.labels import (
    LabelsMixin,
    attribute_name_list,
)


def positive_ints(values, argument: str) -> tuple:
    """`values` as a non-empty tuple of positive ints (layer sizes)."""
    if isinstance(values, (int, np.integer, str)) or not len(values):
        raise ValueError(
            f"`{argument}` must be a non-empty sequence of positive ints. "
            f"Received: {values!r}"
        )
    return tuple(check_int(v, argument, minimum=1) for v in values)


def numeric_array(values, argument: str) -> np.ndarray:
    """`values` (a list, an array or a tensor) as a numeric NumPy array."""
    try:
        if isinstance(values, (list, tuple)):
            array = np.asarray(values)
        else:
            array = np.asarray(keras.ops.convert_to_numpy(values))
    except (TypeError, ValueError, RuntimeError):
        array = None
    if array is None or array.dtype.kind not in "biuf":
        raise ValueError(
            f"`{argument}` must be a numeric array of label vectors. "
            f"Received: {values!r}"
        )
    return array


class ConditionalAutoencoder(LabelsMixin):
    """Mixin: a labelled encoder, a conditional decoder and their inference.

    The model calls `_build_autoencoder` in its constructor, after checking
    `label_type` and `architecture`; it sets the shared attributes and
    builds `encoder`, `decoder`, the `label_prior` weight (the training
    label marginals) and `seed_generator`. The mixin then gives `fit` and
    `evaluate` (labels checked, marginals recorded), `call` (the encoder's
    outputs) and the NumPy inference methods `encode`, `predict_attributes`,
    `decode`, `reconstruct`, `transform` and `generate`.
    """

    def _build_autoencoder(
        self,
        image_shape: Sequence[int],
        attribute_names: Sequence[str],
        label_type: str,
        latent_dim: int,
        architecture: str,
        filters: Sequence[int],
        hidden_units: Sequence[int],
        seed: int | None,
    ) -> None:
        """Checks the shared arguments, then builds the shared state."""
        self.image_shape = positive_ints(image_shape, "image_shape")
        self.attribute_names = attribute_name_list(attribute_names)
        self.label_type = label_type
        self.label_dim = len(self.attribute_names)
        self.latent_dim = check_int(latent_dim, "latent_dim", minimum=1)
        self.architecture = architecture
        self.filters = positive_ints(filters, "filters")
        self.hidden_units = positive_ints(hidden_units, "hidden_units")
        self.seed = validate_seed(seed)

        sizes = (self.hidden_units, self.filters)
        self.encoder = networks.build_encoder(
            architecture, self.image_shape, self.latent_dim, self.label_dim, *sizes
        )
        self.decoder = networks.build_decoder(
            architecture, self.image_shape, self.latent_dim, self.label_dim, *sizes
        )
        self.label_prior = self.add_weight(
            shape=(self.label_dim,),
            initializer=keras.initializers.Constant(
                1.0 / self.label_dim if label_type == "categorical" else 0.5
            ),
            trainable=False,
            name="label_prior",
        )
        self.seed_generator = keras.random.SeedGenerator(self.seed)

    def _autoencoder_config(self) -> dict:
        """The shared arguments, for `get_config`."""
        return {
            "image_shape": list(self.image_shape),
            "attribute_names": list(self.attribute_names),
            "label_type": self.label_type,
            "latent_dim": self.latent_dim,
            "architecture": self.architecture,
            "filters": list(self.filters),
            "hidden_units": list(self.hidden_units),
        }

    @property
    def known_attributes(self) -> list:
        """The attributes `generate` and `transform` take by name."""
        return list(self.attribute_names)

    # -- labels in training -------------------------------------------------------

    def fit(self, x=None, y=None, *args, **kwargs):
        """As `keras.Model.fit`, on images `x` and labels `y` (class doc).

        Array labels are checked first and set the label marginals (see
        `set_label_prior`); a dataset must yield `(images, labels)`.
        """
        if y is None and hasattr(x, "shape"):
            raise ValueError(
                f"{type(self).__name__} trains on images and labels: pass "
                f"`fit(x, y)` with `y` labels for {self.attribute_names}."
            )
        if y is not None:
            y = self._label_matrix(y)
            if isinstance(x, np.ndarray):
                # Before the marginals change: bad images must leave the
                # model as it was.
                validate_images(x, self.image_shape, argument="x")
            self.set_label_prior(y)
        return super().fit(x, y, *args, **kwargs)

    def evaluate(self, x=None, y=None, *args, **kwargs):
        """As `keras.Model.evaluate`, on images `x` and labels `y`."""
        if y is not None:
            y = self._label_matrix(y)
        return super().evaluate(x, y, *args, **kwargs)

    def _training_labels(self, y):
        """The batch's labels as float32 `(batch, K)` tensors."""
        if y is None:
            raise ValueError(
                f"{type(self).__name__} trains on (images, labels): the data "
                "holds no labels. Pass `fit(x, y)` with labels for "
                f"{self.attribute_names}."
            )
        labels = ops.convert_to_tensor(y)
        if len(labels.shape) == 1:
            labels = ops.one_hot(ops.cast(labels, "int32"), self.label_dim)
        if labels.shape[-1] != self.label_dim:
            raise ValueError(
                f"Labels `y` must have {self.label_dim} columns, one per "
                f"attribute in {self.attribute_names}. Received shape "
                f"{tuple(labels.shape)}."
            )
        return ops.cast(labels, "float32")

    # -- the networks (backend tensors, with gradients) ---------------------------

    def _encode(self, images, training: bool = False):
        """`(mean, std, label_logits)` of `images`, float32 tensors."""
        validate_images(images, self.image_shape)
        # Networks compute in the dtype policy's dtype (bfloat16 under mixed
        # precision); the model's own math stays float32.
        outputs = ops.cast(self.encoder(images, training=training), "float32")
        return networks.split_encoder_outputs(outputs, self.latent_dim)

    def _decode_logits(self, z, labels, training: bool = False):
        inputs = ops.concatenate(
            [ops.cast(z, "float32"), ops.cast(labels, "float32")], axis=-1
        )
        return ops.cast(self.decoder(inputs, training=training), "float32")

    def _decode(self, z, labels, training: bool = False):
        """The decoder's mean image in [0, 1], `(batch, H, W, C)`."""
        return ops.sigmoid(self._decode_logits(z, labels, training=training))

    def call(self, images, training: bool = False):
        """The encoder's outputs for `images`, as a dict of tensors.

        `z` is a posterior sample when training, else the mean. The decoder
        runs in the losses, the only place that sees the labels.
        """
        mean, std, label_logits = self._encode(images, training=training)
        z = mean
        if training:
            noise = keras.random.normal(ops.shape(mean), seed=self.seed_generator)
            z = mean + std * noise
        return {"z": z, "z_mean": mean, "z_std": std, "label_logits": label_logits}

    # -- the exported graphs (backend tensors; `keras_latent.export`) --------------

    @property
    def noise_dim(self) -> int:
        """The width of the standard normal noise `generator_graph` reads."""
        return self.latent_dim

    def generator_graph(self, noise, labels):
        """D(z, y): images in [0, 1] from z ~ N(0, I) and label vectors.

        What `generate` runs, and what `keras_latent.export` exports: Keras
        layers and `keras.ops` only, on backend tensors or inside traced
        graphs.

        Args:
            noise: float32 tensor `(batch, noise_dim)`.
            labels: float32 tensor `(batch, K)` in the order of
                `attribute_names` (one-hot rows for categorical labels).

        Returns:
            A float32 tensor `(batch, H, W, C)` in [0, 1].
        """
        return self._decode(noise, labels)

    def edit_graph(self, images, labels):
        """D(μ(x), y): `images` decoded from their posterior mean with `labels`.

        What `transform` runs for label vectors (a dict of attributes first
        reads the others from the label head), and what
        `keras_latent.export` exports.

        Args:
            images: float32 tensor `(batch, H, W, C)` in [0, 1].
            labels: float32 tensor `(batch, K)`: every target label, in the
                order of `attribute_names`.

        Returns:
            A float32 tensor `(batch, H, W, C)` in [0, 1].
        """
        return self._decode(self._encode(images)[0], labels)

    # -- inference: NumPy in, float32 NumPy out, on every backend ------------------

    def encode(self, images, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
        """The posterior `(mean, std)` of q(z|x) for `images`, as `VAE.encode`.

        Args:
            images: `(N, H, W, C)` floats in [0, 1], uint8 images (divided by
                255), or a list of images.
            batch_size: int. Defaults to `256`.

        Returns:
            Two float32 NumPy arrays `(N, latent_dim)`: mean and std.
        """
        images = standardize_images(images, self.image_shape)
        stats = predict_in_batches(
            lambda x: ops.concatenate(self._encode(x)[:2], axis=-1),
            images,
            batch_size,
        )
        return stats[:, : self.latent_dim], stats[:, self.latent_dim :]

    def predict_attributes(self, images, batch_size: int = 256) -> np.ndarray:
        """The label head's probabilities for `images`.

        Args:
            images: `(N, H, W, C)` floats in [0, 1], uint8 images (divided by
                255), or a list of images.
            batch_size: int. Defaults to `256`.

        Returns:
            A float32 NumPy array `(N, K)` in the order of `attribute_names`:
            softmax rows for categorical labels, else one probability each.
        """
        images = standardize_images(images, self.image_shape)
        return predict_in_batches(self._probabilities, images, batch_size)

    def _probabilities(self, images):
        return networks.label_probabilities(self._encode(images)[2], self.label_type)

    def _mean_and_probabilities(self, images):
        """`concat[μ(x), ŷ(x)]` from one pass of the encoder."""
        mean, _, label_logits = self._encode(images)
        probabilities = networks.label_probabilities(label_logits, self.label_type)
        return ops.concatenate([mean, probabilities], axis=-1)

    def decode(self, z, labels, batch_size: int = 256) -> np.ndarray:
        """The decoder's mean image in [0, 1] for latents `z` and `labels`.

        Args:
            z: latents `(N, latent_dim)`, an array or a tensor.
            labels: label vectors `(K,)` (the same for every z) or `(N, K)`,
                in the order of `attribute_names`. Values in [0, 1]: 0/1
                labels, or soft ones to blend attributes.
            batch_size: int. Defaults to `256`.

        Returns:
            A float32 NumPy array `(N, H, W, C)` in [0, 1].
        """
        z = validate_latents(z, self.latent_dim)
        labels = self._soft_labels(labels, len(z))
        return predict_in_batches(self._decode, (z, labels), batch_size)

    def _soft_labels(self, labels, num: int) -> np.ndarray:
        """`decode`'s labels checked: `(num, K)` float32 in [0, 1]."""
        k = self.label_dim
        array = numeric_array(labels, "labels")
        if array.shape not in ((k,), (num, k)):
            raise ValueError(
                f"`labels` must have shape ({k},) or ({num}, {k}), one column "
                f"per attribute in {self.attribute_names}. Received shape "
                f"{array.shape}."
            )
        array = np.array(np.broadcast_to(array, (num, k)), "float32")
        if not (np.all(np.isfinite(array)) and array.min() >= 0 and array.max() <= 1):
            raise ValueError("`labels` must hold values in [0, 1].")
        return array

    def reconstruct(self, images, batch_size: int = 256) -> np.ndarray:
        """Decodes `images` with the labels the label head reads from them.

        z is the posterior mean; the labels are the head's prediction,
        binarised (the argmax class, or each attribute at > 0.5).

        Args:
            images: `(N, H, W, C)` floats in [0, 1], uint8 images (divided by
                255), or a list of images.
            batch_size: int. Defaults to `256`.

        Returns:
            A float32 NumPy array `(N, H, W, C)` in [0, 1].
        """
        return self._edit(images, {}, batch_size)

    def transform(self, images, attributes, batch_size: int = 256) -> np.ndarray:
        """Edits `images` to have `attributes`: decodes μ(x) with new labels.

        Args:
            images: `(N, H, W, C)` floats in [0, 1], uint8 images (divided by
                255), or a list of images.
            attributes: a dict of name → 0/1: only those attributes change,
                the others keep the label head's reading of each image (for
                categorical labels `{"7": 1}` sets the class; `{"7": 0}`
                moves a 7 to its next most likely class). Or 0/1 label
                vectors `(K,)` or `(N, K)`, which replace every label.
            batch_size: int. Defaults to `256`.

        Returns:
            A float32 NumPy array `(N, H, W, C)` in [0, 1].
        """
        if attributes is None:
            raise ValueError(
                "`transform` needs `attributes`: a dict such as "
                f"{{'{self.attribute_names[0]}': 1}} or label vectors. To "
                "decode with the image's own labels, use `reconstruct`."
            )
        return self._edit(images, attributes, batch_size)

    def _edit(self, images, attributes, batch_size: int) -> np.ndarray:
        """μ(x) decoded with the head's binarised labels, `attributes` set."""
        batch_size = validate_batch_size(batch_size)
        images = standardize_images(images, self.image_shape)
        # Every check runs before the networks do.
        if not isinstance(attributes, Mapping):
            labels = self._label_array(attributes, len(images))
            return predict_in_batches(self.edit_graph, (images, labels), batch_size)
        targets = self._target_dict(attributes)
        excluded = self._excluded_classes(targets)
        stats = predict_in_batches(self._mean_and_probabilities, images, batch_size)
        read = networks.binarize(stats[:, self.latent_dim :], self.label_type, excluded)
        labels = self._apply_targets(read, targets)
        mean = stats[:, : self.latent_dim]
        return predict_in_batches(self._decode, (mean, labels), batch_size)

    def generate(
        self,
        attributes=None,
        num_samples: int = 16,
        seed: int | None = None,
        batch_size: int = 256,
    ) -> np.ndarray:
        """Generates images with the asked-for attributes from z ~ N(0, I).

        Args:
            attributes: a dict of name → 0/1 (names left out are drawn from
                the training marginals), 0/1 label vectors `(K,)` or
                `(num_samples, K)` (one-hot rows for categorical labels), or
                `None` (every label drawn). Defaults to `None`.
            num_samples: int. Defaults to `16`.
            seed: int in [0, 2**31 - 1] or None. The same seed gives the
                same images on one backend (backends draw different numbers);
                `None` draws from the model's own seed generator. Defaults to
                `None`.
            batch_size: int. Defaults to `256`.

        Returns:
            A float32 NumPy array `(num_samples, H, W, C)` in [0, 1].
        """
        batch_size = validate_batch_size(batch_size)
        labels = self.label_vectors(attributes, num_samples, seed)
        z = standard_normal_latents(
            num_samples, self.latent_dim, seed, self.seed_generator
        )
        z = keras.ops.convert_to_numpy(z)
        return predict_in_batches(self.generator_graph, (z, labels), batch_size)

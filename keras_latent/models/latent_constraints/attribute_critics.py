"""Attribute critics D_attr(z): training them, the data they read, lookups.

An attribute critic judges attributes from a latent alone. It learns from
z ~ q(z|x) of labelled images with the VAE frozen, which is how a user
teaches the model a new attribute from their own images; the newest critic
that judges a name is the one used (docs/models.md, "Latent Constraints").
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import keras
import numpy as np
from keras import ops

from keras_latent import optimizers
from keras_latent.models.latent_constraints.networks import (
    AttributeCritic,
    LatentAttributeClassifier,
    critic_probabilities,
    latent_mlp,
)
from keras_latent.utils.inputs import (
    check_choice,
    predict_in_batches,
    standardize_images,
    validate_batch_size,
)
from keras_latent.utils.labels import (
    LABEL_TYPES,
    attribute_name_list,
    check_label_matrix,
)

NO_CRITIC_MESSAGE = (
    "This model has no attribute critic yet: train one with "
    "`fit_attribute_critic(images, labels, attribute_names)`."
)


def encode_posteriors(vae, images, batch_size: int = 256, argument: str = "images"):
    """The encoder's `{"z_mean", "z_std"}` for `images`, as NumPy arrays.

    Args:
        vae: the frozen `keras_latent.models.VAE`.
        images: images in [0, 1] (uint8 is divided by 255), an array or a list.
        batch_size: int. Defaults to `256`.
        argument: str. The argument's name, for errors. Defaults to `"images"`.
    """
    images = standardize_images(images, vae.image_shape, argument)
    # The VAE's tensor path (its public `encode` would check images again).
    stats = predict_in_batches(
        lambda x: ops.concatenate(vae._encode(x), axis=-1), images, batch_size
    )
    return {
        "z_mean": stats[:, : vae.latent_dim],
        "z_std": stats[:, vae.latent_dim :],
    }


def as_posteriors(vae, x, argument: str) -> Mapping:
    """`x` as posteriors: the dict from `encode_posteriors`, or images."""
    if isinstance(x, Mapping):
        return x
    return encode_posteriors(vae, x, argument=argument)


def latent_training_arrays(vae, x, y, names, label_type, argument=None):
    """`(posteriors, labels)` from `fit_attribute_critic`'s forms of data.

    `x` is images, the dict from `encode_posteriors`, or an iterable of
    `(images, labels)` batches (a `tf.data.Dataset`) with `y=None`. Errors
    name `x` and `y`, or `{argument}[0]` and `{argument}[1]`.
    """
    x_name, y_name = (
        ("x", "y") if argument is None else (f"{argument}[0]", f"{argument}[1]")
    )
    if isinstance(x, (str, os.PathLike)):
        # Models never read files: the datasets package does.
        raise ValueError(
            f"`{x_name}` is a path ({os.fspath(x)!r}); `fit_attribute_critic` "
            "takes arrays, not files. Load the folder first, then pass the "
            "images in [0, 1] and the labels:\n"
            "    images, labels, _ = keras_latent.datasets.image_folder_arrays(\n"
            f"        folder, labels_csv, attributes={list(names)!r}, "
            f"image_size={vae.image_shape[0]}\n"
            "    )\n"
            "    model.fit_attribute_critic(images / 255, labels, "
            f"{list(names)!r})"
        )
    if not isinstance(x, Mapping) and not hasattr(x, "shape"):
        # A tf.data.Dataset (or any iterable) of (images, labels) batches.
        images, labels = [], []
        for batch_x, batch_y in x:
            images.append(keras.ops.convert_to_numpy(batch_x))
            labels.append(keras.ops.convert_to_numpy(batch_y))
        if not images:
            raise ValueError(f"`{x_name}` yielded no (images, labels) batches.")
        x, y = np.concatenate(images), np.concatenate(labels)
    if y is None:
        raise ValueError(
            f"`{y_name}` is required unless `{x_name}` yields (images, labels)."
        )
    y = np.asarray(keras.ops.convert_to_numpy(y), dtype="float32")
    if y.ndim == 1 and len(names) == 1:
        y = y[:, None]
    y = check_label_matrix(y, names, y_name, label_type)
    posteriors = as_posteriors(vae, x, x_name)
    if len(posteriors["z_mean"]) != len(y):
        raise ValueError(
            f"`{x_name}` has {len(posteriors['z_mean'])} examples but "
            f"`{y_name}` has {len(y)}."
        )
    return dict(posteriors), y


def _compile_trainer(trainer, label_type: str, learning_rate: float) -> None:
    categorical = label_type == "categorical"
    trainer.compile(
        # Keras's Adam, updated in place on torch (Keras's stock trainer).
        optimizer=optimizers.Adam(learning_rate),
        loss=keras.losses.CategoricalCrossentropy(from_logits=True)
        if categorical
        else keras.losses.BinaryCrossentropy(from_logits=True),
        metrics=[
            keras.metrics.CategoricalAccuracy(name="accuracy")
            if categorical
            else keras.metrics.BinaryAccuracy(name="accuracy", threshold=0.0)
        ],
    )


class AttributeCriticsMixin:
    """The attribute critics of `LatentConstraints`.

    Reads the model's `vae`, `latent_dim`, `seed`, `attribute_names`,
    `label_prior`, `label_type`, and keeps `attribute_critic_specs` (the
    config of each critic) next to `attribute_critic_networks`.
    """

    @property
    def known_attributes(self) -> list[str]:
        """Every attribute name an attribute critic can judge, newest last."""
        seen = []
        for spec in self.attribute_critic_specs:
            seen += [n for n in spec["attribute_names"] if n not in seen]
        return seen

    def _add_attribute_critic(self, names, hidden_units, label_type):
        names = attribute_name_list(names)
        check_choice("label_type", label_type, LABEL_TYPES)
        network = latent_mlp(
            self.latent_dim,
            tuple(int(u) for u in hidden_units),
            len(names),
            name=f"attribute_critic_{len(self.attribute_critic_networks)}",
        )
        network.trainable = False
        self.attribute_critic_specs.append(
            {
                "attribute_names": names,
                "hidden_units": [int(u) for u in hidden_units],
                "label_type": label_type,
            }
        )
        self.attribute_critic_networks.append(network)
        return network

    def fit_attribute_critic(
        self,
        x,
        y,
        attribute_names: Sequence[str],
        label_type: str = "multi_label",
        hidden_units: Sequence[int] = (512, 512),
        epochs: int = 10,
        batch_size: int = 128,
        learning_rate: float = 1e-3,
        validation_data=None,
        patience: int | None = 3,
        verbose: int | str = "auto",
    ) -> keras.callbacks.History:
        """Trains a new attribute critic D_attr(z) on labelled images.

        The VAE stays frozen: the critic learns from the encoder's latents of
        `x`, so any labelled images (a user's own) teach the model a new
        attribute, usable by name in `transform(method="optimize")`,
        `generate` and `satisfies`. A name already known is taken over by the
        new critic.

        Args:
            x: images `(N, H, W, C)` (floats in [0, 1], or uint8 divided by
                255; float NumPy images outside [0, 1] raise a ValueError),
                the dict from `encode_posteriors`, or a `tf.data.Dataset` of
                `(images, labels)` batches. A folder of images is read with
                `keras_latent.datasets.image_folder_arrays` first (a path
                raises a ValueError that shows how).
            y: labels `(N, K)` in the order of `attribute_names`, 0/1 with
                1 = present (one-hot for `"categorical"`; other values raise
                a ValueError: convert ±1 labels with `(y + 1) // 2`); `None`
                when `x` is a dataset.
            attribute_names: sequence of str. Names of the K columns; a
                single string is one name (`"Bangs"` is `["Bangs"]`).
            label_type: `"multi_label"` or `"categorical"`. Defaults to
                `"multi_label"`.
            hidden_units: sequence of int. Defaults to `(512, 512)`.
            epochs: int. Defaults to `10`.
            batch_size: int. Defaults to `128`.
            learning_rate: float. Adam learning rate. Defaults to `1e-3`.
            validation_data: `(x, y)` in the same forms, or `None`. Defaults
                to `None`.
            patience: int or None. With `validation_data`, stop once the
                validation loss has not improved for this many epochs and keep
                the best epoch's weights (a critic on a few thousand latents
                overfits within a few epochs); `None` trains every epoch.
                Defaults to `3`.
            verbose: passed to `fit`. Defaults to `"auto"`.

        Returns:
            The `History` of the critic's `fit`.

        Example:

        ```python
        images, labels = my_labelled_faces()  # labels: (N, 1) 0/1
        model.fit_attribute_critic(images, labels, ["Wearing_Lipstick"])
        edited = model.transform(faces, {"Wearing_Lipstick": 1}, method="optimize")
        ```
        """
        names = attribute_name_list(attribute_names)
        check_choice("label_type", label_type, LABEL_TYPES)
        batch_size = validate_batch_size(batch_size)
        x, y = latent_training_arrays(self.vae, x, y, names, label_type)
        network = latent_mlp(
            self.latent_dim, tuple(int(u) for u in hidden_units), len(names), "new"
        )
        trainer = LatentAttributeClassifier(
            network, seed=self.seed, name="attribute_critic_trainer"
        )
        _compile_trainer(trainer, label_type, learning_rate)
        callbacks = []
        if validation_data is not None:
            validation_data = latent_training_arrays(
                self.vae, *validation_data, names, label_type, "validation_data"
            )
            if patience is not None:
                callbacks.append(
                    keras.callbacks.EarlyStopping(
                        patience=patience, restore_best_weights=True
                    )
                )
        history = trainer.fit(
            x,
            y,
            epochs=epochs,
            batch_size=batch_size,
            shuffle=True,
            validation_data=validation_data,
            callbacks=callbacks,
            verbose=verbose,
        )
        critic = self._add_attribute_critic(names, hidden_units, label_type)
        critic.set_weights(network.get_weights())
        return history

    def _critic_for(self, name) -> AttributeCritic:
        """The newest attribute critic judging `name`, and its column."""
        for spec, network in zip(
            reversed(self.attribute_critic_specs),
            reversed(self.attribute_critic_networks),
        ):
            if name in spec["attribute_names"]:
                column = spec["attribute_names"].index(name)
                return AttributeCritic(network, column, spec["label_type"])
        if name in self.attribute_names:
            raise ValueError(
                f"No attribute critic judges {name!r} yet: the optimisation "
                "(`transform`'s default method, and `generate` with attributes "
                "the actor does not condition on) needs one. Train it with "
                "`fit_attribute_critic`, or edit with `method='actor'`."
            )
        raise ValueError(
            f"Unknown attribute {name!r}. Attributes this model knows: "
            f"{self.known_attributes or self.attribute_names}. Teach it a new one "
            "with `fit_attribute_critic`."
        )

    def attribute_scores(
        self,
        inputs,
        attribute_names: Sequence[str] | None = None,
        batch_size: int = 256,
        latents: bool = False,
    ) -> dict:
        """Attribute critics' probabilities, a dict name → `(N,)` array.

        Args:
            inputs: images in [0, 1], or latents `(N, latent_dim)` with
                `latents=True`.
            attribute_names: names to score (a single string is one name);
                `None` scores every known one. Defaults to `None`.
            batch_size: int. Defaults to `256`.
            latents: bool. Whether `inputs` are latents. Defaults to `False`.

        Returns:
            A dict of float32 NumPy arrays `(N,)`, on every backend.
        """
        if isinstance(attribute_names, str):
            attribute_names = [attribute_names]
        names = list(attribute_names or self.known_attributes)
        if not self.attribute_critic_networks:
            raise ValueError(NO_CRITIC_MESSAGE)
        self._check_attribute_names(names)
        z = inputs if latents else self.encode_posteriors(inputs, batch_size)["z_mean"]
        z = np.asarray(keras.ops.convert_to_numpy(z), "float32")
        if z.ndim != 2 or z.shape[1] != self.latent_dim or not len(z):
            raise ValueError(
                f"`inputs` with `latents=True` must be latents of shape (N, "
                f"{self.latent_dim}), N >= 1. Received shape {z.shape}. Pass "
                "images with `latents=False`."
            )
        scores, outputs = {}, {}
        for name in names:
            network, column, label_type = self._critic_for(name)
            # One pass per critic network, however many of its columns are asked.
            if id(network) not in outputs:
                outputs[id(network)] = predict_in_batches(
                    lambda t, n=network, kind=label_type: critic_probabilities(
                        ops.cast(n(t), "float32"), kind
                    ),
                    z,
                    batch_size,
                )
            scores[name] = outputs[id(network)][:, column]
        return scores

    def _current_labels(self, z, batch_size, excluded=()):
        """The conditioning labels the attribute critics read from z.

        An attribute no critic judges takes its most common training value.
        Categorical labels never fall on an `excluded` class: the most likely
        of the others is taken.
        """
        known = [n for n in self.attribute_names if n in self.known_attributes]
        if not known and not self.attribute_critic_networks:
            raise ValueError(NO_CRITIC_MESSAGE)
        scores = (
            self.attribute_scores(z, known, batch_size, latents=True) if known else {}
        )
        prior = keras.ops.convert_to_numpy(self.label_prior)
        labels = np.stack(
            [
                scores[n] if n in scores else np.full(len(z), prior[i], "float32")
                for i, n in enumerate(self.attribute_names)
            ],
            axis=1,
        )
        if self.label_type == "categorical":
            labels[:, list(excluded)] = -np.inf
            return np.eye(labels.shape[1], dtype="float32")[labels.argmax(1)]
        return (labels > 0.5).astype("float32")

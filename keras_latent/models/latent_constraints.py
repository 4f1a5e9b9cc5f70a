"""Latent Constraints (Engel, Hoffman & Roberts 2017; SPEC §2), the flagship.

An unconditional VAE, frozen, is made conditional by players that live in its
latent space: a realism critic D(z, y), an actor G(z, y) that moves prior
samples to where D believes they are real faces with attributes y, and
attribute critics D_attr(z) that judge attributes alone and steer
identity-preserving edits by gradient descent in z.
"""

from __future__ import annotations

import difflib
import inspect
import os
from collections.abc import Callable, Mapping, Sequence

import keras
import numpy as np
from keras import layers, ops

from keras_latent import losses, optimizers
from keras_latent.layers import stacks
from keras_latent.losses import latent_distance
from keras_latent.models.vae import VAE
from keras_latent.presets import PresetMixin
from keras_latent.trainer import backends
from keras_latent.trainer.multi_player_model import MultiPlayerModel
from keras_latent.trainer.phase import Phase
from keras_latent.utils import keras_internals
from keras_latent.utils.inputs import (
    check_choice,
    predict_in_batches,
    standardize_images,
    validate_images,
    validate_num_samples,
)

LABEL_TYPES = ("multi_label", "categorical")
TRANSFORM_METHODS = ("actor", "optimize")
CONSTRAINT_SPACES = ("image", "latent")
# The keyword arguments `generate` and `transform` pass to the optimisation.
OPTIMIZE_OPTIONS = (
    "steps",
    "learning_rate",
    "attribute_weight",
    "realism_weight",
    "distance_weight",
    "constraint_weight",
    "threshold",
)


def conditional_mlp(
    latent_dim: int,
    label_dim: int,
    hidden_units: Sequence[int],
    label_embedding_dim: int,
    output_dim: int,
    name: str,
) -> keras.Model:
    """`[z, y] → output`: y enters through a Dense layer concatenated with z."""
    z = keras.Input((latent_dim,), name="z")
    y = keras.Input((label_dim,), name="y")
    hidden = layers.Concatenate()([z, layers.Dense(label_embedding_dim)(y)])
    for units in hidden_units:
        hidden = layers.Dense(units, activation="relu")(hidden)
    return keras.Model([z, y], layers.Dense(output_dim)(hidden), name=name)


def latent_mlp(
    latent_dim: int, hidden_units: Sequence[int], output_dim: int, name: str
) -> stacks.Sequential:
    stack = [keras.Input((latent_dim,))]
    stack += [layers.Dense(units, activation="relu") for units in hidden_units]
    stack.append(layers.Dense(output_dim))
    return stacks.Sequential(stack, name=name)


class _LatentAttributeClassifier(keras.Model):
    """Trains one attribute critic on posterior samples z ~ q(z|x).

    The data are posterior means and standard deviations, so every epoch sees
    fresh z without running the encoder again.
    """

    def __init__(self, critic, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.critic = critic
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=False):
        # Keras casts a mixed-precision model's inputs to 16 bits; the noise
        # and the sum stay float32 (TensorFlow does not mix float dtypes).
        mean = ops.cast(inputs["z_mean"], "float32")
        std = ops.cast(inputs["z_std"], "float32")
        if training:
            noise = keras.random.normal(ops.shape(mean), seed=self.seed_generator)
            mean = mean + std * noise
        return ops.cast(self.critic(mean, training=training), "float32")


@keras.saving.register_keras_serializable(package="keras_latent")
class LatentConstraints(PresetMixin, MultiPlayerModel):
    """Conditional generation and attribute edits in a frozen VAE's latent space.

    Training (`fit`) runs the actor-critic game of SPEC §2 on batches
    `(x, y)`: `x` is images in [0, 1] (encoded on the fly) or, much faster,
    the dict `{"z_mean", "z_std"}` that `encode_posteriors` returns for them
    once; `y` is the label vectors `(batch, K)` in the order of
    `attribute_names` (one-hot for `label_type="categorical"`).

    - **Realism critic** D(z, y), sigmoid cross-entropy: real for z ~ q(z|x)
      with its own y; fake for the actor's G(z ~ p(z), y) (a fraction
      `prior_fake_fraction` of them replaced by z ~ p(z) itself) and for real
      z with shuffled, mismatched labels. Plus a gradient penalty on
      real/fake interpolates. `critic_steps` updates per actor update.
    - **Actor** G(z, y): a gated residual `z' = (1 − g)·z + g·dz` trained to
      fool D while staying close to z: `−log D(z', y) + λ_dist·L_dist(z', z)`,
      `L_dist = mean log(1 + (z' − z)²) / σ̄_z²`.
    - **Attribute critics** D_attr(z) are trained separately on the encoder's
      latents with `fit_attribute_critic`, which is also how users add new
      attributes from their own labelled images.

    Call `compute_statistics(x, y)` before training: it sets σ̄_z (the mean
    encoder σ over the training set) and the label marginals that fill in
    attributes a user leaves out.

    Args:
        vae: a `keras_latent.models.VAE` (or its serialized config). It is
            frozen: no phase updates it.
        attribute_names: sequence of str. The attributes the actor and the
            realism critic condition on.
        label_type: `"multi_label"` (independent 0/1 attributes) or
            `"categorical"` (exactly one class, e.g. MNIST digits). Defaults
            to `"multi_label"`.
        critic_units: sequence of int. Hidden widths of D(z, y). Defaults to
            `(2048, 2048, 2048, 2048)` (the reference code).
        actor_units: sequence of int. Hidden widths of G(z, y). Defaults to
            `(2048, 2048, 2048, 2048)`.
        label_embedding_dim: int or None. Width of the Dense layer that embeds
            y; `None` uses the first hidden width. Defaults to `None`.
        attribute_critics: sequence of dicts `{"attribute_names",
            "hidden_units", "label_type"}` describing attribute critics to
            build (their weights come from training or a preset). Defaults to
            `()`; `fit_attribute_critic` appends to it.
        critic_steps: int. Critic updates per actor update. Defaults to `10`.
        gradient_penalty_weight: float. λ_gp. Defaults to `10.0`.
        distance_weight: float. λ_dist; `0` disables the distance penalty.
            Defaults to `0.1`.
        prior_fake_fraction: float in [0, 1]. Share of fakes that are prior
            samples rather than actor outputs. Defaults to `0.1`.
        mismatched_labels: bool. Whether real latents with shuffled labels
            are extra fakes. Defaults to `True`.
        seed: int or None. Seed of the model's noise. Defaults to `None`.

    Example:

    ```python
    model = keras_latent.from_preset("celeba_latent_constraints")
    faces = model.generate({"Smiling": 1, "Eyeglasses": 1}, num_samples=16)
    edited = model.transform(my_faces, {"Smiling": 1}, method="optimize")
    ```
    """

    def __init__(
        self,
        vae,
        attribute_names: Sequence[str],
        label_type: str = "multi_label",
        critic_units: Sequence[int] = (2048, 2048, 2048, 2048),
        actor_units: Sequence[int] = (2048, 2048, 2048, 2048),
        label_embedding_dim: int | None = None,
        attribute_critics: Sequence[Mapping] = (),
        critic_steps: int = 10,
        gradient_penalty_weight: float = 10.0,
        distance_weight: float = 0.1,
        prior_fake_fraction: float = 0.1,
        mismatched_labels: bool = True,
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if isinstance(vae, dict):
            vae = keras.saving.deserialize_keras_object(vae)
        if not isinstance(vae, VAE):
            raise ValueError(
                "`vae` must be a keras_latent.models.VAE (for example "
                f"`keras_latent.from_preset('celeba_vae')`). Received: {type(vae)}"
            )
        check_choice("label_type", label_type, LABEL_TYPES)
        names = _attribute_name_list(attribute_names)
        if not isinstance(critic_steps, int) or critic_steps < 1:
            raise ValueError(
                f"`critic_steps` must be a positive int. Received: {critic_steps!r}"
            )
        if not 0.0 <= float(prior_fake_fraction) <= 1.0:
            raise ValueError(
                "`prior_fake_fraction` must be in [0, 1]. "
                f"Received: {prior_fake_fraction!r}"
            )
        self.vae = vae
        self.vae.trainable = False
        self.latent_dim = vae.latent_dim
        self.attribute_names = names
        self.label_type = label_type
        self.critic_units = tuple(int(u) for u in critic_units)
        self.actor_units = tuple(int(u) for u in actor_units)
        self.label_embedding_dim = label_embedding_dim
        self.critic_steps = critic_steps
        self.gradient_penalty_weight = float(gradient_penalty_weight)
        self.distance_weight = float(distance_weight)
        self.prior_fake_fraction = float(prior_fake_fraction)
        self.mismatched_labels = bool(mismatched_labels)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

        self.latent_std = self.add_weight(
            shape=(self.latent_dim,),
            initializer="ones",
            trainable=False,
            name="latent_std",
        )
        self._build_conditional_players()
        self.attribute_critic_specs = []
        self.attribute_critic_networks = []
        for spec in attribute_critics:
            self._add_attribute_critic(
                spec["attribute_names"],
                spec["hidden_units"],
                spec.get("label_type", "multi_label"),
            )
        self.built = True

    # -- networks -----------------------------------------------------------------

    def _build_conditional_players(self):
        label_dim = len(self.attribute_names)
        embedding = self.label_embedding_dim or (self.critic_units or (64,))[0]
        self.label_prior = self.add_weight(
            shape=(label_dim,),
            initializer=keras.initializers.Constant(
                1.0 / label_dim if self.label_type == "categorical" else 0.5
            ),
            trainable=False,
            name="label_prior",
        )
        self.critic = conditional_mlp(
            self.latent_dim, label_dim, self.critic_units, embedding, 1, "critic"
        )
        self.actor = conditional_mlp(
            self.latent_dim,
            label_dim,
            self.actor_units,
            self.label_embedding_dim or (self.actor_units or (64,))[0],
            2 * self.latent_dim,
            "actor",
        )

    def _replace_conditional_players(self, names):
        """Builds a fresh actor, realism critic and label prior for `names`.

        Keras untracks only variables on `del`, so the old networks are
        untracked by hand, or their weights would still be counted, saved and
        expected on load. The attribute critics are tracked again after the
        new pair: Keras files sub-networks in weights files in the order they
        were tracked, which must be the order of a model built from the
        config.
        """
        attribute_critics = list(self.attribute_critic_networks)
        keras_internals.untrack(self, (self.critic, self.actor, *attribute_critics))
        del self.critic
        del self.actor
        del self.label_prior  # a variable: Keras untracks it itself
        self.attribute_names = names
        self._build_conditional_players()
        self.attribute_critic_networks = attribute_critics

    def _add_attribute_critic(self, names, hidden_units, label_type):
        names = _attribute_name_list(names)
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

    @property
    def image_shape(self) -> tuple:
        return self.vae.image_shape

    @property
    def known_attributes(self) -> list[str]:
        """Every attribute name an attribute critic can judge, newest last."""
        seen = []
        for spec in self.attribute_critic_specs:
            seen += [n for n in spec["attribute_names"] if n not in seen]
        return seen

    # -- training -----------------------------------------------------------------

    def players(self) -> dict:
        return {
            "critic": self.critic.trainable_variables,
            "actor": self.actor.trainable_variables,
        }

    def default_optimizers(self) -> dict:
        return {
            player: keras.optimizers.Adam(1e-4, beta_1=0.0, beta_2=0.9)
            for player in ("critic", "actor")
        }

    def build_phases(self) -> list[Phase]:
        return [
            Phase(
                "critic",
                "critic",
                self.critic_loss,
                repeat=self.critic_steps,
                metrics=("real_accuracy", "fake_accuracy", "gradient_penalty"),
            ),
            Phase("actor", "actor", self.actor_loss, metrics=("distance",)),
        ]

    def _unpack(self, data):
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        if y is None:
            raise ValueError(
                "LatentConstraints trains on `(x, y)`: pass the label vectors as "
                f"`y`, shape (batch, {len(self.attribute_names)}) in the order "
                f"{self.attribute_names}."
            )
        y = ops.cast(y, "float32")
        if len(y.shape) != 2 or y.shape[-1] != len(self.attribute_names):
            raise ValueError(
                f"`y` must have shape (batch, {len(self.attribute_names)}), one "
                f"column per attribute in {self.attribute_names}. Received shape "
                f"{tuple(y.shape)}."
            )
        return x, y

    def _posterior_sample(self, x):
        if isinstance(x, Mapping):
            mean, std = x["z_mean"], x["z_std"]
        else:
            validate_images(x, self.vae.image_shape, argument="x")
            mean, std = self.vae.encode(x)
        noise = keras.random.normal(ops.shape(mean), seed=self.seed_generator)
        return ops.cast(mean, "float32") + ops.cast(std, "float32") * noise

    def _prior(self, batch_size):
        return keras.random.normal(
            (batch_size, self.latent_dim), seed=self.seed_generator
        )

    def _critic_logits(self, z, y, training=False):
        return ops.cast(self.critic([z, y], training=training), "float32")

    def apply_actor(self, z, y, training: bool = False):
        """z' = (1 − g)·z + g·dz, the actor's gated residual step."""
        z = ops.convert_to_tensor(z, "float32")
        y = ops.convert_to_tensor(y, "float32")
        # The networks compute in the dtype policy's dtype (bfloat16 under
        # mixed precision); the model's own math stays float32.
        outputs = ops.cast(self.actor([z, y], training=training), "float32")
        delta, gate_logits = ops.split(outputs, 2, -1)
        gate = ops.sigmoid(gate_logits)
        return (1.0 - gate) * z + gate * delta

    def critic_loss(self, data, training=True):
        x, y = self._unpack(data)
        z_real = self._posterior_sample(x)
        batch_size = ops.shape(z_real)[0]
        z_prior = self._prior(batch_size)
        z_actor = ops.stop_gradient(self.apply_actor(z_prior, y, training=training))
        from_prior = keras.random.uniform(
            (batch_size, 1), seed=self.seed_generator
        ) < ops.cast(self.prior_fake_fraction, "float32")
        z_fake = ops.where(from_prior, z_prior, z_actor)

        real_logits = self._critic_logits(z_real, y, training=training)
        fake_logits = self._critic_logits(z_fake, y, training=training)
        fakes = [fake_logits]
        weights = [ops.ones_like(fake_logits)]
        if self.mismatched_labels:
            y_other = keras.random.shuffle(y, axis=0, seed=self.seed_generator)
            fakes.append(self._critic_logits(z_real, y_other, training=training))
            # A shuffle can hand an example labels equal to its own; those
            # pairs are real, so they must not count as fakes.
            differs = ops.max(ops.abs(y_other - y), axis=-1, keepdims=True) > 0.5
            weights.append(ops.cast(differs, "float32"))
        fake_logits_all = ops.concatenate(fakes, axis=0)
        fake_weights = ops.concatenate(weights, axis=0)
        fake_loss = ops.sum(
            fake_weights * losses.sigmoid_cross_entropy(fake_logits_all, 0.0)
        ) / ops.maximum(ops.sum(fake_weights), 1.0)
        loss = ops.mean(losses.sigmoid_cross_entropy(real_logits, 1.0)) + fake_loss

        epsilon = keras.random.uniform((batch_size, 1), seed=self.seed_generator)
        interpolates = epsilon * z_real + (1.0 - epsilon) * z_fake
        penalty = losses.gradient_penalty(
            lambda z: self._critic_logits(z, y, training=training), interpolates
        )
        loss = loss + self.gradient_penalty_weight * penalty
        logs = {
            "real_accuracy": ops.mean(ops.cast(real_logits > 0, "float32")),
            "fake_accuracy": ops.sum(
                fake_weights * ops.cast(fake_logits_all < 0, "float32")
            )
            / ops.maximum(ops.sum(fake_weights), 1.0),
            "gradient_penalty": penalty,
        }
        return loss, logs

    def actor_loss(self, data, training=True):
        x, y = self._unpack(data)
        batch_size = ops.shape(y)[0]
        z = self._prior(batch_size)
        z_new = self.apply_actor(z, y, training=training)
        logits = self._critic_logits(z_new, y, training=training)
        distance = ops.mean(latent_distance(z_new, z, self.latent_std))
        loss = ops.mean(losses.sigmoid_cross_entropy(logits, 1.0))
        loss = loss + self.distance_weight * distance
        return loss, {"distance": distance}

    # -- statistics of the training set --------------------------------------------

    def encode_posteriors(self, images, batch_size: int = 256) -> dict:
        """The encoder's `{"z_mean", "z_std"}` for `images`, as NumPy arrays.

        Pass the result as `x` to `fit` or `fit_attribute_critic` to train
        without running the encoder on every step.

        Args:
            images: float images in [0, 1] `(N, H, W, C)`, as an array or a
                list of images; uint8 images (0–255) are divided by 255.
                Float NumPy images outside [0, 1] raise a ValueError.
            batch_size: int. Defaults to `256`.

        Returns:
            A dict of float32 NumPy arrays `(N, latent_dim)`.
        """
        return self._encode_posteriors(images, batch_size)

    def _posteriors(self, x, argument: str) -> Mapping:
        """`x` as posteriors: the dict from `encode_posteriors`, or images."""
        if isinstance(x, Mapping):
            return x
        return self._encode_posteriors(x, argument=argument)

    def _encode_posteriors(self, images, batch_size=256, argument="images"):
        images = standardize_images(images, self.vae.image_shape, argument)
        stats = predict_in_batches(
            lambda x: ops.concatenate(self.vae.encode(x), axis=-1), images, batch_size
        )
        return {
            "z_mean": stats[:, : self.latent_dim],
            "z_std": stats[:, self.latent_dim :],
        }

    def compute_statistics(self, x, y=None) -> None:
        """Sets σ̄_z from the encoder over `x` and the label marginals from `y`.

        Args:
            x: images in [0, 1] `(N, H, W, C)` (uint8 is divided by 255) or
                the dict from `encode_posteriors`.
            y: 0/1 label vectors `(N, K)` in the order of `attribute_names`
                (one-hot for `label_type="categorical"`), or `None` to keep
                the current marginals. Defaults to `None`.
        """
        posteriors = self._posteriors(x, "x")
        self.latent_std.assign(np.mean(posteriors["z_std"], axis=0))
        if y is not None:
            y = self._check_label_matrix(y, self.attribute_names, "y", self.label_type)
            self.label_prior.assign(np.clip(y.mean(axis=0), 1e-3, 1.0 - 1e-3))

    def _check_label_matrix(self, y, names, argument, label_type):
        """`y` as float32 NumPy, checked to be 0/1 labels `(N, len(names))`."""
        y = np.asarray(keras.ops.convert_to_numpy(y), dtype="float32")
        if y.ndim != 2 or y.shape[1] != len(names):
            raise ValueError(
                f"`{argument}` must have shape (N, {len(names)}), one column per "
                f"attribute in {list(names)}. Received shape {y.shape}."
            )
        _check_binary_labels(y, argument)
        if label_type == "categorical":
            rows = np.flatnonzero(y.sum(axis=1) != 1.0)
            if len(rows):
                raise ValueError(
                    f"`{argument}` must be one-hot rows for categorical labels "
                    f"(exactly one 1 per row). Row {rows[0]} is {y[rows[0]]}."
                )
        return y

    # -- attribute critics ---------------------------------------------------------

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
                the dict from `encode_posteriors`, a `tf.data.Dataset` of
                `(images, labels)` batches, or a folder of images.
            y: labels `(N, K)` in the order of `attribute_names`, 0/1 with
                1 = present (one-hot for `"categorical"`; other values raise
                a ValueError: convert ±1 labels with `(y + 1) // 2`); `None`
                when `x` is a dataset; the labels CSV (a `filename` column
                and one column per attribute) when `x` is a folder. Images
                are centre-cropped and resized.
            attribute_names: sequence of str. Names of the K columns.
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
        names = _attribute_name_list(attribute_names)
        check_choice("label_type", label_type, LABEL_TYPES)
        x, y = self._latent_training_arrays(x, y, names, label_type)
        network = latent_mlp(
            self.latent_dim, tuple(int(u) for u in hidden_units), len(names), "new"
        )
        categorical = label_type == "categorical"
        trainer = _LatentAttributeClassifier(
            network, seed=self.seed, name="attribute_critic_trainer"
        )
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
        callbacks = []
        if validation_data is not None:
            validation_data = self._latent_training_arrays(
                *validation_data, names, label_type, argument="validation_data"
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

    def _latent_training_arrays(self, x, y, names, label_type, argument=None):
        """`(posteriors, labels)` from `fit_attribute_critic`'s forms of data.

        Errors name `x` and `y`, or `{argument}[0]` and `{argument}[1]`.
        """
        x_name, y_name = (
            ("x", "y") if argument is None else (f"{argument}[0]", f"{argument}[1]")
        )
        if isinstance(x, (str, os.PathLike)):
            from keras_latent.datasets import image_folder_arrays

            if y is None:
                raise ValueError(
                    "With a folder as `x`, `y` must be the labels CSV (a "
                    "`filename` column and one 0/1 column per attribute)."
                )
            images, labels, _ = image_folder_arrays(
                x, y, attributes=names, image_size=self.vae.image_shape[0]
            )
            x, y = images.astype("float32") / 255.0, labels
        elif not isinstance(x, Mapping) and not hasattr(x, "shape"):
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
        y = self._check_label_matrix(y, names, y_name, label_type)
        posteriors = self._posteriors(x, x_name)
        if len(posteriors["z_mean"]) != len(y):
            raise ValueError(
                f"`{x_name}` has {len(posteriors['z_mean'])} examples but "
                f"`{y_name}` has {len(y)}."
            )
        return dict(posteriors), y

    def fit_actor(
        self,
        x,
        y,
        attribute_names: Sequence[str] | None = None,
        epochs: int = 1,
        batch_size: int = 128,
        optimizer=None,
        **fit_kwargs,
    ) -> keras.callbacks.History:
        """(Re)trains the actor and realism critic, optionally on new attributes.

        With `attribute_names` different from the current ones, a fresh actor
        and realism critic conditioned on those attributes replace the old
        pair, so attributes taught with `fit_attribute_critic` become
        amortised too (one forward pass instead of an optimisation). The
        VAE and the attribute critics are kept.

        Args:
            x: images in [0, 1] (uint8 is divided by 255) or the dict from
                `encode_posteriors`.
            y: 0/1 label vectors `(N, K)` in the order of `attribute_names`
                (one-hot for `label_type="categorical"`).
            attribute_names: sequence of str or `None` (keep the current
                ones). Defaults to `None`.
            epochs: int. Defaults to `1`.
            batch_size: int. Defaults to `128`.
            optimizer: as for `compile`; `None` uses the reference Adam
                settings. Defaults to `None`.
            **fit_kwargs: passed to `fit`.

        Returns:
            The `History` of `fit`.
        """
        # Every check runs before the players are replaced.
        posteriors = self._posteriors(x, "x")
        if attribute_names is not None:
            names = _attribute_name_list(attribute_names)
            if names != self.attribute_names:
                self._check_label_matrix(y, names, "y", self.label_type)
                self._replace_conditional_players(names)
                self._phases = None
        y = self._check_label_matrix(y, self.attribute_names, "y", self.label_type)
        self.label_prior.assign(np.clip(y.mean(axis=0), 1e-3, 1.0 - 1e-3))
        self.compile(optimizer=optimizer)
        return self.fit(
            dict(posteriors), y, epochs=epochs, batch_size=batch_size, **fit_kwargs
        )

    # -- labels from users ---------------------------------------------------------

    def _critic_for(self, name):
        """`(network, column, label_type)` of the newest critic judging `name`."""
        for spec, network in zip(
            reversed(self.attribute_critic_specs),
            reversed(self.attribute_critic_networks),
        ):
            if name in spec["attribute_names"]:
                return network, spec["attribute_names"].index(name), spec["label_type"]
        raise ValueError(
            f"Unknown attribute {name!r}. Attributes this model knows: "
            f"{self.known_attributes or self.attribute_names}. Teach it a new one "
            "with `fit_attribute_critic`."
        )

    def _check_attribute_names(self, names):
        valid = set(self.attribute_names) | set(self.known_attributes)
        unknown = [n for n in names if n not in valid]
        if unknown:
            raise ValueError(
                f"Unknown attribute(s) {unknown}. Valid names: "
                f"{sorted(valid)}. Teach new ones with `fit_attribute_critic`."
            )

    def _target_dict(self, attributes) -> dict:
        if attributes is None:
            return {}
        if not isinstance(attributes, Mapping):
            raise ValueError(
                "`attributes` must be a dict of name → 0/1 (for example "
                f"{{'{self.attribute_names[0]}': 1}}). Received: {attributes!r}"
            )
        self._check_attribute_names(list(attributes))
        targets = {}
        for name, value in attributes.items():
            if value not in (0, 1, True, False):
                raise ValueError(
                    f"Attribute {name!r} must be set to 0 or 1. Received: {value!r}"
                )
            targets[str(name)] = float(value)
        if self.label_type == "categorical":
            on = [n for n, v in targets.items() if v == 1 and n in self.attribute_names]
            if len(on) > 1:
                raise ValueError(
                    f"This model's labels are categorical: set at most one of "
                    f"{self.attribute_names} to 1. Received: {on}"
                )
        return targets

    def _excluded_classes(self, targets) -> list[int]:
        """Categorical columns set to 0: labels must fall on another class."""
        if self.label_type != "categorical":
            return []
        excluded = [
            self.attribute_names.index(n)
            for n, v in targets.items()
            if v == 0 and n in self.attribute_names
        ]
        if len(excluded) == len(self.attribute_names):
            raise ValueError(
                "This model's labels are categorical: at least one of "
                f"{self.attribute_names} must stay possible. Received every "
                "class set to 0."
            )
        return excluded

    def _draw_labels(self, num_samples: int, rng: np.random.Generator, excluded=()):
        prior = keras.ops.convert_to_numpy(self.label_prior)
        if self.label_type == "categorical":
            # "Not a 7": draw among the other classes, by their marginals.
            prior = prior.astype("float64")
            prior[list(excluded)] = 0.0
            classes = rng.choice(len(prior), size=num_samples, p=prior / prior.sum())
            return np.eye(len(prior), dtype="float32")[classes]
        return (rng.random((num_samples, len(prior))) < prior).astype("float32")

    def _apply_targets(self, labels, targets):
        labels = labels.copy()
        for name, value in targets.items():
            if name not in self.attribute_names:
                continue
            column = self.attribute_names.index(name)
            if self.label_type == "categorical" and value == 1:
                labels[:] = 0.0
            labels[:, column] = value
        return labels

    def label_vectors(self, attributes, num_samples: int, seed=None) -> np.ndarray:
        """Full label vectors `(num_samples, K)` for the actor.

        `attributes` is a dict by name (names left out are drawn from the
        training marginals), a 0/1 array `(K,)` or `(num_samples, K)` (one-hot
        rows for categorical labels), or `None` (everything drawn).
        """
        validate_num_samples(num_samples)
        if isinstance(attributes, int) and not isinstance(attributes, bool):
            raise ValueError(
                "The first argument of `generate` is `attributes` (a dict such "
                f"as {{'{self.attribute_names[0]}': 1}}); received the int "
                f"{attributes}. To ask for a number of images, pass "
                f"`num_samples={attributes}`."
            )
        if attributes is not None and not isinstance(attributes, Mapping):
            return self._label_array(attributes, num_samples)
        targets = self._target_dict(attributes)
        rng = np.random.default_rng(seed)
        labels = self._draw_labels(num_samples, rng, self._excluded_classes(targets))
        return self._apply_targets(labels, targets)

    def _label_array(self, attributes, num_samples: int) -> np.ndarray:
        """Checks label vectors given as an array; returns `(num_samples, K)`."""
        k = len(self.attribute_names)
        example = f"{{'{self.attribute_names[0]}': 1}}"
        labels = None
        try:
            if isinstance(attributes, (set, frozenset)):
                # No order, so never label vectors; maybe names for the hint.
                labels = np.asarray(list(attributes), dtype=object)
            elif isinstance(attributes, (str, bytes, list, tuple)):
                labels = np.asarray(attributes)
            else:
                labels = np.asarray(keras.ops.convert_to_numpy(attributes))
        except (TypeError, ValueError, RuntimeError):
            pass
        if labels is None or labels.dtype.kind not in "biuf":
            names = []
            if labels is not None and labels.dtype.kind in "USO":
                names = [str(n) for n in labels.ravel() if isinstance(n, str)]
            hint = (
                f" To ask for attributes by name, pass a dict such as "
                f"{dict.fromkeys(names, 1)}."
                if names
                else ""
            )
            raise ValueError(
                f"`attributes` must be a dict of name → 0/1 (for example "
                f"{example}) or an array of 0/1 label vectors in the order of "
                f"{self.attribute_names}. Received: {attributes!r}.{hint}"
            )
        if labels.shape not in ((k,), (num_samples, k)):
            raise ValueError(
                f"`attributes` as an array must have shape ({k},) or "
                f"({num_samples}, {k}) for the attributes {self.attribute_names}."
                f" Received shape {labels.shape}. To set a few attributes by "
                f"name, pass a dict such as {example}."
            )
        labels = np.array(np.broadcast_to(labels, (num_samples, k)), "float32")
        return self._check_label_matrix(
            labels, self.attribute_names, "attributes", self.label_type
        )

    # -- inference ----------------------------------------------------------------

    def call(self, inputs, training: bool = False):
        """`[z, y] → images` in [0, 1]: the actor's move, then the decoder."""
        z, y = inputs
        return self.vae.decode(self.apply_actor(z, y, training=training))

    def encode(self, images, training: bool = False):
        """The frozen encoder's posterior `(mean, std)`."""
        return self.vae.encode(images, training=training)

    def decode(self, z, training: bool = False):
        """The frozen decoder's mean image in [0, 1]."""
        return self.vae.decode(z, training=training)

    def reconstruct(self, images, batch_size: int = 256) -> np.ndarray:
        """Decodes the posterior means of `images`; float32 in [0, 1].

        Args:
            images: float images in [0, 1] `(N, H, W, C)`, as an array or a
                list of images; uint8 images (0–255) are divided by 255.
                Float NumPy images outside [0, 1] raise a ValueError.
            batch_size: int. Defaults to `256`.
        """
        images = standardize_images(images, self.vae.image_shape)
        return self.vae.reconstruct(images, batch_size)

    def generate(
        self,
        attributes=None,
        num_samples: int = 16,
        seed: int | None = None,
        constraint: Callable | None = None,
        constraint_space: str = "image",
        batch_size: int = 256,
        return_latents: bool = False,
        **optimize_kwargs,
    ):
        """Generates images with the requested attributes.

        z ~ p(z) is moved by the actor G(z, y) and decoded. Attributes the
        actor does not condition on (ones taught with `fit_attribute_critic`)
        and a `constraint` are then enforced by the optimisation of
        `transform(method="optimize")`, starting from the actor's output.

        Args:
            attributes: dict of name → 0/1 (names left out are drawn from the
                training label marginals), an array `(K,)` or
                `(num_samples, K)` of label vectors in the order of
                `attribute_names`, or `None` (all drawn). Defaults to `None`.
            num_samples: int. Defaults to `16`.
            seed: int or None. The same seed gives the same images. Defaults
                to `None`.
            constraint: callable or None. A differentiable zero-shot
                constraint: maps decoded images (or latents, see
                `constraint_space`) to a per-example loss to minimise.
                Defaults to `None`.
            constraint_space: `"image"` or `"latent"`. Defaults to `"image"`.
            batch_size: int. Defaults to `256`.
            return_latents: bool. Also return the latents. Defaults to `False`.
            **optimize_kwargs: options of the optimisation, as for
                `transform` (`steps`, `learning_rate`, `attribute_weight`,
                `realism_weight`, `distance_weight`, `constraint_weight`,
                `threshold`). The optimisation runs only with a `constraint`
                or attributes the actor does not condition on; options given
                when it does not run raise a ValueError, as do unknown ones.

        Returns:
            float32 NumPy images `(num_samples, H, W, C)` in [0, 1], and the
            latents `(num_samples, latent_dim)` if `return_latents`.
        """
        num_samples = validate_num_samples(num_samples)
        labels = self.label_vectors(attributes, num_samples, seed)
        extra = {}
        if isinstance(attributes, Mapping):
            extra = {
                k: v
                for k, v in self._target_dict(attributes).items()
                if k not in self.attribute_names
            }
        optimize = bool(extra) or constraint is not None
        _check_optimize_options(
            "generate",
            optimize_kwargs,
            runs=optimize,
            when="with a `constraint`, or with `attributes` the actor does not "
            f"condition on (it conditions on {self.attribute_names})",
        )
        if optimize:
            check_choice("constraint_space", constraint_space, CONSTRAINT_SPACES)
        if seed is None:
            z = keras.random.normal(
                (num_samples, self.latent_dim), seed=self.seed_generator
            )
        else:
            z = keras.random.normal((num_samples, self.latent_dim), seed=seed)
        z = ops.convert_to_numpy(z)
        z_new = predict_in_batches(self.apply_actor, (z, labels), batch_size)
        if optimize:
            goal = {n: np.full(num_samples, v, "float32") for n, v in extra.items()}
            z_new = self._optimize_latents(
                z_new,
                labels,
                goal,
                constraint,
                constraint_space,
                batch_size,
                **optimize_kwargs,
            )
        images = predict_in_batches(self.vae.decode, z_new, batch_size)
        return (images, z_new) if return_latents else images

    def transform(
        self,
        images,
        attributes: Mapping,
        method: str = "actor",
        constraint: Callable | None = None,
        constraint_space: str = "image",
        batch_size: int = 256,
        return_latents: bool = False,
        **optimize_kwargs,
    ):
        """Edits `images` to have `attributes`, keeping the person's identity.

        z₀ is the posterior mean of each image. Attributes not named keep the
        value the attribute critics read from z₀.

        - `"actor"`: z' = G(z₀, y_target), one forward pass (amortised).
        - `"optimize"`: gradient descent on z from z₀ (SPEC §2): attribute
          critics' BCE towards the targets (weight 1), the realism critic's
          BCE towards "real" (weight 0.1), and λ_dist·L_dist(z, z₀), with
          Adam; each image stops once its critics all pass.

        Args:
            images: float images in [0, 1] `(N, H, W, C)`, as an array or a
                list of images; uint8 images (0–255) are divided by 255.
                Float NumPy images outside [0, 1] raise a ValueError (divide
                0–255 floats by 255; map [-1, 1] with `(images + 1) / 2`).
            attributes: dict of name → 0/1.
            method: `"actor"` or `"optimize"`. Defaults to `"actor"`.
            constraint: callable or None. An extra differentiable constraint
                (a per-example loss of the decoded images, or of z); with it,
                `"actor"` is followed by the optimisation. Defaults to
                `None`.
            constraint_space: `"image"` or `"latent"`. Defaults to `"image"`.
            batch_size: int. Defaults to `256`.
            return_latents: bool. Also return the edited latents. Defaults to
                `False`.
            **optimize_kwargs: options of the optimisation: `steps` (300),
                `learning_rate` (2e-2), `attribute_weight` (1.0),
                `realism_weight` (0.1), `distance_weight` (this model's
                λ_dist), `constraint_weight` (1.0), `threshold` (0.5). They
                apply with `method="optimize"` or a `constraint`; given to
                the plain actor, or unknown, they raise a ValueError.

        Returns:
            float32 NumPy images `(N, H, W, C)` in [0, 1] (and the latents).
        """
        check_choice("method", method, TRANSFORM_METHODS)
        check_choice("constraint_space", constraint_space, CONSTRAINT_SPACES)
        _check_optimize_options(
            "transform",
            optimize_kwargs,
            runs=method == "optimize" or constraint is not None,
            when='with `method="optimize"`, or with a `constraint` (which the '
            "optimisation enforces after the actor)",
        )
        targets = self._target_dict(attributes)
        if not targets and constraint is None:
            raise ValueError(
                "`transform` needs `attributes` to set (for example "
                f"{{'{self.attribute_names[0]}': 1}}) or a `constraint`."
            )
        z0 = self.encode_posteriors(images, batch_size)["z_mean"]
        if all(n in targets for n in self.attribute_names) or (
            self.label_type == "categorical"
            and any(targets.get(n) == 1.0 for n in self.attribute_names)
        ):
            # Every conditioning label is given: nothing to read from z₀.
            labels = np.zeros((len(z0), len(self.attribute_names)), "float32")
        else:
            labels = self._current_labels(
                z0, batch_size, self._excluded_classes(targets)
            )
        labels = self._apply_targets(labels, targets)
        n = len(z0)
        if method == "actor":
            extra = [k for k in targets if k not in self.attribute_names]
            if extra:
                raise ValueError(
                    f"The actor does not condition on {extra}; use "
                    "method='optimize', or retrain it with `fit_actor`."
                )
            z_new = predict_in_batches(self.apply_actor, (z0, labels), batch_size)
            if constraint is not None:
                z_new = self._optimize_latents(
                    z_new,
                    labels,
                    {},
                    constraint,
                    constraint_space,
                    batch_size,
                    anchor=z0,
                    **optimize_kwargs,
                )
        else:
            goal = {
                name: np.full(n, value, "float32") for name, value in targets.items()
            }
            z_new = self._optimize_latents(
                z0,
                labels,
                goal,
                constraint,
                constraint_space,
                batch_size,
                **optimize_kwargs,
            )
        edited = predict_in_batches(self.vae.decode, z_new, batch_size)
        return (edited, z_new) if return_latents else edited

    def _current_labels(self, z, batch_size, excluded=()):
        """The conditioning labels the attribute critics read from z.

        An attribute no critic judges takes its most common training value.
        Categorical labels never fall on an `excluded` class: the most likely
        of the others is taken.
        """
        known = [n for n in self.attribute_names if n in self.known_attributes]
        if not known and not self.attribute_critic_networks:
            raise ValueError(
                "This model has no attribute critic yet: train one with "
                "`fit_attribute_critic(images, labels, attribute_names)`."
            )
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
            attribute_names: names to score; `None` scores every known one.
                Defaults to `None`.
            batch_size: int. Defaults to `256`.
            latents: bool. Whether `inputs` are latents. Defaults to `False`.
        """
        names = list(attribute_names or self.known_attributes)
        if not self.attribute_critic_networks:
            raise ValueError(
                "This model has no attribute critic yet: train one with "
                "`fit_attribute_critic(images, labels, attribute_names)`."
            )
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
                    lambda t, n=network, kind=label_type: _critic_probabilities(
                        ops.cast(n(t), "float32"), kind
                    ),
                    z,
                    batch_size,
                )
            scores[name] = outputs[id(network)][:, column]
        return scores

    def satisfies(
        self,
        images,
        attributes: Mapping | None = None,
        threshold: float = 0.5,
        batch_size: int = 256,
    ) -> dict:
        """The critics' verdicts on `images` (posterior means), as booleans.

        Args:
            images: float images in [0, 1] `(N, H, W, C)`, as an array or a
                list of images; uint8 images (0–255) are divided by 255.
                Float NumPy images outside [0, 1] raise a ValueError.
            attributes: dict of name → 0/1, or `None` to ask about every
                known attribute. Defaults to `None`.
            threshold: float. The probability above which a critic says yes.
                Defaults to `0.5`.
            batch_size: int. Defaults to `256`.

        Returns:
            A dict: for each attribute in `attributes` (every known one if
            `None`), whether the image has the requested value (or, with no
            value requested, whether the attribute is present); and
            `"realism"`, whether D(z, y) calls the latent real for the labels
            the attribute critics read (with the requested values
            substituted). Each is a bool NumPy array `(N,)`.
        """
        targets = self._target_dict(attributes) if attributes else {}
        names = list(targets) or self.known_attributes
        z = self.encode_posteriors(images, batch_size)["z_mean"]
        scores = self.attribute_scores(z, names, batch_size, latents=True)
        verdicts = {}
        for name in names:
            present = scores[name] > threshold
            verdicts[name] = (
                present == bool(targets[name]) if name in targets else present
            )
        labels = self._current_labels(z, batch_size, self._excluded_classes(targets))
        labels = self._apply_targets(labels, targets)
        realism = predict_in_batches(
            lambda z, y: ops.sigmoid(self._critic_logits(z, y)), (z, labels), batch_size
        )[:, 0]
        verdicts["realism"] = realism > threshold
        return verdicts

    def _optimize_latents(
        self,
        z_start,
        labels,
        goal: Mapping,
        constraint,
        constraint_space,
        batch_size,
        anchor=None,
        steps: int = 300,
        learning_rate: float = 2e-2,
        attribute_weight: float = 1.0,
        realism_weight: float = 0.1,
        distance_weight: float | None = None,
        constraint_weight: float = 1.0,
        threshold: float = 0.5,
    ):
        """Adam on z (SPEC §2), batch by batch, with a per-example early stop."""
        if distance_weight is None:
            distance_weight = self.distance_weight
        anchor = z_start if anchor is None else anchor
        goal_names = list(goal)
        critics = [self._critic_for(name) for name in goal_names]
        latent_std = self.latent_std
        gradient_of = backends.current().input_gradients
        out = []
        for start in range(0, len(z_start), batch_size):
            stop = start + batch_size
            z = ops.convert_to_tensor(z_start[start:stop], "float32")
            z0 = ops.convert_to_tensor(anchor[start:stop], "float32")
            y = ops.convert_to_tensor(labels[start:stop], "float32")
            targets = [
                ops.convert_to_tensor(goal[n][start:stop], "float32")
                for n in goal_names
            ]

            def objective(z, z0=z0, y=y, targets=targets):
                realism_logits = self._critic_logits(z, y)[:, 0]
                loss = realism_weight * losses.sigmoid_cross_entropy(
                    realism_logits, 1.0
                )
                passed = realism_logits > float(np.log(threshold / (1 - threshold)))
                for (network, column, label_type), target in zip(critics, targets):
                    logits = ops.cast(network(z), "float32")
                    if label_type == "categorical":
                        log_p = ops.log_softmax(logits, axis=-1)[:, column]
                        loss = loss - attribute_weight * target * log_p
                        p = ops.exp(log_p)
                    else:
                        loss = loss + attribute_weight * losses.sigmoid_cross_entropy(
                            logits[:, column], target
                        )
                        p = ops.sigmoid(logits[:, column])
                    ok = ops.where(target > 0.5, p > threshold, p < threshold)
                    passed = ops.logical_and(passed, ok)
                if distance_weight:
                    loss = loss + distance_weight * latent_distance(z, z0, latent_std)
                if constraint is not None:
                    value = constraint(
                        self.vae.decode(z) if constraint_space == "image" else z
                    )
                    value = ops.reshape(ops.cast(value, "float32"), (-1,))
                    loss = loss + constraint_weight * ops.broadcast_to(
                        value, ops.shape(loss)
                    )
                return loss, passed

            m = ops.zeros_like(z)
            v = ops.zeros_like(z)
            active = ops.ones((ops.shape(z)[0], 1), "float32")
            for step in range(1, steps + 1):
                if constraint is None:
                    # A constraint has no pass mark, so only critics stop early.
                    passed = ops.convert_to_numpy(objective(z)[1])
                    active = active * ops.convert_to_tensor(
                        (~passed).astype("float32")[:, None]
                    )
                _, grad = gradient_of(lambda t: objective(t)[0], z)
                grad = ops.convert_to_tensor(ops.convert_to_numpy(grad))
                if not ops.convert_to_numpy(ops.any(active > 0)):
                    break
                m = 0.9 * m + 0.1 * grad
                v = 0.999 * v + 0.001 * ops.square(grad)
                m_hat = m / (1 - 0.9**step)
                v_hat = v / (1 - 0.999**step)
                z = z - active * learning_rate * m_hat / (ops.sqrt(v_hat) + 1e-8)
                z = ops.convert_to_tensor(ops.convert_to_numpy(z))
            out.append(ops.convert_to_numpy(z))
        return np.concatenate(out).astype("float32")

    # -- serialization ---------------------------------------------------------------

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vae": keras.saving.serialize_keras_object(self.vae),
                "attribute_names": list(self.attribute_names),
                "label_type": self.label_type,
                "critic_units": list(self.critic_units),
                "actor_units": list(self.actor_units),
                "label_embedding_dim": self.label_embedding_dim,
                "attribute_critics": [dict(s) for s in self.attribute_critic_specs],
                "critic_steps": self.critic_steps,
                "gradient_penalty_weight": self.gradient_penalty_weight,
                "distance_weight": self.distance_weight,
                "prior_fake_fraction": self.prior_fake_fraction,
                "mismatched_labels": self.mismatched_labels,
                "seed": self.seed,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["vae"] = keras.saving.deserialize_keras_object(config["vae"])
        return cls(**config)


def _attribute_name_list(attribute_names) -> list[str]:
    names = [str(n) for n in attribute_names]
    if not names or len(set(names)) != len(names):
        raise ValueError(
            "`attribute_names` must be a non-empty list of distinct names. "
            f"Received: {attribute_names!r}"
        )
    return names


def _critic_probabilities(logits, label_type):
    if label_type == "categorical":
        return ops.softmax(logits, axis=-1)
    return ops.sigmoid(logits)


def _check_binary_labels(y: np.ndarray, argument: str) -> None:
    """Raises a ValueError unless every value of the float array `y` is 0 or 1."""
    bad = y[(y != 0.0) & (y != 1.0)]
    if not bad.size:
        return
    values = np.unique(bad)
    shown = ", ".join(f"{v:g}" for v in values[:5]) + (
        ", ..." if len(values) > 5 else ""
    )
    hint = ""
    if np.all(values == -1.0) and not np.any(y == 0.0):
        hint = (
            " These look like -1/1 labels (the encoding of CelebA's official "
            f"attribute file): convert them with `({argument} + 1) // 2`."
        )
    raise ValueError(
        f"`{argument}` must hold 0/1 labels (1 = the attribute is present). "
        f"Received other values: {shown}.{hint}"
    )


def _check_optimize_options(method: str, options: Mapping, runs: bool, when: str):
    """Raises a ValueError for optimisation options that are unknown or unused.

    `runs` says whether this call optimises; `when` says when it would.
    """
    unknown = [k for k in options if k not in OPTIMIZE_OPTIONS]
    if unknown:
        own = [
            p.name
            for p in inspect.signature(
                getattr(LatentConstraints, method)
            ).parameters.values()
            if p.kind is p.POSITIONAL_OR_KEYWORD and p.name != "self"
        ]
        close = difflib.get_close_matches(unknown[0], OPTIMIZE_OPTIONS + tuple(own), 1)
        raise ValueError(
            f"`{method}` got unknown keyword argument(s) {unknown}. Its keyword "
            f"arguments are {own} and the optimisation's options "
            f"{list(OPTIMIZE_OPTIONS)}."
            + (f" Did you mean {close[0]!r}?" if close else "")
        )
    if options and not runs:
        raise ValueError(
            f"{sorted(options)} are options of the optimisation, which "
            f"`{method}` runs only {when}. This call does not optimise, so "
            "they would be ignored: drop them, or ask for the optimisation."
        )
    for name, value in options.items():
        _check_optimize_value(method, name, value)


def _check_optimize_value(method: str, name: str, value) -> None:
    """Raises a ValueError for an optimisation option that cannot work."""
    if name == "distance_weight" and value is None:
        return  # None: the model's own λ_dist
    number = isinstance(value, (int, float, np.integer, np.floating)) and not (
        isinstance(value, bool)
    )
    if name == "steps":
        valid, rule = number and value == int(value) and value >= 1, "an int >= 1"
    elif name == "learning_rate":
        valid, rule = number and value > 0, "a number > 0"
    elif name == "threshold":
        valid, rule = number and 0 < value < 1, "a number in (0, 1)"
    else:  # the loss weights
        valid, rule = number and value >= 0, "a number >= 0"
    if not valid:
        raise ValueError(
            f"`{method}`'s optimisation option `{name}` must be {rule}. "
            f"Received: {name}={value!r}"
        )

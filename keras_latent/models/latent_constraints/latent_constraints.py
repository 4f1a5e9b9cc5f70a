"""`LatentConstraints`: the model, its players and the actor-critic game.

The objectives are described in the package docstring and in
docs/models.md, "Latent Constraints".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import keras
import numpy as np
from keras import ops

from keras_latent import losses
from keras_latent.losses import latent_distance
from keras_latent.models.latent_constraints.attribute_critics import (
    AttributeCriticsMixin,
    as_posteriors,
)
from keras_latent.models.latent_constraints.attribute_critics import (
    encode_posteriors as _encode_posteriors,
)
from keras_latent.models.latent_constraints.inference import InferenceMixin
from keras_latent.models.latent_constraints.networks import conditional_mlp
from keras_latent.models.vae import VAE
from keras_latent.presets import PresetMixin
from keras_latent.trainer import CriticGame
from keras_latent.utils import keras_internals
from keras_latent.utils.inputs import (
    check_choice,
    check_int,
    check_non_negative,
    predict_in_batches,
    standardize_images,
    validate_batch_size,
    validate_images,
    validate_latents,
    validate_seed,
)
from keras_latent.utils.labels import (
    LABEL_TYPES,
    LabelsMixin,
    attribute_name_list,
    check_label_matrix,
)


@keras.saving.register_keras_serializable(package="keras_latent")
class LatentConstraints(
    InferenceMixin, AttributeCriticsMixin, LabelsMixin, PresetMixin, CriticGame
):
    """Conditional generation and attribute edits in a frozen VAE's latent space.

    Training (`fit`) runs the actor-critic game (see the package docstring,
    or docs/models.md, "Latent Constraints") on batches `(x, y)`: `x` is
    images in [0, 1] (encoded on the fly) or, much faster, the dict
    `{"z_mean", "z_std"}` that `encode_posteriors` returns for them once;
    `y` is the label vectors `(batch, K)` in the order of `attribute_names`
    (one-hot for `label_type="categorical"`). The realism critic D(z, y) and
    the actor G(z, y) are its two players; attribute critics D_attr(z) are
    trained separately with `fit_attribute_critic`, which is also how users
    add new attributes from their own labelled images.

    Every inference method (`generate`, `transform`, `encode`, `decode`,
    `reconstruct`, `apply_actor`, `attribute_scores`, `encode_posteriors`,
    `label_vectors`) returns float32 NumPy arrays on every backend, with no
    autograd history; `satisfies` returns bool NumPy arrays. Calling the
    model (`model([z, y])`) works on tensors and returns tensors.

    Call `compute_statistics(x, y)` before training: it sets σ̄_z (the mean
    encoder σ over the training set) and the label marginals that fill in
    attributes a user leaves out.

    Args:
        vae: a `keras_latent.models.VAE` (or its serialized config). It is
            frozen: no phase updates it.
        attribute_names: sequence of str. The attributes the actor and the
            realism critic condition on; a single string is one name.
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
        gradient_penalty_weight: float >= 0. λ_gp. Defaults to `10.0`.
        distance_weight: float >= 0. λ_dist; `0` disables the distance
            penalty. Defaults to `0.1`.
        prior_fake_fraction: float in [0, 1]. Share of fakes that are prior
            samples rather than actor outputs. Defaults to `0.1`.
        mismatched_labels: bool. Whether real latents with shuffled labels
            are extra fakes. Defaults to `True`.
        actor_posterior_fraction: float in [0, 1]. Share of the actor's
            inputs, in training, that are posterior samples z ~ q(z|x) of
            the batch's images paired with another example's labels, instead
            of prior samples: the actor then also learns the edit
            `transform(method="actor")` asks of it (move a real face's latent
            to other attributes, λ_dist keeping it close). Its outputs are
            the critic's fakes like the others. Defaults to `0.0` (prior
            samples only, as in the paper's generation).
        actor_attribute_weight: float >= 0. Weight of an extra actor loss,
            the attribute critics' cross-entropy of G(z, y) against y (for
            the conditioning attributes they judge): the actor is then also
            pulled towards what the attribute critics read, not only what the
            realism critic's label input enforces. Needs the attribute
            critics trained first (`fit_attribute_critic`). Defaults to `0.0`
            (the paper's actor loss).
        seed: int in [0, 2**31 - 1] or None. Seed of the model's noise.
            Defaults to `None`.

    Example:

    ```python
    model = keras_latent.from_preset("celeba_latent_constraints")
    faces = model.generate({"Smiling": 1, "Eyeglasses": 1}, num_samples=16)
    edited = model.transform(my_faces, {"Smiling": 1}, method="optimize")
    ```
    """

    opponent = "actor"
    critic_metrics = ("real_accuracy", "fake_accuracy", "gradient_penalty")

    @property
    def opponent_metrics(self) -> tuple:
        """The actor's logged values (the attribute loss only when it is on)."""
        if self.actor_attribute_weight:
            return ("distance", "attribute_loss")
        return ("distance",)

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
        actor_posterior_fraction: float = 0.0,
        actor_attribute_weight: float = 0.0,
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
        names = attribute_name_list(attribute_names)
        critic_steps = check_int(critic_steps, "critic_steps", minimum=1)
        check_non_negative(gradient_penalty_weight, "gradient_penalty_weight")
        check_non_negative(distance_weight, "distance_weight")
        seed = validate_seed(seed)
        for name, fraction in (
            ("prior_fake_fraction", prior_fake_fraction),
            ("actor_posterior_fraction", actor_posterior_fraction),
        ):
            if not 0.0 <= float(fraction) <= 1.0:
                raise ValueError(f"`{name}` must be in [0, 1]. Received: {fraction!r}")
        check_non_negative(actor_attribute_weight, "actor_attribute_weight")
        self.vae = vae
        self.vae.trainable = False
        self.latent_dim = vae.latent_dim
        self.attribute_names = names
        self.label_type = label_type
        self.critic_units = tuple(int(u) for u in critic_units)
        self.actor_units = tuple(int(u) for u in actor_units)
        self.label_embedding_dim = (
            None
            if label_embedding_dim is None
            else check_int(label_embedding_dim, "label_embedding_dim", minimum=1)
        )
        self.critic_steps = critic_steps
        self.gradient_penalty_weight = float(gradient_penalty_weight)
        self.distance_weight = float(distance_weight)
        self.prior_fake_fraction = float(prior_fake_fraction)
        self.mismatched_labels = bool(mismatched_labels)
        self.actor_posterior_fraction = float(actor_posterior_fraction)
        self.actor_attribute_weight = float(actor_attribute_weight)
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

    @property
    def image_shape(self) -> tuple:
        return self.vae.image_shape

    # -- training -----------------------------------------------------------------

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
            # The VAE's tensor path (its public `encode` returns NumPy).
            mean, std = self.vae._encode(x)
        noise = keras.random.normal(ops.shape(mean), seed=self.seed_generator)
        return ops.cast(mean, "float32") + ops.cast(std, "float32") * noise

    def _prior(self, batch_size):
        return keras.random.normal(
            (batch_size, self.latent_dim), seed=self.seed_generator
        )

    def _critic_logits(self, z, y, training=False):
        return ops.cast(self.critic([z, y], training=training), "float32")

    def apply_actor(self, z, y, batch_size: int = 256) -> np.ndarray:
        """z' = (1 − g)·z + g·δ, the actor's gated residual step G(z, y).

        Args:
            z: latents `(N, latent_dim)`.
            y: label vectors `(N, K)` in the order of `attribute_names`.
            batch_size: int. Defaults to `256`.

        Returns:
            A float32 NumPy array `(N, latent_dim)`.
        """
        z = validate_latents(z, self.latent_dim)
        y = np.asarray(ops.convert_to_numpy(y))
        if y.dtype.kind not in "biuf" or y.shape != (len(z), len(self.attribute_names)):
            raise ValueError(
                f"`y` must be numeric label vectors of shape ({len(z)}, "
                f"{len(self.attribute_names)}): one per latent, one column per "
                f"attribute in {self.attribute_names}. Received dtype "
                f"{y.dtype}, shape {y.shape}."
            )
        y = y.astype("float32", copy=False)
        return predict_in_batches(self._apply_actor, (z, y), batch_size)

    def _apply_actor(self, z, y, training: bool = False):
        """`apply_actor` on tensors, with gradients (training, inference)."""
        z = ops.convert_to_tensor(z, "float32")
        y = ops.convert_to_tensor(y, "float32")
        # The networks compute in the dtype policy's dtype (bfloat16 under
        # mixed precision); the model's own math stays float32.
        outputs = ops.cast(self.actor([z, y], training=training), "float32")
        delta, gate_logits = ops.split(outputs, 2, -1)
        gate = ops.sigmoid(gate_logits)
        return (1.0 - gate) * z + gate * delta

    def critic_loss(self, data, training=True):
        """Sigmoid cross-entropy of D on real and fake latents, plus λ_gp·GP."""
        x, y = self._unpack(data)
        z_real = self._posterior_sample(x)
        batch_size = ops.shape(z_real)[0]
        z_prior = self._prior(batch_size)
        z_in = self._actor_inputs(z_prior, z_real)
        z_actor = ops.stop_gradient(self._apply_actor(z_in, y, training=training))
        from_prior = keras.random.uniform(
            (batch_size, 1), seed=self.seed_generator
        ) < ops.cast(self.prior_fake_fraction, "float32")
        z_fake = ops.where(from_prior, z_prior, z_actor)

        real_logits = self._critic_logits(z_real, y, training=training)
        fake_logits = self._critic_logits(z_fake, y, training=training)
        fakes = [fake_logits]
        weights = [ops.ones_like(fake_logits)]
        if self.mismatched_labels:
            y_other = self._shuffled_rows(y)
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

    def _shuffled_rows(self, x):
        """The rows of `x` in a random order, each row kept whole.

        `keras.random.shuffle(x, axis=0)` of a matrix shuffles every column
        on its own on JAX (Keras 3.15), which would pair an example with a
        mix of other examples' labels; a permutation of the indices does not.
        """
        order = keras.random.shuffle(
            ops.arange(ops.shape(x)[0]), seed=self.seed_generator
        )
        return ops.take(x, order, axis=0)

    def _actor_inputs(self, z_prior, z_posterior):
        """The actor's training inputs: z ~ p(z), a share from q(z|x).

        The posterior samples are shuffled across the batch, so each is paired
        with another example's labels: an edit to other attributes.
        """
        if not self.actor_posterior_fraction:
            return z_prior
        batch_size = ops.shape(z_prior)[0]
        shuffled = self._shuffled_rows(z_posterior)
        from_posterior = keras.random.uniform(
            (batch_size, 1), seed=self.seed_generator
        ) < ops.cast(self.actor_posterior_fraction, "float32")
        return ops.where(from_posterior, shuffled, z_prior)

    def actor_loss(self, data, training=True):
        """−log D(G(z, y), y) + λ_dist·L_dist(G(z, y), z) for z ~ p(z).

        With `actor_posterior_fraction`, a share of z comes from q(z|x); with
        `actor_attribute_weight`, the attribute critics' cross-entropy of
        G(z, y) against y is added.
        """
        x, y = self._unpack(data)
        batch_size = ops.shape(y)[0]
        z = self._prior(batch_size)
        if self.actor_posterior_fraction:
            z = self._actor_inputs(z, self._posterior_sample(x))
        z_new = self._apply_actor(z, y, training=training)
        logits = self._critic_logits(z_new, y, training=training)
        distance = ops.mean(latent_distance(z_new, z, self.latent_std))
        loss = ops.mean(losses.sigmoid_cross_entropy(logits, 1.0))
        loss = loss + self.distance_weight * distance
        logs = {"distance": distance}
        if self.actor_attribute_weight:
            attribute_loss = self._actor_attribute_loss(z_new, y)
            loss = loss + self.actor_attribute_weight * attribute_loss
            logs["attribute_loss"] = attribute_loss
        return loss, logs

    def _actor_attribute_loss(self, z_new, y):
        """Mean cross-entropy of the attribute critics' reading of z' against y."""
        y = ops.convert_to_tensor(y, "float32")
        known = [n for n in self.attribute_names if n in self.known_attributes]
        if not known:
            raise ValueError(
                "`actor_attribute_weight` needs attribute critics for the "
                f"conditioning attributes {self.attribute_names}: train them "
                "with `fit_attribute_critic` before `fit`."
            )
        if self.label_type == "categorical":
            network, _, _ = self._critic_for(known[0])
            log_p = ops.log_softmax(ops.cast(network(z_new), "float32"), axis=-1)
            return -ops.mean(ops.sum(y * log_p, axis=-1))
        terms = []
        for name in known:
            network, column, _ = self._critic_for(name)
            logits = ops.cast(network(z_new), "float32")[:, column]
            target = y[:, self.attribute_names.index(name)]
            terms.append(ops.mean(losses.sigmoid_cross_entropy(logits, target)))
        return ops.mean(ops.stack(terms))

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
        return _encode_posteriors(self.vae, images, batch_size)

    def compute_statistics(self, x, y=None) -> None:
        """Sets σ̄_z from the encoder over `x` and the label marginals from `y`.

        Args:
            x: images in [0, 1] `(N, H, W, C)` (uint8 is divided by 255) or
                the dict from `encode_posteriors`.
            y: 0/1 label vectors `(N, K)` in the order of `attribute_names`
                (one-hot for `label_type="categorical"`), or `None` to keep
                the current marginals. Defaults to `None`.
        """
        posteriors = as_posteriors(self.vae, x, "x")
        self.latent_std.assign(np.mean(posteriors["z_std"], axis=0))
        if y is not None:
            y = check_label_matrix(y, self.attribute_names, "y", self.label_type)
            self.label_prior.assign(np.clip(y.mean(axis=0), 1e-3, 1.0 - 1e-3))

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
        batch_size = validate_batch_size(batch_size)
        posteriors = as_posteriors(self.vae, x, "x")
        if attribute_names is not None:
            names = attribute_name_list(attribute_names)
            if names != self.attribute_names:
                check_label_matrix(y, names, "y", self.label_type)
                self._replace_conditional_players(names)
                self._phases = None
        y = check_label_matrix(y, self.attribute_names, "y", self.label_type)
        self.label_prior.assign(np.clip(y.mean(axis=0), 1e-3, 1.0 - 1e-3))
        self.compile(optimizer=optimizer)
        return self.fit(
            dict(posteriors), y, epochs=epochs, batch_size=batch_size, **fit_kwargs
        )

    # -- inference ----------------------------------------------------------------

    def call(self, inputs, training: bool = False):
        """`[z, y] → images` in [0, 1]: the actor's move, then the decoder."""
        z, y = inputs
        return self.vae._decode(self._apply_actor(z, y, training=training))

    @property
    def noise_dim(self) -> int:
        """The width of the standard normal noise `generator_graph` reads."""
        return self.latent_dim

    def generator_graph(self, noise, labels):
        """decode(G(z, y)): `generate`'s images for z ~ N(0, I) and labels.

        Keras layers and `keras.ops` only, on backend tensors or inside
        traced graphs: what `keras_latent.export` exports. `generate` runs
        the same networks (and adds the optimisation for attributes the
        actor does not condition on, which this graph leaves out).

        Args:
            noise: float32 tensor `(batch, noise_dim)`.
            labels: float32 tensor `(batch, K)`, 0/1 in the order of
                `attribute_names` (the actor's conditioning attributes).

        Returns:
            A float32 tensor `(batch, H, W, C)` in [0, 1].
        """
        return self([noise, labels])

    def edit_graph(self, images, labels):
        """decode(G(μ(x), y)): `transform(method="actor")` as one graph.

        z₀ = μ(x) is the posterior mean and `labels` the full target label
        vectors (the attributes to keep at their current values included);
        `transform` reads those from z₀ when given a dict. The default edit,
        `method="optimize"`, is an iterative search, not one graph.

        Args:
            images: float32 tensor `(batch, H, W, C)` in [0, 1].
            labels: float32 tensor `(batch, K)`, 0/1 in the order of
                `attribute_names`.

        Returns:
            A float32 tensor `(batch, H, W, C)` in [0, 1].
        """
        return self.generator_graph(self.vae._encode(images)[0], labels)

    def encode(self, images, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
        """The frozen encoder's posterior `(mean, std)`, as `VAE.encode`.

        Returns:
            Two float32 NumPy arrays `(N, latent_dim)`.
        """
        return self.vae.encode(images, batch_size)

    def decode(self, z, batch_size: int = 256) -> np.ndarray:
        """The frozen decoder's mean image in [0, 1], as `VAE.decode`.

        Returns:
            A float32 NumPy array `(N, H, W, C)`.
        """
        return self.vae.decode(z, batch_size)

    def reconstruct(self, images, batch_size: int = 256) -> np.ndarray:
        """Decodes the posterior means of `images`; float32 in [0, 1].

        Args:
            images: float images in [0, 1] `(N, H, W, C)`, as an array or a
                list of images; uint8 images (0–255) are divided by 255.
                Float NumPy images outside [0, 1] raise a ValueError.
            batch_size: int. Defaults to `256`.

        Returns:
            A float32 NumPy array `(N, H, W, C)`.
        """
        images = standardize_images(images, self.vae.image_shape)
        return self.vae.reconstruct(images, batch_size)

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
                "actor_posterior_fraction": self.actor_posterior_fraction,
                "actor_attribute_weight": self.actor_attribute_weight,
                "seed": self.seed,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["vae"] = keras.saving.deserialize_keras_object(config["vae"])
        return cls(**config)

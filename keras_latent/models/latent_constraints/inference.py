"""Sampling and editing with a trained `LatentConstraints`.

`generate` moves prior samples with the actor; `transform` edits images'
posterior means with the actor or by the optimisation of latents, which also
enforces attributes the actor does not condition on and zero-shot
constraints; `satisfies` reports the critics' verdicts (docs/models.md,
"Latent Constraints").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
from keras import ops

from keras_latent.models.latent_constraints.latent_search import optimize_latents
from keras_latent.models.latent_constraints.options import (
    CONSTRAINT_SPACES,
    TRANSFORM_METHODS,
    check_optimize_options,
)
from keras_latent.utils.inputs import (
    check_choice,
    predict_in_batches,
    standard_normal_latents,
    validate_batch_size,
    validate_num_samples,
)


class InferenceMixin:
    """`generate`, `transform` and `satisfies` of `LatentConstraints`.

    Uses the model's networks (`vae`, `apply_actor`, `_critic_logits`), its
    label handling (`LabelsMixin`) and its attribute critics
    (`AttributeCriticsMixin`).
    """

    # The values of `transform(method=...)`, for callers that offer a choice
    # (the attribute page of `keras-latent serve`).
    transform_methods = TRANSFORM_METHODS

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
            seed: int in [0, 2**31 - 1] or None. On one backend the same seed
                gives the same images; backends draw different numbers.
                `None` draws from the model's own seed generator. Defaults to
                `None`.
            constraint: callable or None. A differentiable zero-shot
                constraint: maps decoded images (or latents, see
                `constraint_space`) to a per-example loss to minimise. One
                that returns NaN or inf raises a ValueError; one whose
                gradient is zero (a constant) warns that it has no effect.
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
            float32 NumPy latents `(num_samples, latent_dim)` if
            `return_latents`, on every backend.
        """
        num_samples = validate_num_samples(num_samples)
        batch_size = validate_batch_size(batch_size)
        labels = self.label_vectors(attributes, num_samples, seed)
        extra = {}
        if isinstance(attributes, Mapping):
            extra = {
                k: v
                for k, v in self._target_dict(attributes).items()
                if k not in self.attribute_names
            }
        optimize = bool(extra) or constraint is not None
        check_optimize_options(
            self.generate,
            optimize_kwargs,
            runs=optimize,
            when="with a `constraint`, or with `attributes` the actor does not "
            f"condition on (it conditions on {self.attribute_names})",
        )
        if optimize:
            check_choice("constraint_space", constraint_space, CONSTRAINT_SPACES)
        z = standard_normal_latents(
            num_samples, self.latent_dim, seed, self.seed_generator
        )
        z = ops.convert_to_numpy(z)
        z_new = predict_in_batches(self._apply_actor, (z, labels), batch_size)
        if optimize:
            goal = {n: np.full(num_samples, v, "float32") for n, v in extra.items()}
            z_new = self._optimize_latents(
                z_new,
                goal,
                labels,
                constraint,
                constraint_space,
                batch_size,
                **optimize_kwargs,
            )
        images = predict_in_batches(self.vae._decode, z_new, batch_size)
        return (images, z_new) if return_latents else images

    def transform(
        self,
        images,
        attributes: Mapping,
        method: str = "optimize",
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
        - `"optimize"`: gradient descent on z from z₀: attribute critics' BCE
          towards the targets (weight 100), the realism critic's BCE towards
          "real" (weight 0.1), and λ_dist·L_dist(z, z₀), with Adam; each image
          stops once its critics all pass (docs/models.md, "Latent
          Constraints").

        Args:
            images: float images in [0, 1] `(N, H, W, C)`, as an array or a
                list of images; uint8 images (0–255) are divided by 255.
                Float NumPy images outside [0, 1] raise a ValueError (divide
                0–255 floats by 255; map [-1, 1] with `(images + 1) / 2`).
            attributes: dict of name → 0/1.
            method: `"optimize"` or `"actor"`. Defaults to `"optimize"`: on
                CelebA it flips the asked attribute far more often than the
                actor and keeps the face closer to its reconstruction
                (docs/experiments/celeba_latent_constraints.md); the actor is
                one forward pass, for many images at once.
            constraint: callable or None. An extra differentiable constraint
                (a per-example loss of the decoded images, or of z); with it,
                `"actor"` is followed by the optimisation. NaN or inf values
                raise a ValueError; a zero gradient (a constant) warns that
                it has no effect. Defaults to `None`.
            constraint_space: `"image"` or `"latent"`. Defaults to `"image"`.
            batch_size: int. Defaults to `256`.
            return_latents: bool. Also return the edited latents. Defaults to
                `False`.
            **optimize_kwargs: options of the optimisation: `steps` (300),
                `learning_rate` (2e-2), `attribute_weight` (100.0),
                `realism_weight` (0.1), `distance_weight` (this model's
                λ_dist), `constraint_weight` (1.0), `threshold` (0.99). They
                apply with `method="optimize"` or a `constraint`; given to
                the plain actor, or unknown, they raise a ValueError.

        Returns:
            float32 NumPy images `(N, H, W, C)` in [0, 1] (and the float32
            NumPy latents `(N, latent_dim)`), on every backend.
        """
        batch_size = validate_batch_size(batch_size)
        check_choice("method", method, TRANSFORM_METHODS)
        check_choice("constraint_space", constraint_space, CONSTRAINT_SPACES)
        check_optimize_options(
            self.transform,
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
        labels = self._transform_labels(z0, targets, batch_size)
        search = (labels, constraint, constraint_space, batch_size)
        if method == "actor":
            extra = [k for k in targets if k not in self.attribute_names]
            if extra:
                raise ValueError(
                    f"The actor does not condition on {extra}; use "
                    "method='optimize', or retrain it with `fit_actor`."
                )
            z_new = predict_in_batches(self._apply_actor, (z0, labels), batch_size)
            if constraint is not None:
                z_new = self._optimize_latents(
                    z_new, {}, *search, anchor=z0, **optimize_kwargs
                )
        else:
            goal = {
                name: np.full(len(z0), value, "float32")
                for name, value in targets.items()
            }
            z_new = self._optimize_latents(z0, goal, *search, **optimize_kwargs)
        edited = predict_in_batches(self.vae._decode, z_new, batch_size)
        return (edited, z_new) if return_latents else edited

    def _transform_labels(self, z0, targets, batch_size):
        """The conditioning labels of an edit: read from z₀, targets set."""
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
        return self._apply_targets(labels, targets)

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
        batch_size = validate_batch_size(batch_size)
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
        goal: Mapping,
        labels,
        constraint,
        constraint_space,
        batch_size,
        anchor=None,
        distance_weight: float | None = None,
        **options,
    ):
        """`optimize_latents` with this model's critics, decoder and λ_dist.

        `goal` maps attribute names to their 0/1 targets `(N,)`.
        """
        if constraint is not None and constraint_space == "image":
            # The VAE's tensor path: the search differentiates through it.
            constraint = _of_decoded(constraint, self.vae._decode)
        return optimize_latents(
            z_start,
            labels,
            lambda z, y: self._critic_logits(z, y)[:, 0],
            [(self._critic_for(name), target) for name, target in goal.items()],
            self.latent_std,
            constraint,
            batch_size,
            anchor=anchor,
            distance_weight=(
                self.distance_weight if distance_weight is None else distance_weight
            ),
            **options,
        )


def _of_decoded(constraint, decode):
    """A constraint on images, as one on the latents they decode from."""
    return lambda z: constraint(decode(z))

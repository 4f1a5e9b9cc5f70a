"""The Gaussian-mixture (GM) loss of Wan et al. (2018) and its layer.

A code `z` (`(batch, D)`) with class `y` among K classes is scored against K
Gaussians with learnable means `μ_k` and diagonal variances `σ²_k`
(`(K, D)` each) and equal priors `1/K`. With the class's (shifted) negative
log-density

    d_k(z) = ½ Σ_j (z_j − μ_kj)² / σ²_kj + ½ Σ_j log σ²_kj,

the loss of one code is

    L_cls = −log[ exp(−d_y(1 + α)) / (exp(−d_y(1 + α)) + Σ_{k≠y} exp(−d_k)) ]
    L_lkd = d_y(z)
    L_GM  = L_cls + λ_lkd · L_lkd,

averaged over the batch: a softmax cross-entropy on the logits `−d_k` whose
true-class logit is sharpened by the margin `α ≥ 0`, plus a likelihood term
that pulls each code towards its class's mean. The label-relevant/irrelevant
VAE of Zheng & Sun (2019) uses it on its label-relevant code, with the
defaults here, `α = 0` and `λ_lkd = 0.1`; the GM-loss paper itself uses
`α = 0.1` and `λ_lkd = 0.01`. A code's class is predicted as `argmax_k −d_k`.

The functions are re-exported by `keras_latent.losses`; they live here, in
the lower layer of the package, because the `GaussianMixture` layer that
holds the means and variances computes them.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from keras_latent.utils.inputs import MAX_SEED, check_int, check_non_negative


def gaussian_mixture_distances(z, means, variances):
    """The negative log-densities `d_k(z)` of each code under each class.

    `d_k(z) = ½ Σ_j (z_j − μ_kj)² / σ²_kj + ½ Σ_j log σ²_kj`: the Gaussian's
    negative log-density without its constant `(D/2) log 2π`.

    Args:
        z: tensor `(batch, D)` of codes.
        means: tensor `(K, D)`, the class means `μ_k`.
        variances: tensor `(K, D)` of positive diagonal variances `σ²_k`.

    Returns:
        A tensor `(batch, K)` of `d_k(z)`, in the dtype of `z`.

    Example:

    ```python
    d = gaussian_mixture_distances(z, layer.means, layer.variances)
    nearest = keras.ops.argmin(d, axis=-1)
    ```
    """
    z = ops.convert_to_tensor(z)
    means = ops.cast(means, z.dtype)
    variances = ops.cast(variances, z.dtype)
    _check_shapes(z, means, variances)
    # (batch, 1, D) − (1, K, D): every code against every class.
    diff = ops.expand_dims(z, 1) - ops.expand_dims(means, 0)
    mahalanobis = ops.sum(ops.square(diff) / ops.expand_dims(variances, 0), axis=-1)
    log_det = ops.sum(ops.log(variances), axis=-1)
    return 0.5 * mahalanobis + 0.5 * ops.expand_dims(log_det, 0)


def gaussian_mixture_logits(z, means, variances):
    """The class logits `−d_k(z)`; `argmax` over them predicts the class.

    With equal priors, `softmax(−d_k)` is the posterior `p(k | z)`.

    Args:
        z: tensor `(batch, D)` of codes.
        means: tensor `(K, D)`, the class means `μ_k`.
        variances: tensor `(K, D)` of positive diagonal variances `σ²_k`.

    Returns:
        A tensor `(batch, K)` of `−d_k(z)`.

    Example:

    ```python
    logits = gaussian_mixture_logits(z, layer.means, layer.variances)
    predicted = keras.ops.argmax(logits, axis=-1)
    ```
    """
    return -gaussian_mixture_distances(z, means, variances)


def gaussian_mixture_loss(
    z,
    labels,
    means,
    variances,
    margin: float = 0.0,
    likelihood_weight: float = 0.1,
) -> dict:
    """The GM loss `L_cls + λ_lkd · L_lkd` (Wan et al. 2018), batch-averaged.

    `L_cls` is the softmax cross-entropy on the logits `−d_k(z)` with the
    true class's logit replaced by `−d_y(1 + α)`, computed with `logsumexp`;
    `L_lkd = d_y(z)`. The defaults are those of Zheng & Sun (2019); the
    GM-loss paper uses `margin=0.1, likelihood_weight=0.01`.

    Args:
        z: tensor `(batch, D)` of codes.
        labels: int class ids `(batch,)` (or `(batch, 1)`), or one-hot rows
            `(batch, K)` of floats.
        means: tensor `(K, D)`, the class means `μ_k`.
        variances: tensor `(K, D)` of positive diagonal variances `σ²_k`.
        margin: float >= 0. The margin `α`. Defaults to `0.0`.
        likelihood_weight: float >= 0. The weight `λ_lkd` of the likelihood
            term. Defaults to `0.1`.

    Returns:
        A dict of scalars: `"loss"` (`classification + likelihood_weight *
        likelihood`), `"classification"` (mean `L_cls`) and `"likelihood"`
        (mean `L_lkd`).

    Example:

    ```python
    terms = gaussian_mixture_loss(z, y, layer.means, layer.variances)
    total = reconstruction + kl + terms["loss"]
    ```
    """
    margin = check_non_negative(margin, "margin")
    likelihood_weight = check_non_negative(likelihood_weight, "likelihood_weight")
    distances = gaussian_mixture_distances(z, means, variances)
    one_hot = _one_hot_labels(labels, distances.shape[-1], distances.dtype)
    true_distance = ops.sum(one_hot * distances, axis=-1)
    # The true class's logit −d_y becomes −d_y(1 + α): subtract α·d_y there.
    logits = -distances - margin * one_hot * ops.expand_dims(true_distance, -1)
    true_logit = ops.sum(one_hot * logits, axis=-1)
    classification = ops.mean(ops.logsumexp(logits, axis=-1) - true_logit)
    likelihood = ops.mean(true_distance)
    return {
        "loss": classification + likelihood_weight * likelihood,
        "classification": classification,
        "likelihood": likelihood,
    }


# How a code whose class is unknown is scored (Zheng & Sun 2019, §3.6).
UNLABELLED_PRIORS = ("mixture", "ambiguous")


def unlabelled_likelihood_loss(z, means, variances, prior: str = "mixture"):
    """The likelihood term of codes whose class is unknown, batch-averaged.

    The semi-supervised counterpart of `L_lkd = d_y(z)` (Zheng & Sun 2019,
    §3.6), for an image without a label:

    - `"mixture"` (its class is one of the K): the code's negative
      log-density under the whole mixture with equal priors,
      `−log Σ_k (1/K) exp(−d_k(z))`, which is `d_y(z)` when one class
      dominates;
    - `"ambiguous"` (its class may be none of the K): `d(z)` under the one
      "ambiguous" Gaussian with the mixture's overall mean and variance,
      `μ̄ = (1/K) Σ_k μ_k` and `σ̄² = (1/K) Σ_k (σ²_k + μ_k²) − μ̄²`.

    Both leave out the constant `(D/2) log 2π`, as `d_k` does.

    Args:
        z: tensor `(batch, D)` of codes.
        means: tensor `(K, D)`, the class means `μ_k`.
        variances: tensor `(K, D)` of positive diagonal variances `σ²_k`.
        prior: `"mixture"` or `"ambiguous"`. Defaults to `"mixture"`.

    Returns:
        A scalar tensor, the mean over the batch.

    Example:

    ```python
    term = unlabelled_likelihood_loss(z, layer.means, layer.variances)
    ```
    """
    if prior not in UNLABELLED_PRIORS:
        raise ValueError(
            f"`prior` must be one of {UNLABELLED_PRIORS}. Received: {prior!r}"
        )
    if prior == "mixture":
        distances = gaussian_mixture_distances(z, means, variances)
        num_classes = ops.cast(ops.shape(distances)[-1], distances.dtype)
        per_code = ops.log(num_classes) - ops.logsumexp(-distances, axis=-1)
        return ops.mean(per_code)
    z = ops.convert_to_tensor(z)
    means = ops.cast(means, z.dtype)
    variances = ops.cast(variances, z.dtype)
    _check_shapes(z, means, variances)
    mean = ops.mean(means, axis=0, keepdims=True)
    # The mixture's total variance: within-class plus between-class.
    variance = ops.mean(variances + ops.square(means), axis=0, keepdims=True)
    variance = variance - ops.square(mean)
    return ops.mean(gaussian_mixture_distances(z, mean, variance)[:, 0])


def _check_shapes(z, means, variances) -> None:
    if len(z.shape) != 2 or len(means.shape) != 2:
        raise ValueError(
            "`z` must be codes (batch, D) and `means` a matrix (K, D). Received "
            f"shapes {tuple(z.shape)} and {tuple(means.shape)}."
        )
    if tuple(means.shape) != tuple(variances.shape):
        raise ValueError(
            "`means` and `variances` must have the same shape (K, D). Received "
            f"{tuple(means.shape)} and {tuple(variances.shape)}."
        )
    if None not in (z.shape[-1], means.shape[-1]) and z.shape[-1] != means.shape[-1]:
        raise ValueError(
            f"`z` has {z.shape[-1]} dimensions but the means have {means.shape[-1]}."
        )


def _one_hot_labels(labels, num_classes: int, dtype):
    """`labels` (ids `(batch,)`/`(batch, 1)` or one-hot `(batch, K)`) as
    one-hot rows of `dtype`."""
    labels = ops.convert_to_tensor(labels)
    shape = tuple(labels.shape)
    if len(shape) == 2 and shape[-1] == num_classes:
        return ops.cast(labels, dtype)
    if len(shape) == 2 and shape[-1] == 1:
        labels = ops.squeeze(labels, axis=-1)
    elif len(shape) != 1:
        raise ValueError(
            f"`labels` must be class ids (batch,) or one-hot rows (batch, "
            f"{num_classes}). Received shape {shape}."
        )
    return ops.one_hot(ops.cast(labels, "int32"), num_classes, dtype=dtype)


@keras.saving.register_keras_serializable(package="keras_latent")
class GaussianMixture(keras.layers.Layer):
    """Learnable class Gaussians for the GM loss: codes in, class logits out.

    Holds the class means `μ_k` (`means`, `(K, D)`) and diagonal variances
    `σ²_k = min_variance + softplus(raw_variances)`; `call(z)` returns the
    logits `−d_k(z)` of `gaussian_mixture_logits`, `loss(z, labels)` the terms of
    `gaussian_mixture_loss` with this layer's `margin` and
    `likelihood_weight`, and `sample(class_ids)` draws codes of given
    classes. The raw variances start at `variance_init = 0.54`, as in the
    reference code of Zheng & Sun (2019), so `σ²` starts at
    `softplus(0.54) ≈ 1.0`.

    A floor `min_variance > 0` keeps the likelihood term bounded: its
    `½ log|Σ_y|` falls without limit as the variances shrink around codes
    that sit on their class mean, and in a label-relevant/irrelevant VAE
    trained on MNIST without a floor the variances collapsed and took the
    classification with them.

    Args:
        num_classes: int >= 2. The number of classes K.
        variance_init: float. Initial raw variance, before the softplus.
            Defaults to `0.54`.
        min_variance: float >= 0. Floor added to every variance. Defaults
            to `0.0` (the plain GM loss).
        margin: float >= 0. The margin `α` of the classification term.
            Defaults to `0.0`.
        likelihood_weight: float >= 0. The weight `λ_lkd` of the likelihood
            term. Defaults to `0.1`.
        seed: int or None. Seeds the means' `RandomNormal(stddev=1.0)`
            initialiser and the sampling seed generator. Defaults to `None`.
        **kwargs: base layer arguments.

    Example:

    ```python
    mixture = GaussianMixture(num_classes=10)
    logits = mixture(z)                       # (batch, 10): −d_k(z)
    terms = mixture.loss(z, labels)           # {"loss", "classification", ...}
    codes = mixture.sample([0, 1, 2], seed=7) # one code of each class
    ```
    """

    def __init__(
        self,
        num_classes: int,
        variance_init: float = 0.54,
        min_variance: float = 0.0,
        margin: float = 0.0,
        likelihood_weight: float = 0.1,
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_classes = check_int(num_classes, "num_classes", minimum=2)
        if isinstance(variance_init, bool) or not _is_finite_number(variance_init):
            raise ValueError(
                f"`variance_init` must be a finite number. Received: {variance_init!r}"
            )
        self.variance_init = float(variance_init)
        self.min_variance = check_non_negative(min_variance, "min_variance")
        self.margin = check_non_negative(margin, "margin")
        self.likelihood_weight = check_non_negative(
            likelihood_weight, "likelihood_weight"
        )
        self.seed = None if seed is None else _check_seed(seed)
        self.seed_generator = keras.random.SeedGenerator(self.seed)

    def build(self, input_shape):
        if len(input_shape) != 2 or input_shape[-1] is None:
            raise ValueError(
                "GaussianMixture expects codes (batch, D) with a known D. "
                f"Received input shape {input_shape}."
            )
        shape = (self.num_classes, input_shape[-1])
        self.means = self.add_weight(
            shape=shape,
            initializer=keras.initializers.RandomNormal(stddev=1.0, seed=self.seed),
            name="means",
        )
        self.raw_variances = self.add_weight(
            shape=shape,
            initializer=keras.initializers.Constant(self.variance_init),
            name="raw_variances",
        )

    @property
    def variances(self):
        """The variances `σ²_k = min_variance + softplus(raw_variances)`, `(K, D)`."""
        return self.min_variance + ops.softplus(self.raw_variances)

    def call(self, z):
        return gaussian_mixture_logits(z, self.means, self.variances)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.num_classes)

    def loss(self, z, labels) -> dict:
        """The GM loss terms of codes `z` with `labels` (see
        `gaussian_mixture_loss`), with this layer's margin and weight.

        Computed in the variables' dtype (float32 under mixed precision).
        """
        if not self.built:
            self.build(tuple(z.shape))
        z = ops.cast(z, self.variable_dtype)
        return gaussian_mixture_loss(
            z,
            labels,
            self.means,
            self.variances,
            margin=self.margin,
            likelihood_weight=self.likelihood_weight,
        )

    def sample(self, class_ids, seed=None):
        """Codes `z ~ N(μ_k, diag σ²_k)`, one for each class id given.

        Args:
            class_ids: int ids `(n,)` (a list, array or tensor).
            seed: int, `keras.random.SeedGenerator` or None. The same int
                gives the same codes; `None` draws from the layer's own
                seed generator. Defaults to `None`.

        Returns:
            A tensor `(n, D)` of codes.
        """
        if not self.built:
            raise ValueError(
                "GaussianMixture.sample needs the layer built (call it on codes "
                "once, or `build((None, D))`) to know the code dimension."
            )
        if seed is None:
            seed = self.seed_generator
        elif not isinstance(seed, keras.random.SeedGenerator):
            seed = _check_seed(seed)
        if isinstance(class_ids, (list, tuple, np.ndarray)):
            ids = np.asarray(class_ids)
            if ids.size and (ids.min() < 0 or ids.max() >= self.num_classes):
                raise ValueError(
                    f"`class_ids` must lie in [0, {self.num_classes - 1}]. "
                    f"Received ids in [{ids.min()}, {ids.max()}]."
                )
        class_ids = ops.cast(ops.convert_to_tensor(class_ids), "int32")
        if len(class_ids.shape) != 1:
            raise ValueError(
                f"`class_ids` must be a vector of ids (n,). Received shape "
                f"{tuple(class_ids.shape)}."
            )
        noise = keras.random.normal(
            (ops.shape(class_ids)[0], self.means.shape[-1]),
            dtype=self.compute_dtype,
            seed=seed,
        )
        return self.codes(ops.one_hot(class_ids, self.num_classes), noise)

    def codes(self, labels, noise=None):
        """Codes `μ_y + σ_y ⊙ ε` of the classes in one-hot `labels`.

        The reparameterised draw of `sample`, as a function of its noise, so
        that a traced or exported graph can take the noise as an input. A
        one-hot row picks its class's mean and scale exactly.

        Args:
            labels: one-hot rows `(n, num_classes)` (a tensor or array).
            noise: standard normal `ε` `(n, D)`, or None for the class means
                `μ_y`. Defaults to `None`.

        Returns:
            A tensor `(n, D)` of codes, in the layer's compute dtype.
        """
        labels = ops.cast(labels, self.compute_dtype)
        codes = ops.matmul(labels, ops.cast(self.means, self.compute_dtype))
        if noise is None:
            return codes
        scales = ops.matmul(
            labels, ops.cast(ops.sqrt(self.variances), self.compute_dtype)
        )
        return codes + scales * ops.cast(noise, self.compute_dtype)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_classes": self.num_classes,
                "variance_init": self.variance_init,
                "min_variance": self.min_variance,
                "margin": self.margin,
                "likelihood_weight": self.likelihood_weight,
                "seed": self.seed,
            }
        )
        return config


def _is_finite_number(value) -> bool:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return False
    return value - value == 0.0


def _check_seed(seed) -> int:
    seed = check_int(seed, "seed", minimum=0)
    if seed > MAX_SEED:
        raise ValueError(f"`seed` must be at most {MAX_SEED}. Received: {seed!r}")
    return seed

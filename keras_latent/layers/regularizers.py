"""Discriminator regularisers that are layers or constraints.

- `MinibatchDiscrimination` (Salimans et al. 2016, §3.2): lets the
  discriminator see how alike the examples of a batch are, the tell-tale of
  a collapsed generator.
- `ClipWeights`: the weight clipping of the original WGAN (Arjovsky et al.
  2017); Keras's optimizers apply a variable's constraint after each update.
- `SpectralNormalization`: Keras's layer of that name, computing `W / σ(W)`
  in the forward pass instead of writing it into `W`.
"""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_latent")
class MinibatchDiscrimination(keras.layers.Layer):
    """Appends, to each example's features, its closeness to the batch.

    With features `f_i` (`(batch, A)`), a learnt tensor `T` maps each to
    `num_kernels` rows `M_i,b` of `kernel_dim` values; then

        o(f_i)_b = Σ_{j ≠ i} exp(−‖M_i,b − M_j,b‖₁),

    and the layer returns `[f_i, o(f_i)]`, `(batch, A + num_kernels)`. A
    batch of near copies gives large `o`, which the discriminator learns to
    reject, so the generator is pushed to spread out.

    Args:
        num_kernels: int. Number of closeness features B. Defaults to `32`.
        kernel_dim: int. Dimension C of each kernel's rows. Defaults to `8`.
        **kwargs: base layer arguments.

    Example:

    ```python
    features = keras.layers.Flatten()(feature_map)
    features = MinibatchDiscrimination(num_kernels=32)(features)
    logits = keras.layers.Dense(1)(features)
    ```
    """

    def __init__(self, num_kernels: int = 32, kernel_dim: int = 8, **kwargs):
        super().__init__(**kwargs)
        for name, value in (("num_kernels", num_kernels), ("kernel_dim", kernel_dim)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(
                    f"`{name}` must be a positive int. Received: {name}={value!r}"
                )
        self.num_kernels = num_kernels
        self.kernel_dim = kernel_dim

    def build(self, input_shape):
        if len(input_shape) != 2 or input_shape[-1] is None:
            raise ValueError(
                "MinibatchDiscrimination expects flat features (batch, A) with "
                f"a known A. Received input shape {input_shape}."
            )
        self.kernel = self.add_weight(
            shape=(input_shape[-1], self.num_kernels * self.kernel_dim),
            initializer=keras.initializers.RandomNormal(stddev=0.02),
            name="kernel",
        )

    def call(self, features):
        rows = ops.reshape(
            ops.matmul(features, self.kernel), (-1, self.num_kernels, self.kernel_dim)
        )
        # (batch, 1, B, C) − (1, batch, B, C): L1 distances per kernel.
        distances = ops.sum(
            ops.abs(ops.expand_dims(rows, 1) - ops.expand_dims(rows, 0)), axis=-1
        )
        # Each example is at distance 0 from itself: exp(0) = 1 is removed.
        closeness = ops.sum(ops.exp(-distances), axis=1) - 1.0
        return ops.concatenate([features, ops.cast(closeness, features.dtype)], -1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1] + self.num_kernels)

    def get_config(self):
        config = super().get_config()
        config.update({"num_kernels": self.num_kernels, "kernel_dim": self.kernel_dim})
        return config


@keras.saving.register_keras_serializable(package="keras_latent")
class ClipWeights(keras.constraints.Constraint):
    """Clips every value of a weight to `[−clip_value, clip_value]`.

    Args:
        clip_value: float > 0. Defaults to `0.01` (the WGAN paper's c).

    Example:

    ```python
    keras.layers.Dense(1, kernel_constraint=ClipWeights(0.01))
    ```
    """

    def __init__(self, clip_value: float = 0.01):
        if isinstance(clip_value, bool) or not float(clip_value) > 0.0:
            raise ValueError(
                f"`clip_value` must be a positive float. Received: {clip_value!r}"
            )
        self.clip_value = float(clip_value)

    def __call__(self, w):
        return ops.clip(w, -self.clip_value, self.clip_value)

    def get_config(self):
        return {"clip_value": self.clip_value}


def _unit(x, epsilon=1e-12):
    return x / ops.sqrt(ops.sum(ops.square(x)) + epsilon)


@keras.saving.register_keras_serializable(package="keras_latent")
class SpectralNormalization(keras.layers.SpectralNormalization):
    """Keras's `SpectralNormalization`, with the normalised kernel kept out
    of the trainable variable.

    Miyato et al. (2018) divide a layer's kernel by its largest singular
    value σ(W), estimated by power iteration with a persistent vector u
    (one iteration per training call). Keras's layer writes `W / σ` into
    the kernel variable on every training call. A critic is called several
    times per loss (real images, generated images, a penalty's
    interpolates): each call would divide the already-divided kernel again,
    and on torch the in-place write breaks the backward pass of the earlier
    calls. This layer computes `W / σ(W)` as part of the forward pass, as
    the paper and `torch.nn.utils.parametrizations.spectral_norm` do: the
    variable holds W, gradients flow through σ, and only u is updated. The
    same arguments, variables and config as Keras's layer.

    Args:
        layer: a `Dense`, `Conv2D` or other layer with a `kernel`.
        power_iterations: int. Power iterations per training call. Defaults
            to `1`.
        **kwargs: base layer arguments.

    Example:

    ```python
    dense = SpectralNormalization(keras.layers.Dense(1))
    ```
    """

    def normalized_kernel(self, training: bool = False):
        """`(u, W / σ(W))`: u advanced by `power_iterations` when training."""
        weights = ops.reshape(self.kernel, (-1, self.kernel_shape[-1]))
        u = ops.convert_to_tensor(self.vector_u)
        for _ in range(self.power_iterations if training else 1):
            v = _unit(ops.matmul(u, ops.transpose(weights)))
            u = _unit(ops.matmul(v, weights))
        u, v = ops.stop_gradient(u), ops.stop_gradient(v)
        sigma = ops.matmul(ops.matmul(v, weights), ops.transpose(u))
        kernel = ops.reshape(weights / ops.maximum(sigma, 1e-12), self.kernel_shape)
        return u, kernel

    def call(self, inputs, training=False):
        u, kernel = self.normalized_kernel(training=bool(training))
        if training:
            self.vector_u.assign(ops.cast(u, self.vector_u.dtype))
        # The wrapped layer reads the normalised kernel; its other variables
        # keep their current values (read here, in any enclosing scope).
        mapping = [
            (v, ops.cast(kernel, v.dtype) if v is self.kernel else v.value)
            for v in self.layer.variables
        ]
        with keras.StatelessScope(state_mapping=mapping):
            output = self.layer(inputs)
        return ops.cast(output, inputs.dtype)

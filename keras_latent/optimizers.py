"""Optimizers: Keras's own, with faster updates where a backend needs them."""

from __future__ import annotations

import keras


@keras.saving.register_keras_serializable(package="keras_latent")
class Adam(keras.optimizers.Adam):
    """Keras's Adam, with an in-place update on the torch backend.

    The same optimizer as `keras.optimizers.Adam`: the same arguments, update,
    variables and config, so checkpoints move freely between the two. On
    TensorFlow and JAX it is Keras's Adam unchanged. On torch, Keras's Adam
    (3.15) builds each update from five out-of-place results, each a fresh copy
    of every parameter, which costs 7.6–10 ms per step on a 1.1M-parameter MLP
    where this update, done in place, costs 3.3–3.6 ms and `torch.optim.Adam`
    3.0–3.6 ms on a 2-core CPU (`python benchmarks/torch_adam_speed.py`; the
    README's Benchmarks section). Clipping, weight decay, EMA,
    loss scaling and gradient accumulation stay Keras's own, around the
    update.

    Use it where Keras's stock trainer applies the gradients (the `VAE`, the
    classifiers); the zoo's multi-player trainer already updates a
    `keras.optimizers.Adam` in place.

    Args:
        learning_rate: float, schedule or callable. Defaults to `0.001`.
        **kwargs: every other argument of `keras.optimizers.Adam`
            (`beta_1=0.9`, `beta_2=0.999`, `epsilon=1e-7`, `amsgrad=False`,
            `clipnorm`, `weight_decay`, `use_ema`, ...).

    Example:

    ```python
    vae = keras_latent.models.VAE(image_shape=(28, 28, 1), latent_dim=16)
    vae.compile(optimizer=keras_latent.optimizers.Adam(1e-3))
    ```
    """

    def _backend_update_step(self, grads, trainable_variables, learning_rate):
        if keras.backend.backend() == "torch":
            # Imported here: only the trainer's backend modules import torch.
            from keras_latent.trainer.backends import torch as torch_backend

            if torch_backend.adam_update(
                self, grads, trainable_variables, learning_rate
            ):
                return
        super()._backend_update_step(grads, trainable_variables, learning_rate)


__all__ = ["Adam"]

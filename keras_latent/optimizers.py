"""Optimizers: Keras's own, skipping non-finite updates, faster on torch."""

from __future__ import annotations

import keras

from keras_latent.trainer import backends


class SkipsNonFiniteUpdates:
    """Mixin for a Keras optimizer: an update whose gradients or learning
    rate are not finite (NaN or inf) is not applied.

    The variables and the optimizer's state (`iterations` included) stay as
    they were, as a `keras.optimizers.LossScaleOptimizer` skips an overflowed
    step; the check is one sum over all gradients. This is how the zoo's
    one-optimizer models (the `VAE`, the classifiers), which train with
    Keras's own `train_step`, keep a NaN batch out of their weights. Each
    update leaves its cause code behind (0: applied) for the model's
    `nonfinite_steps` log, which `pop_update_cause` hands over once.
    """

    _update_cause = None
    _in_stateless_apply = False

    def apply(self, grads, trainable_variables=None):
        grads = list(grads)
        parent = super()
        if self._in_stateless_apply:
            # Keras's `stateless_apply` calls `apply`; it is checked already.
            return parent.apply(grads, trainable_variables)
        if not self.built and trainable_variables is not None:
            # Before any branch: variables cannot be created inside one.
            with keras.name_scope(self.name, caller=self):
                self.build(list(trainable_variables))
            self.built = True
        self._update_cause = backends.current().apply_if_finite(
            self, grads, trainable_variables, parent.apply
        )

    def stateless_apply(self, optimizer_variables, grads, trainable_variables):
        parent = super()
        if keras.backend.backend() != "jax":
            return parent.stateless_apply(
                optimizer_variables, grads, trainable_variables
            )
        self._in_stateless_apply = True
        try:
            new, self._update_cause = backends.current().stateless_apply_if_finite(
                self,
                optimizer_variables,
                list(grads),
                trainable_variables,
                parent.stateless_apply,
            )
        finally:
            self._in_stateless_apply = False
        return new

    def pop_update_cause(self):
        """The last update's cause code (a scalar tensor: 0 when it was
        applied; 2 for gradients, 3 for the learning rate, as
        `keras_latent.trainer.nonfinite.cause_code` numbers them), or
        `None` when no update happened since the last call."""
        cause, self._update_cause = self._update_cause, None
        return cause


@keras.saving.register_keras_serializable(package="keras_latent")
class Adam(SkipsNonFiniteUpdates, keras.optimizers.Adam):
    """Keras's Adam, skipping non-finite updates, in place on torch.

    The same optimizer as `keras.optimizers.Adam`: the same arguments, update,
    variables and config, so checkpoints move freely between the two. Two
    differences: an update whose gradients or learning rate are not finite
    is skipped (`SkipsNonFiniteUpdates`), and on torch, Keras's Adam
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


__all__ = ["Adam", "SkipsNonFiniteUpdates"]

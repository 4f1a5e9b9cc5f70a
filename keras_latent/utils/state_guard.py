"""Keeps a model usable when `fit`, `evaluate` or `predict` fails."""

from __future__ import annotations

import contextlib

from keras_latent.utils import keras_internals


class RestoreStateOnError:
    """Mixin: a failed `fit`/`evaluate`/`predict` leaves the model usable.

    A bad batch (wrong shape, wrong dtype) raises while the step function is
    being traced. Two things would otherwise break the next call:

    - JAX's `fit` detaches every variable's value while it trains statelessly
      and reattaches them only when it ends normally, so the model would be
      left with no weights. JAX arrays are immutable, so remembering the
      values up front costs nothing.
    - TensorFlow keeps the half-traced `tf.function`; retracing it would try
      to create the optimizer's slots inside it. The optimizer is therefore
      built before the call, and the cached step functions are dropped.
    """

    def fit(self, *args, **kwargs):
        return self._restore_on_error(super().fit, args, kwargs)

    def evaluate(self, *args, **kwargs):
        return self._restore_on_error(super().evaluate, args, kwargs)

    def predict(self, *args, **kwargs):
        return self._restore_on_error(super().predict, args, kwargs)

    def _state_variables(self):
        variables = list(self.variables) + list(self.metrics_variables)
        optimizer = getattr(self, "optimizer", None)
        if optimizer is not None:
            if not optimizer.built and self.built:
                # Under a tf.distribute strategy, its slots must be mirrored.
                strategy = getattr(self, "distribute_strategy", None)
                with strategy.scope() if strategy else contextlib.nullcontext():
                    optimizer.build(self.trainable_variables)
            variables += list(optimizer.variables)
        return variables

    def _restore_on_error(self, method, args, kwargs):
        variables = self._state_variables()
        values = [keras_internals.raw_value(v) for v in variables]
        try:
            return method(*args, **kwargs)
        except BaseException:
            for variable, value in zip(variables, values):
                # Only values JAX's trainer detached are put back: anything a
                # partial run already synced stays as trained.
                if keras_internals.raw_value(variable) is None and value is not None:
                    keras_internals.set_raw_value(variable, value)
            self.train_function = None
            self.test_function = None
            self.predict_function = None
            raise

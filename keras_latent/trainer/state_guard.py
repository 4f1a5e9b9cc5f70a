"""Keeps a model usable when `fit`, `evaluate` or `predict` fails on JAX."""

from __future__ import annotations

import keras


class RestoreStateOnError:
    """Mixin: a failed `fit`/`evaluate`/`predict` leaves the weights in place.

    JAX's `fit` detaches every variable's value while it trains statelessly
    and reattaches the values only when it ends normally. A bad batch (wrong
    shape, wrong dtype) raises while the step is being traced, which would
    otherwise leave the model with no weights at all. JAX arrays are
    immutable, so remembering the values up front costs nothing.
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
            # `fit` would build it after our snapshot; its slots must be in it.
            if not optimizer.built and self.built:
                optimizer.build(self.trainable_variables)
            variables += list(optimizer.variables)
        return variables

    def _restore_on_error(self, method, args, kwargs):
        if keras.backend.backend() != "jax":
            return method(*args, **kwargs)
        variables = self._state_variables()
        values = [v._value for v in variables]
        try:
            return method(*args, **kwargs)
        except BaseException:
            for variable, value in zip(variables, values):
                # Only values JAX's trainer detached are put back: anything a
                # partial run already synced stays as trained.
                if variable._value is None and value is not None:
                    variable._value = value
            raise

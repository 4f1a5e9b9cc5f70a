"""Non-finite phase updates: skipped, counted, and fatal after a streak.

A phase update whose loss, gradients or learning rate is not finite (NaN or
inf) is not applied: the player's variables and its optimizer's state
(iterations included) stay as they were, as a
`keras.optimizers.LossScaleOptimizer` skips an overflowed step. What the
loss's forward pass itself updated (seed generators, the statistics of a
BatchNormalization run in training mode) is kept: the zoo's critics, the
networks that read the data, have no BatchNormalization. The backends
decide per update (`trainer/backends/`); this module holds what they share,
written in `keras.ops`:

- `cause_code` turns one update's three finiteness flags into a number that
  names the phase and the value, so compiled steps can report it;
- `NonFiniteMonitor`, the metric behind the `nonfinite_steps` log;
- `NonFiniteGuard`, the callback `MultiPlayerModel.fit` adds, which stops
  `fit` with `NonFiniteTrainingError` after `max_nonfinite_steps` such steps
  in a row.
"""

from __future__ import annotations

import keras
from keras import ops

from keras_latent.trainer import backends

# What a phase update found non-finite, in the order the backends check it.
CAUSES = ("loss", "gradients", "learning rate")


class NonFiniteTrainingError(FloatingPointError):
    """`fit` met too many non-finite training steps in a row.

    The model keeps the weights of its last finite update: the non-finite
    steps were skipped.
    """


def checks_gradients(optimizer) -> bool:
    """Whether the trainer checks this optimizer's gradients itself.

    A `LossScaleOptimizer` (mixed_float16) expects overflowed gradients now
    and then: it skips that update and lowers its scale. Skipping it before
    the optimizer sees it would keep the scale too high forever, so its
    gradients are left to it; its loss and learning rate are still checked.
    """
    return not isinstance(optimizer, keras.optimizers.LossScaleOptimizer)


def learning_rate(optimizer):
    """The optimizer's current learning rate (a schedule's value included)."""
    return ops.convert_to_tensor(optimizer.learning_rate, dtype="float32")


def cause_code(phase_index: int, loss_ok, grads_ok, lr_ok):
    """0 when all three flags hold, else a code naming the phase and value.

    The code is `3 * phase_index + 1 + k`, `k` indexing `CAUSES`; the first
    non-finite value in `CAUSES` order wins.
    """
    base = 3.0 * phase_index
    return ops.where(
        loss_ok,
        ops.where(grads_ok, ops.where(lr_ok, 0.0, base + 3.0), base + 2.0),
        base + 1.0,
    )


def first_cause(cause, code):
    """The step's first non-zero cause code so far."""
    return ops.where(cause > 0, cause, code)


def describe_cause(phases, code: int) -> str:
    """`"the gradients of phase 'critic'"` for a code from `cause_code`."""
    index, kind = divmod(int(code) - 1, len(CAUSES))
    if not 0 <= index < len(phases):
        return "an unknown value"
    return f"the {CAUSES[kind]} of phase '{phases[index].name}'"


class NonFiniteMonitor(keras.metrics.Metric):
    """The `nonfinite_steps` log: training steps with a skipped update.

    Its result is the number of this epoch's steps in which at least one
    phase update was skipped. It also keeps, across epochs, how many steps
    in a row had one (`streak`) and the latest such step's cause code
    (`cause`), which `NonFiniteGuard` reads.
    """

    def __init__(self, name: str = "nonfinite_steps", **kwargs):
        super().__init__(name=name, **kwargs)
        self.count = self.add_variable((), initializer="zeros", name="count")
        self.streak = self.add_variable((), initializer="zeros", name="streak")
        self.cause = self.add_variable((), initializer="zeros", name="cause")

    def update_state(self, cause):
        cause = ops.cast(cause, "float32")
        bad = cause > 0
        self.count.assign(self.count.value + ops.cast(bad, "float32"))
        self.streak.assign(ops.where(bad, self.streak.value + 1.0, 0.0))
        self.cause.assign(ops.where(bad, cause, self.cause.value))

    def reset_state(self):
        # Keras resets metrics every epoch; a streak may span epochs.
        self.count.assign(0.0)

    def reset_streak(self):
        self.streak.assign(0.0)
        self.cause.assign(0.0)

    def result(self):
        return ops.convert_to_tensor(self.count)


class NonFiniteGuard(keras.callbacks.Callback):
    """Stops `fit` after `max_steps` non-finite training steps in a row.

    It reads the model's `nonfinite_steps` log after each batch and, only
    when that count grew, the monitor's streak (on JAX after syncing the
    model's state, which also leaves the last finite weights in the model
    when it raises).
    """

    def __init__(self, monitor: NonFiniteMonitor, phases, max_steps: int):
        super().__init__()
        self.monitor = monitor
        self.phases = phases
        self.max_steps = max_steps

    def on_train_begin(self, logs=None):
        self.monitor.reset_streak()
        self._steps_before_epoch = 0
        self._step = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._seen = 0.0
        self._steps_before_epoch = self._step

    def on_train_batch_end(self, batch, logs=None):
        self._step = self._steps_before_epoch + batch + 1
        count = (logs or {}).get(self.monitor.name)
        if count is None or float(count) <= self._seen:
            return
        self._seen = float(count)
        backends.current().sync_state(self.model)
        streak = int(ops.convert_to_numpy(self.monitor.streak))
        if streak < self.max_steps:
            return
        cause = describe_cause(
            self.phases, int(ops.convert_to_numpy(self.monitor.cause))
        )
        raise NonFiniteTrainingError(
            f"`fit` stopped at training step {self._step} (epoch "
            f"{self._epoch + 1}, batch {batch + 1}): {streak} steps in a row "
            f"had non-finite values, the last one in {cause}. Each was "
            "skipped (counted in the `nonfinite_steps` log); the model keeps "
            "the weights of its last finite update. Check the data and the "
            "learning rate for NaN or inf, or raise "
            "`compile(max_nonfinite_steps=...)`."
        )

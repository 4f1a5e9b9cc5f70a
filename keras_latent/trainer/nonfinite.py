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
- `NonFiniteGuard`, the callback `fit` adds, which stops `fit` with
  `NonFiniteTrainingError` after `max_nonfinite_steps` such steps in a row;
- `SkipsNonFiniteSteps`, the same log and guard for a one-optimizer model
  trained by Keras's own `train_step`, whose optimizer does the skipping
  (`keras_latent.optimizers.SkipsNonFiniteUpdates`).
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


def describe_cause(phase_names, code: int) -> str:
    """`"the gradients of phase 'critic'"` for a code from `cause_code`;
    `"the gradients"` when `phase_names` is `None` (one update per step)."""
    index, kind = divmod(int(code) - 1, len(CAUSES))
    if phase_names is None:
        return f"the {CAUSES[kind]}" if index == 0 else "an unknown value"
    if not 0 <= index < len(phase_names):
        return "an unknown value"
    return f"the {CAUSES[kind]} of phase '{phase_names[index]}'"


def check_max_nonfinite_steps(value):
    """`value` if it is a positive int or `None`, else a `ValueError`."""
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, int) or value < 1
    ):
        raise ValueError(
            "`max_nonfinite_steps` must be a positive int or None. "
            f"Received: max_nonfinite_steps={value!r}"
        )
    return value


class NonFiniteMonitor(keras.metrics.Metric):
    """The `nonfinite_steps` log: training steps with a skipped update.

    Its result is the number of this epoch's steps in which at least one
    phase update was skipped. It also keeps, across epochs, how many steps
    in a row had one (`streak`) and the latest such step's cause code
    (`cause`), which `NonFiniteGuard` reads.
    """

    def __init__(self, name: str = "nonfinite_steps", **kwargs):
        super().__init__(name=name, **kwargs)
        # Every replica of a tf.distribute strategy sees the same cause (the
        # flags are all-reduced); Keras's default "sum" would count a step
        # once per replica.
        self.count, self.streak, self.cause = (
            self.add_variable(
                (), initializer="zeros", aggregation="only_first_replica", name=name
            )
            for name in ("count", "streak", "cause")
        )

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
    when it raises). `phase_names` name the updates a cause code counts
    (`None`: one update per step).
    """

    def __init__(self, monitor: NonFiniteMonitor, phase_names, max_steps: int):
        super().__init__()
        self.monitor = monitor
        self.phase_names = phase_names
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
            self.phase_names, int(ops.convert_to_numpy(self.monitor.cause))
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


def with_guard(args: tuple, kwargs: dict, guard: NonFiniteGuard, model):
    """`fit`'s `(args, kwargs)` with `guard` first among the callbacks (it
    must run before the others see a step it stops at)."""
    if len(args) > 5:  # `callbacks` passed by position
        return (*args[:5], _prepend(args[5], guard, model), *args[6:]), kwargs
    kwargs = dict(kwargs)
    kwargs["callbacks"] = _prepend(kwargs.get("callbacks"), guard, model)
    return args, kwargs


def _prepend(callbacks, guard, model):
    if isinstance(callbacks, keras.callbacks.CallbackList):
        # The user's list already holds its History and progress bar.
        return keras.callbacks.CallbackList([guard, *callbacks.callbacks], model=model)
    if callbacks is None:
        return [guard]
    if isinstance(callbacks, keras.callbacks.Callback):
        return [guard, callbacks]
    return [guard, *callbacks]


def compile_from_saved(model, config: dict) -> None:
    """Compiles a loaded model with its saved compile config.

    Keras skips `compile_from_config` for a model whose `compile` is its
    own; the zoo's accept the saved config as is, so a loaded model resumes
    with its optimizer.
    """
    config = dict(config)
    optimizer = config.pop("optimizer", None)
    if isinstance(optimizer, dict):
        optimizer = keras.optimizers.deserialize(optimizer)
    config = keras.saving.deserialize_keras_object(config)
    model.compile(optimizer=optimizer, **config)
    if model.built and not model.optimizer.built:
        # Its saved variables are loaded next, into a built optimizer.
        model.optimizer.build(model.trainable_variables)


class SkipsNonFiniteSteps:
    """Mixin for a `keras.Model` with one optimizer and Keras's `train_step`:
    the `nonfinite_steps` log and `compile(max_nonfinite_steps=3)`.

    The optimizer skips a non-finite update
    (`keras_latent.optimizers.SkipsNonFiniteUpdates`: the zoo's `Adam`,
    which `compile(optimizer="adam")` picks); this mixin counts those steps
    in `nonfinite_steps` and stops `fit` with `NonFiniteTrainingError` after
    `max_nonfinite_steps` in a row. A non-finite loss shows as non-finite
    gradients. With another optimizer nothing is skipped or counted.
    Subclasses map optimizer names to skipping optimizers in
    `optimizer_identifiers`.
    """

    optimizer_identifiers: dict = {}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_nonfinite_steps = 3
        self.nonfinite_monitor = NonFiniteMonitor()

    def compile(self, optimizer="adam", max_nonfinite_steps=3, **kwargs):
        """Configures the model for training, as `keras.Model.compile`.

        Args:
            optimizer: an optimizer or its name. Defaults to `"adam"`, the
                zoo's `keras_latent.optimizers.Adam`, which skips updates
                whose gradients or learning rate are not finite.
            max_nonfinite_steps: int or `None`. `fit` raises
                `NonFiniteTrainingError` after this many skipped steps in a
                row; `None` only skips and counts them. Defaults to `3`.
            **kwargs: passed to `keras.Model.compile`.
        """
        if isinstance(optimizer, str) and optimizer.lower() in (
            self.optimizer_identifiers
        ):
            optimizer = self.optimizer_identifiers[optimizer.lower()]()
        self.max_nonfinite_steps = check_max_nonfinite_steps(max_nonfinite_steps)
        super().compile(optimizer=optimizer, **kwargs)

    def compile_from_config(self, config):
        compile_from_saved(self, config)

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        pop = getattr(self.optimizer, "pop_update_cause", None)
        cause = pop() if pop is not None else None
        if cause is not None:
            self.nonfinite_monitor.update_state(cause)
        logs = super().compute_metrics(x, y, y_pred, sample_weight)
        if cause is None:  # evaluation, or an optimizer that never skips
            logs.pop(self.nonfinite_monitor.name, None)
        return logs

    def fit(self, *args, **kwargs):
        if self.max_nonfinite_steps is None:
            return super().fit(*args, **kwargs)
        guard = NonFiniteGuard(self.nonfinite_monitor, None, self.max_nonfinite_steps)
        args, kwargs = with_guard(args, kwargs, guard, self)
        return super().fit(*args, **kwargs)

"""`MultiPlayerModel`: a `keras.Model` trained as ordered phases."""

from __future__ import annotations

import keras
from keras import ops

from keras_latent.trainer import backends
from keras_latent.trainer.nonfinite import (
    NonFiniteGuard,
    NonFiniteMonitor,
    check_max_nonfinite_steps,
    compile_from_saved,
    with_guard,
)
from keras_latent.trainer.phase import Phase
from keras_latent.trainer.player_optimizers import PlayerOptimizers
from keras_latent.utils.state_guard import RestoreStateOnError


class MultiPlayerModel(RestoreStateOnError, keras.Model):
    """Base class for models trained by several players with their own optimizers.

    A subclass builds its networks in `__init__` and describes training with
    three methods:

    - `players()`: dict of player name → list of trainable variables;
    - `build_phases()`: ordered list of `Phase`s, each naming a player;
    - `default_optimizers()`: dict of player name → optimizer, the reference
      settings used when `compile()` is called without optimizers.

    `fit`, `evaluate`, `predict`, callbacks, `History` and the progress bar
    then work as for any Keras model, on TensorFlow (`tf.function`), JAX
    (`jax.jit`, stateless) and PyTorch (eager). Every optimizer's state is
    saved with the model.

    Logs (`History`, callbacks, `evaluate`):

    - `loss`: the sum of the phases' last losses in each step (for WGAN-GP,
      the critic's last loss plus the generator's), averaged over the epoch
      like every log. It is there for Keras's callbacks
      (`TerminateOnNaN`, `EarlyStopping(monitor="loss")`,
      `ReduceLROnPlateau`): a non-finite loss in any phase makes it
      non-finite.
    - `"{phase}_loss"` and each phase's `metrics`: averaged over the updates
      that were applied; NaN for an epoch in which none was.
    - `nonfinite_steps` (training only): how many of this epoch's steps had
      a phase update that was skipped because its loss, gradients or
      learning rate was not finite (NaN or inf). A skipped update leaves
      the player's variables and its optimizer's state as they were (the
      forward pass's own updates, such as seed generators and training-mode
      BatchNormalization statistics, are kept). After
      `max_nonfinite_steps` such steps in a row (see `compile`), `fit`
      raises `NonFiniteTrainingError`, naming the step and the phase's
      value, and the model keeps its last finite weights.

    Example:

    ```python
    model = keras_latent.models.WGANGP(image_shape=(28, 28, 1))
    model.compile()  # the reference optimizers
    model.fit(images, epochs=1, batch_size=64)
    ```
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._phases = None
        self._phase_trackers = {}
        self.max_nonfinite_steps = 3
        # Keras's own switch: with False, `compile(jit_compile=True)` warns and
        # trains uncompiled (on torch) instead of failing inside torch.compile.
        self.supports_jit = backends.current().SUPPORTS_JIT_COMPILE

    # -- what subclasses describe -------------------------------------------------

    def players(self) -> dict:
        raise NotImplementedError(f"{type(self).__name__} must implement `players()`.")

    def build_phases(self) -> list[Phase]:
        raise NotImplementedError(
            f"{type(self).__name__} must implement `build_phases()`."
        )

    def default_optimizers(self) -> dict:
        raise NotImplementedError(
            f"{type(self).__name__} must implement `default_optimizers()`."
        )

    # -- plumbing -------------------------------------------------------------------

    @property
    def phases(self) -> list[Phase]:
        if self._phases is None:
            self._phases = list(self.build_phases())
            players = set(self.players())
            for phase in self._phases:
                if phase.player not in players:
                    raise ValueError(
                        f"Phase '{phase.name}' updates unknown player "
                        f"'{phase.player}'. Players: {sorted(players)}"
                    )
        return self._phases

    def player_variables(self, player: str) -> list:
        variables = self.players()[player]
        return [v for v in variables if v.trainable]

    def compile(self, optimizer=None, max_nonfinite_steps=3, **kwargs):
        """Configures the players' optimizers.

        Args:
            optimizer: `None` for the model's reference optimizers
                (`default_optimizers()`), a dict mapping every player name to
                an optimizer (or an optimizer identifier such as `"adam"`), or
                a `PlayerOptimizers`. Defaults to `None`.
            max_nonfinite_steps: int or `None`. `fit` raises
                `NonFiniteTrainingError` after this many training steps in a
                row with a skipped non-finite update; `None` only skips and
                counts them. Defaults to `3`. Under mixed_float16 a
                `LossScaleOptimizer`'s own skips (overflowed gradients,
                after which it lowers its scale) are not counted: the
                trainer checks those players' losses and learning rates,
                and leaves their gradients to the optimizer.
            **kwargs: passed to `keras.Model.compile` (e.g. `run_eagerly`,
                `jit_compile`, `steps_per_execution`). A `loss` is not
                accepted: the phases define the losses. On torch the phases
                run eagerly: `jit_compile=True` warns and is turned off.
                Under the `"mixed_float16"` dtype policy each player's
                optimizer is wrapped in a `keras.optimizers.LossScaleOptimizer`,
                as Keras wraps a single optimizer, unless
                `auto_scale_loss=False`.
        """
        if kwargs.get("loss") is not None:
            raise ValueError(
                f"{type(self).__name__} defines its losses in its phases; "
                f"`compile(loss=...)` is not supported. Received: loss="
                f"{kwargs['loss']!r}"
            )
        if optimizer is None:
            optimizer = self.default_optimizers()
        if isinstance(optimizer, dict):
            optimizer = PlayerOptimizers(optimizer)
        if not isinstance(optimizer, PlayerOptimizers):
            raise ValueError(
                f"`optimizer` must be None, a dict of player name → optimizer "
                f"for the players {sorted(self.players())}, or a "
                f"PlayerOptimizers. Received: {optimizer!r}"
            )
        self.max_nonfinite_steps = check_max_nonfinite_steps(max_nonfinite_steps)
        auto_scale_loss = kwargs.pop("auto_scale_loss", True)
        if auto_scale_loss and self.dtype_policy.name == "mixed_float16":
            optimizer = optimizer.with_loss_scaling()
        optimizer.set_player_variables(
            {name: self.player_variables(name) for name in self.players()}
        )
        # Keras would wrap the container itself, which applies no gradients.
        super().compile(optimizer=optimizer, auto_scale_loss=False, **kwargs)
        self._build_trackers()
        if self.built:
            self.optimizer.build(self.trainable_variables)

    def compile_from_config(self, config):
        compile_from_saved(self, config)

    def _build_trackers(self):
        # `loss` first, as Keras orders its logs; `nonfinite_steps` last.
        trackers = {"loss": keras.metrics.Mean(name="loss")}
        for phase in self.phases:
            for name in (f"{phase.name}_loss", *phase.metrics):
                if name in trackers or name == "nonfinite_steps":
                    raise ValueError(
                        f"Two phases report a log named '{name}'; log names "
                        "must be unique across phases and differ from "
                        "'loss' and 'nonfinite_steps'."
                    )
                trackers[name] = _AppliedMean(name=name)
        trackers["nonfinite_steps"] = NonFiniteMonitor()
        self._phase_trackers = trackers

    @property
    def metrics(self):
        return list(self._phase_trackers.values())

    def update_phase_trackers(self, phase: Phase, loss, logs: dict, applied=True):
        """Adds one phase update's loss and logs to their epoch means.

        `applied` (a bool or a boolean tensor) is False for a skipped
        non-finite update, which then leaves the means alone.
        """
        if applied is False:
            return
        weight = None
        if applied is not True:
            weight = ops.cast(applied, "float32")
        for name, value in ((f"{phase.name}_loss", loss), *logs.items()):
            value = ops.cast(value, "float32")
            if weight is not None:
                value = ops.where(applied, value, 0.0)
            self._phase_trackers[name].update_state(value, sample_weight=weight)

    def end_step(self, losses: list, cause=None) -> None:
        """Logs a step's `loss` (the sum of the phases' last `losses`) and,
        when training, its `cause` code (0: every update was applied)."""
        total = ops.sum(ops.stack([ops.cast(x, "float32") for x in losses]))
        self._phase_trackers["loss"].update_state(total)
        if cause is not None:
            self._phase_trackers["nonfinite_steps"].update_state(cause)

    def step_logs(self, training: bool) -> dict:
        """The logs a train or test step returns."""
        logs = self.get_metrics_result()
        if not training:
            logs.pop("nonfinite_steps", None)
        return logs

    def fit(self, *args, **kwargs):
        if self.max_nonfinite_steps is None or not self._phase_trackers:
            return super().fit(*args, **kwargs)
        guard = NonFiniteGuard(
            self._phase_trackers["nonfinite_steps"],
            [phase.name for phase in self.phases],
            self.max_nonfinite_steps,
        )
        args, kwargs = with_guard(args, kwargs, guard, self)
        return super().fit(*args, **kwargs)

    def train_step(self, *args):
        return backends.current().train_step(self, *args)

    def test_step(self, *args):
        return backends.current().test_step(self, *args)


class _AppliedMean(keras.metrics.Mean):
    """A phase log's mean over the applied updates, NaN if none was (where
    Keras's `Mean` would report 0)."""

    def result(self):
        count = ops.cast(self.count, self.dtype)
        mean = self.total / ops.maximum(count, 1.0)
        return ops.where(count > 0, mean, float("nan"))

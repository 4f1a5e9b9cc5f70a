"""`MultiPlayerModel`: a `keras.Model` trained as ordered phases."""

from __future__ import annotations

import keras

from keras_latent.trainer import backends
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

    def compile(self, optimizer=None, **kwargs):
        """Configures the players' optimizers.

        Args:
            optimizer: `None` for the model's reference optimizers
                (`default_optimizers()`), a dict mapping every player name to
                an optimizer (or an optimizer identifier such as `"adam"`), or
                a `PlayerOptimizers`. Defaults to `None`.
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
        # Keras skips this for models that override `compile`; ours accepts the
        # saved config as is, so a loaded model resumes with its optimizers.
        config = dict(config)
        optimizer = config.pop("optimizer", None)
        if isinstance(optimizer, dict):
            optimizer = keras.optimizers.deserialize(optimizer)
        config = keras.saving.deserialize_keras_object(config)
        self.compile(optimizer=optimizer, **config)

    def _build_trackers(self):
        trackers = {}
        for phase in self.phases:
            for name in (f"{phase.name}_loss", *phase.metrics):
                if name in trackers:
                    raise ValueError(
                        f"Two phases report a log named '{name}'; log names "
                        "must be unique across phases."
                    )
                trackers[name] = keras.metrics.Mean(name=name)
        self._phase_trackers = trackers

    @property
    def metrics(self):
        return list(self._phase_trackers.values())

    def update_phase_trackers(self, phase: Phase, loss, logs: dict) -> None:
        self._phase_trackers[f"{phase.name}_loss"].update_state(loss)
        for name, value in logs.items():
            self._phase_trackers[name].update_state(value)

    def train_step(self, *args):
        return backends.current().train_step(self, *args)

    def test_step(self, *args):
        return backends.current().test_step(self, *args)

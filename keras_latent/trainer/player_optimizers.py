"""One optimizer object that holds every player's optimizer."""

from __future__ import annotations

import keras

from keras_latent.utils import keras_internals


@keras.saving.register_keras_serializable(package="keras_latent")
class PlayerOptimizers(keras.optimizers.Optimizer):
    """Holds one optimizer per player and exposes all their state as one.

    Keras models have a single `optimizer` attribute: it is what `fit` threads
    through JAX's stateless state, what `.keras` files save, and what
    `compile_from_config` rebuilds. This container lets several players,
    each with its own optimizer, live in that one slot. Unlike
    `keras.optimizers.MultiOptimizer`, two players may share variables
    (two phases updating the same encoder with different optimizers), since
    each sub-optimizer is built on its player's own variable list.

    The container never applies gradients itself: the phase trainer calls
    each sub-optimizer.

    Args:
        optimizers: dict mapping a player name to a `keras.optimizers.Optimizer`
            (or anything `keras.optimizers.get` accepts).
        name: str. Defaults to `"player_optimizers"`.

    Example:

    ```python
    PlayerOptimizers({
        "critic": keras.optimizers.Adam(1e-4, beta_1=0.0, beta_2=0.9),
        "generator": keras.optimizers.Adam(1e-4, beta_1=0.0, beta_2=0.9),
    })
    ```
    """

    def __init__(self, optimizers: dict, name: str = "player_optimizers", **kwargs):
        kwargs.pop("learning_rate", None)
        super().__init__(learning_rate=0.0, name=name, **kwargs)
        if not isinstance(optimizers, dict) or not optimizers:
            raise ValueError(
                "`optimizers` must be a non-empty dict mapping player names to "
                f"optimizers. Received: {optimizers!r}"
            )
        self._player_optimizers = {
            player: keras.optimizers.get(opt) for player, opt in optimizers.items()
        }
        self._player_variables = None

    @property
    def players(self) -> list[str]:
        return list(self._player_optimizers)

    def __getitem__(self, player: str) -> keras.optimizers.Optimizer:
        try:
            return self._player_optimizers[player]
        except KeyError:
            raise KeyError(
                f"No optimizer for player '{player}'. Players: {self.players}"
            ) from None

    def with_loss_scaling(self) -> PlayerOptimizers:
        """A container of the same optimizers, each in a `LossScaleOptimizer`.

        Players whose optimizer already is one keep it. For mixed_float16
        training; `MultiPlayerModel.compile` calls it.
        """
        wrapped = {
            player: opt
            if isinstance(opt, keras.optimizers.LossScaleOptimizer)
            else keras.optimizers.LossScaleOptimizer(opt)
            for player, opt in self._player_optimizers.items()
        }
        return PlayerOptimizers(wrapped, name=self.name)

    def set_player_variables(self, player_variables: dict) -> None:
        """Tells the container which variables each player's optimizer owns."""
        missing = set(player_variables) - set(self._player_optimizers)
        extra = set(self._player_optimizers) - set(player_variables)
        if missing or extra:
            raise ValueError(
                "The optimizers must match the model's players one to one. "
                f"Players without an optimizer: {sorted(missing)}; optimizers "
                f"without a player: {sorted(extra)}."
            )
        self._player_variables = dict(player_variables)

    def build(self, var_list):
        if self.built:
            return
        if self._player_variables is None:
            raise ValueError(
                "PlayerOptimizers.build() needs the players' variables: call "
                "`set_player_variables` (MultiPlayerModel.compile does) first."
            )
        for player, variables in self._player_variables.items():
            self._player_optimizers[player].build(list(variables))
        super().build(var_list)

    @property
    def variables(self):
        # Order is fixed (own, then players in insertion order) because saving
        # stores optimizer variables by index.
        variables = keras_internals.own_optimizer_variables(self)
        for optimizer in self._player_optimizers.values():
            variables.extend(optimizer.variables)
        return variables

    def apply(self, grads, trainable_variables=None):
        raise NotImplementedError(
            "PlayerOptimizers is driven by the phase trainer: apply gradients "
            "with a player's optimizer, e.g. `optimizers['critic'].apply(...)`."
        )

    def get_config(self):
        return {
            "name": self.name,
            "optimizers": {
                player: keras.optimizers.serialize(opt)
                for player, opt in self._player_optimizers.items()
            },
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        config["optimizers"] = {
            player: keras.optimizers.deserialize(opt, custom_objects=custom_objects)
            for player, opt in config["optimizers"].items()
        }
        return cls(**config)

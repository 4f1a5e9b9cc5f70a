"""A phase: one player's update inside a multi-player training step."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any


@dataclasses.dataclass(frozen=True)
class Phase:
    """One player's update inside a training step.

    A multi-player model (a GAN, an actor-critic) describes its training step
    as an ordered list of phases. Each phase updates the variables of one
    *player* with that player's optimizer, minimising a loss written in
    `keras.ops`. The zoo's trainer runs the phases in order, each `repeat`
    times, inside every `fit` step.

    Args:
        name: str. The phase's name; its loss appears in `fit`'s logs as
            `"{name}_loss"`.
        player: str. Key of the player (see `MultiPlayerModel.players`)
            whose variables this phase updates with its optimizer.
        loss_fn: callable `(data, training) -> loss` or
            `(data, training) -> (loss, logs)`, where `data` is the batch
            given to `fit` and `logs` is a dict of scalar tensors to report.
            Randomness must come from a `keras.random.SeedGenerator` tracked
            by the model, so it advances correctly on every backend.
        repeat: int. How many updates of this phase per training step.
            Defaults to `1`. Every repeat sees the same batch and fresh
            noise (the Keras WGAN-GP convention).
        metrics: sequence of str. Names of the extra logs `loss_fn` returns,
            declared up front so their trackers exist before `fit` starts
            (JAX needs all state ahead of compilation). Defaults to `()`.

    Example:

    ```python
    Phase(
        name="critic",
        player="critic",
        loss_fn=self.critic_loss,
        repeat=5,
        metrics=("wasserstein", "gradient_penalty"),
    )
    ```
    """

    name: str
    player: str
    loss_fn: Callable[..., Any]
    repeat: int = 1
    metrics: Sequence[str] = ()

    def __post_init__(self):
        if not isinstance(self.repeat, int) or self.repeat < 1:
            raise ValueError(
                f"Phase '{self.name}': `repeat` must be a positive int. "
                f"Received: repeat={self.repeat!r}"
            )

    def compute(self, data, training: bool = True):
        """Runs `loss_fn` and normalises its result to `(loss, logs)`."""
        result = self.loss_fn(data, training=training)
        if isinstance(result, tuple):
            loss, logs = result
        else:
            loss, logs = result, {}
        unknown = set(logs) - set(self.metrics)
        if unknown:
            raise ValueError(
                f"Phase '{self.name}' returned logs {sorted(unknown)} that it "
                f"does not declare in `metrics={tuple(self.metrics)}`."
            )
        return loss, logs

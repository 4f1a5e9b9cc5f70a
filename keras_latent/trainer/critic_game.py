"""A critic against one opponent: the shape of the zoo's adversarial models."""

from __future__ import annotations

import keras

from keras_latent.trainer.multi_player_model import MultiPlayerModel
from keras_latent.trainer.phase import Phase


class CriticGame(MultiPlayerModel):
    """Two players: a critic, updated `critic_steps` times per opponent update.

    WGAN-GP's critic plays a generator; Latent Constraints' critic plays an
    actor. A subclass sets the class attributes below, builds the networks
    `self.critic` and `self.<opponent>`, sets `self.critic_steps`, and writes
    `critic_loss(data, training)` and `<opponent>_loss(data, training)`, each
    returning `(loss, logs)` as a `Phase` expects.

    Both players default to Adam(1e-4, β₁ = 0, β₂ = 0.9), the WGAN-GP
    settings (Gulrajani et al. 2017) that Latent Constraints trains with too.

    Attributes:
        opponent: str. The opponent player's name, also the attribute that
            holds its network and the prefix of its loss method.
        critic_metrics: tuple of str. Extra values `critic_loss` logs.
        opponent_metrics: tuple of str. Extra values the opponent's loss logs.
    """

    opponent = "generator"
    critic_metrics: tuple = ()
    opponent_metrics: tuple = ()

    def players(self) -> dict:
        return {
            "critic": self.critic.trainable_variables,
            self.opponent: getattr(self, self.opponent).trainable_variables,
        }

    def default_optimizers(self) -> dict:
        return {
            player: keras.optimizers.Adam(1e-4, beta_1=0.0, beta_2=0.9)
            for player in ("critic", self.opponent)
        }

    def build_phases(self) -> list[Phase]:
        opponent_loss = getattr(self, f"{self.opponent}_loss")
        return [
            Phase(
                "critic",
                "critic",
                self.critic_loss,
                repeat=self.critic_steps,
                metrics=tuple(self.critic_metrics),
            ),
            Phase(
                self.opponent,
                self.opponent,
                opponent_loss,
                metrics=tuple(self.opponent_metrics),
            ),
        ]

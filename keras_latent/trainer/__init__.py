"""The zoo's multi-player trainer: phases, their optimizers, input gradients."""

from keras_latent.trainer.backends import current as _current_backend
from keras_latent.trainer.critic_game import CriticGame
from keras_latent.trainer.multi_player_model import MultiPlayerModel
from keras_latent.trainer.nonfinite import NonFiniteTrainingError
from keras_latent.trainer.phase import Phase
from keras_latent.trainer.player_optimizers import PlayerOptimizers


def input_gradients(fn, x):
    """Returns `(fn(x), gradient of sum(fn(x)) with respect to x)`.

    The gradient is itself differentiable, so a loss that uses it (a gradient
    penalty) can be differentiated again by the phase trainer.

    Args:
        fn: callable mapping a tensor to a tensor (e.g. a critic).
        x: tensor of inputs.

    Example:

    ```python
    scores, grads = input_gradients(lambda t: critic(t, training=True), x_hat)
    ```
    """
    return _current_backend().input_gradients(fn, x)


__all__ = [
    "CriticGame",
    "MultiPlayerModel",
    "NonFiniteTrainingError",
    "Phase",
    "PlayerOptimizers",
    "input_gradients",
]

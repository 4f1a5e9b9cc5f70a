"""The zoo's multi-player trainer: phases, their optimizers, input gradients."""

from keras_latent.trainer.backends import current as _current_backend
from keras_latent.trainer.critic_game import CriticGame
from keras_latent.trainer.multi_player_model import MultiPlayerModel
from keras_latent.trainer.nonfinite import NonFiniteTrainingError
from keras_latent.trainer.phase import Phase
from keras_latent.trainer.player_optimizers import PlayerOptimizers


def input_gradients(fn, x, has_aux: bool = False):
    """Returns `(fn(x), gradient of sum(fn(x)) with respect to x)`.

    The gradient is itself differentiable, so a loss that uses it (a gradient
    penalty) can be differentiated again by the phase trainer.

    Args:
        fn: callable mapping a tensor to a tensor (e.g. a critic); with
            `has_aux`, to `(tensor, aux)`, where `aux` (tensors not
            differentiated) comes back as a third value, from the same pass.
        x: tensor of inputs.
        has_aux: bool. Whether `fn` also returns `aux`. Defaults to `False`.

    Example:

    ```python
    scores, grads = input_gradients(lambda t: critic(t, training=True), x_hat)
    ```
    """
    return _current_backend().input_gradients(fn, x, has_aux=has_aux)


def compiled_input_gradients(fn):
    """`input_gradients(fn, ·, has_aux=True)`, compiled for repeated calls.

    For a loop over one input shape whose networks do not change while it
    runs (the optimisation of latents): JAX and TensorFlow compile the pass
    once (`jax.jit`, `tf.function`), which reads the weights then; PyTorch
    runs it eagerly.

    Args:
        fn: callable mapping a tensor to `(value tensor, aux)`.

    Returns:
        A callable `x → (fn(x)[0], gradient of its sum, aux)`.
    """
    return _current_backend().compiled_input_gradients(fn)


__all__ = [
    "CriticGame",
    "MultiPlayerModel",
    "NonFiniteTrainingError",
    "Phase",
    "PlayerOptimizers",
    "compiled_input_gradients",
    "input_gradients",
]

"""Backend-specific training code: the only place that takes gradients.

Everything else in keras-latent is written in `keras.ops`. Each module here
implements the same functions for one backend:

- `train_step(model, *args)`: run a `MultiPlayerModel`'s phases once,
  skipping every update whose loss, gradients or learning rate is not
  finite (see `keras_latent/trainer/nonfinite.py`).
- `test_step(model, *args)`: evaluate every phase's loss without updates.
- `input_gradients(fn, x, has_aux=False)`: `(fn(x), d sum(fn(x)) / dx)`,
  differentiable again, for gradient penalties; with `has_aux`, `fn`
  returns `(value, aux)` and `aux` comes back third, from the same pass.
- `compiled_input_gradients(fn)`: `input_gradients(fn, ·, has_aux=True)`
  compiled (`jax.jit`, `tf.function`; eager on torch) for a loop that calls
  it many times on inputs of one shape, with the weights `fn` reads fixed.
- `sync_state(model)`: make the model's variables hold what `fit` trained
  so far (JAX's `fit` holds them apart while it runs).

and the constant `SUPPORTS_JIT_COMPILE`: whether `compile(jit_compile=True)`
(XLA, `jax.jit`, `torch.compile`) may compile the phases.
"""

import importlib

import keras

_MODULES = {
    "tensorflow": "keras_latent.trainer.backends.tensorflow",
    "jax": "keras_latent.trainer.backends.jax",
    "torch": "keras_latent.trainer.backends.torch",
}


def current():
    """Returns the trainer module of the active Keras backend."""
    name = keras.backend.backend()
    if name not in _MODULES:
        raise RuntimeError(
            f"keras-latent trains on the backends {sorted(_MODULES)}; the active "
            f"Keras backend is '{name}'. Set KERAS_BACKEND to one of them."
        )
    return importlib.import_module(_MODULES[name])

"""Every use of Keras's private API in keras-latent, in one place.

Keras's public API has no way to do a handful of things the zoo needs: load
a preset on JAX without compiling every initializer, put back variable
values JAX's `fit` detached, read Adam's slots for the in-place torch update,
list an optimizer's own variables, and untrack a replaced sub-network. Each
is a small function here, so a Keras release that renames an attribute
breaks this module alone, and `SUPPORTED_KERAS` (pinned in `pyproject.toml`
too) says which releases these functions were checked against.
"""

from __future__ import annotations

import keras

# The Keras releases this module was checked against: [lowest, first unsupported).
SUPPORTED_KERAS = ((3, 12), (3, 16))

# Keras's torch Adam, the class `adam_slots` reads the slots of.
_KERAS_TORCH_ADAM_MODULE = "keras.src.backend.torch.optimizers.torch_adam"
# Keras's global list of variables whose initialization was deferred.
_UNINITIALIZED = "uninitialized_variables"


def keras_version() -> tuple[int, int]:
    """The installed Keras's `(major, minor)` release."""
    major, minor = keras.__version__.split(".")[:2]
    return int(major), int("".join(c for c in minor if c.isdigit()) or 0)


def check_keras_version() -> None:
    """Raises if the installed Keras is outside `SUPPORTED_KERAS`."""
    lowest, unsupported = SUPPORTED_KERAS
    if not lowest <= keras_version() < unsupported:
        raise RuntimeError(
            f"keras-latent supports Keras {lowest[0]}.{lowest[1]} up to (not "
            f"including) {unsupported[0]}.{unsupported[1]}; Keras "
            f"{keras.__version__} is installed."
        )


# -- variables ------------------------------------------------------------------


def uninitialized_variables() -> list:
    """Variables created in a `StatelessScope` and not initialized yet."""
    from keras.src.backend.common import global_state

    return list(
        global_state.get_global_attribute(_UNINITIALIZED, [], set_to_default=True)
    )


def set_uninitialized_variables(variables: list) -> None:
    """Replaces Keras's list of variables waiting for initialization."""
    from keras.src.backend.common import global_state

    global_state.set_global_attribute(_UNINITIALIZED, list(variables))


def initialize_deferred(variable) -> None:
    """Runs the initializer of a variable created uninitialized."""
    variable._deferred_initialize()


def raw_value(variable):
    """A variable's value as stored, `None` while JAX's `fit` holds it."""
    return variable._value


def set_raw_value(variable, value) -> None:
    """Puts back a value read with `raw_value`, bypassing assignment checks."""
    variable._value = value


# -- optimizers -----------------------------------------------------------------


def is_keras_torch_adam(optimizer) -> bool:
    """Whether `optimizer` is exactly Keras's torch Adam (not a subclass)."""
    kind = type(optimizer)
    return kind.__name__ == "Adam" and kind.__module__ == _KERAS_TORCH_ADAM_MODULE


def has_adam_slots(optimizer) -> bool:
    """Whether `optimizer` keeps its slots where `adam_slots` reads them."""
    slots = ("_momentums", "_velocities", "_get_variable_index")
    if optimizer.amsgrad:
        slots += ("_velocity_hats",)
    return all(hasattr(optimizer, slot) for slot in slots)


def adam_slots(optimizer, variables) -> tuple[list, list, list | None]:
    """Adam's `(momentums, velocities, velocity_hats)` values for `variables`.

    `velocity_hats` is `None` unless the optimizer uses AMSGrad. The values
    are the backend tensors themselves, so updating them in place updates
    the optimizer.
    """
    indices = [optimizer._get_variable_index(v) for v in variables]
    momentums = [optimizer._momentums[i].value for i in indices]
    velocities = [optimizer._velocities[i].value for i in indices]
    velocity_hats = None
    if optimizer.amsgrad:
        velocity_hats = [optimizer._velocity_hats[i].value for i in indices]
    return momentums, velocities, velocity_hats


def own_optimizer_variables(optimizer) -> list:
    """The variables an optimizer created itself (iterations, learning rate)."""
    return optimizer._variables[:]


# -- layers ---------------------------------------------------------------------


def untrack(layer, children) -> None:
    """Stops `layer` tracking `children` (sub-layers it is about to replace).

    Keras untracks a sub-layer only when its attribute is deleted; until
    then its weights would still be counted, saved and expected on load.
    """
    tracker = layer._tracker
    locked = tracker.locked
    tracker.unlock()
    for child in children:
        tracker.untrack(child)
    if locked:
        tracker.lock()

"""The optimisation of latents: identity-preserving edits by gradient descent.

Starting from z₀ (an image's posterior mean, or the actor's output), z
minimises

    w_attr · Σ BCE(D_attr(z), y_target) + w_real · BCE(D(z, y), 1)
        + λ_dist · L_dist(z, z₀) + w_c · constraint(z)

with Adam, batch by batch; each example stops moving once its critics all
pass (docs/models.md, "Latent Constraints"). A pure function of the critics
it is given: the model supplies them.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Sequence

import numpy as np
from keras import ops

from keras_latent import losses
from keras_latent.losses import latent_distance
from keras_latent.trainer import compiled_input_gradients, input_gradients
from keras_latent.utils.inputs import validate_batch_size

# Adam's ε. Keras adds it to sqrt(v) where the reference added it to
# sqrt(v̂) = sqrt(v) / sqrt(1 − β₂ᵗ): a difference far below the 1e-4 to which
# the stored preset outputs are compared.
ADAM_EPSILON = 1e-8


def optimize_latents(
    z_start: np.ndarray,
    labels: np.ndarray,
    realism_logits: Callable,
    attribute_goals: Sequence[tuple],
    latent_std,
    constraint: Callable | None = None,
    batch_size: int = 256,
    anchor: np.ndarray | None = None,
    steps: int = 300,
    learning_rate: float = 2e-2,
    attribute_weight: float = 100.0,
    realism_weight: float = 0.1,
    distance_weight: float = 0.1,
    constraint_weight: float = 1.0,
    threshold: float = 0.99,
) -> np.ndarray:
    """Moves latents towards what the critics (and a constraint) ask for.

    Args:
        z_start: float array `(N, latent_dim)`, where each search starts.
        labels: float array `(N, K)`, the label vectors D(z, y) is given.
        realism_logits: callable `(z, y) → (N,)` float32 logits of the
            realism critic D(z, y).
        attribute_goals: sequence of `(critic, targets)`: an
            `AttributeCritic(network, column, label_type)` and the 0/1 value
            `(N,)` wanted for its column.
        latent_std: σ̄_z `(latent_dim,)`, the scale of L_dist.
        constraint: callable or None. Maps z `(B, latent_dim)` to a loss to
            minimise, per example `(B,)` or one for the batch. With a
            constraint nothing stops early (it has no pass mark). It is
            checked once, on the first batch's starting latents: NaN or inf
            values raise a ValueError, and a zero gradient (a constraint that
            ignores z) warns that it has no effect. Defaults to `None`.
        batch_size: int. Examples optimised together. Defaults to `256`.
        anchor: float array `(N, latent_dim)` or None. The z₀ of L_dist;
            `None` uses `z_start`. Defaults to `None`.
        steps: int. Most Adam steps per batch. Defaults to `300`.
        learning_rate: float. Adam's learning rate. Defaults to `2e-2`.
        attribute_weight: float. w_attr. Defaults to `100.0` (the paper:
            1.0; on CelebA, 100 with `threshold=0.99` flips the asked
            attribute on 78% of val faces against 51%, docs/experiments/
            celeba_latent_constraints.md). Adam's steps do not depend on the
            loss's overall scale, so what this sets is the balance against
            the other terms: with a `constraint` and attributes together,
            raise `constraint_weight` to match.
        realism_weight: float. w_real. Defaults to `0.1`.
        distance_weight: float. λ_dist; `0` drops L_dist. Defaults to `0.1`.
        constraint_weight: float. w_c. Defaults to `1.0`.
        threshold: float in (0, 1). The probability a critic must pass for an
            example to stop. Defaults to `0.99` (the paper stops at 0.5,
            where the latent critics pass long before the decoded image
            shows the attribute).

    Returns:
        The optimised latents, a float32 NumPy array `(N, latent_dim)`.

    Raises:
        ValueError: if the constraint gives NaN or inf at the start, or the
            objective's gradient stops being finite during the search.
    """
    batch_size = validate_batch_size(batch_size)
    if constraint is not None:
        check_constraint(constraint, z_start[:batch_size])
    anchor = z_start if anchor is None else anchor
    objective = functools.partial(
        _objective,
        realism_logits=realism_logits,
        critics=[critic for critic, _ in attribute_goals],
        latent_std=latent_std,
        constraint=constraint,
        weights=(attribute_weight, realism_weight, distance_weight, constraint_weight),
        threshold=threshold,
    )
    out = []
    for start in range(0, len(z_start), batch_size):
        rows = slice(start, start + batch_size)
        batch = functools.partial(
            objective,
            z0=ops.convert_to_tensor(anchor[rows], "float32"),
            y=ops.convert_to_tensor(labels[rows], "float32"),
            targets=[
                ops.convert_to_tensor(target[rows], "float32")
                for _, target in attribute_goals
            ],
        )
        out.append(
            _adam_search(
                batch,
                z_start[rows],
                steps,
                learning_rate,
                stop_early=constraint is None,
                # A user's constraint is run eagerly: it may not be written to
                # be traced (Python branches on values, NumPy calls).
                compiled=constraint is None,
            )
        )
    return np.concatenate(out).astype("float32")


def check_constraint(constraint: Callable, z) -> None:
    """Raises unless `constraint` is finite at `z`; warns if it ignores `z`.

    A NaN constraint would turn every latent it touches into NaN, and a
    constant one would silently do nothing.

    Args:
        constraint: callable mapping latents `(B, latent_dim)` to a loss,
            `(B,)` or one for the batch.
        z: float array `(B, latent_dim)`, the starting latents.
    """

    def values(t):
        value = ops.reshape(ops.cast(constraint(t), "float32"), (-1,))
        # 0·Σz ties the value to z, so a constraint that ignores z gets a zero
        # gradient on every backend (TensorFlow would give None, torch raise).
        return value + 0.0 * ops.sum(t)

    value, grad = input_gradients(values, ops.convert_to_tensor(z, "float32"))
    value, grad = ops.convert_to_numpy(value), ops.convert_to_numpy(grad)
    if not np.all(np.isfinite(value)):
        bad = int(np.sum(~np.isfinite(value)))
        raise ValueError(
            f"`constraint` returned {bad} non-finite value(s) (NaN or inf) out "
            f"of {value.size} at the starting latents. It must return a "
            "finite loss per example (or one for the batch); look for a log "
            "or a division of values that can be 0."
        )
    if not np.all(np.isfinite(grad)):
        raise ValueError(
            "The gradient of `constraint` is not finite (NaN or inf) at the "
            "starting latents, so the optimisation cannot use it."
        )
    if not np.any(grad):
        warnings.warn(
            "`constraint` has a zero gradient at the starting latents: its "
            "value does not depend on them (a constant?), so it has no effect "
            "on the optimisation.",
            stacklevel=4,
        )


def _objective(
    z,
    z0,
    y,
    targets,
    realism_logits,
    critics,
    latent_std,
    constraint,
    weights,
    threshold,
):
    """`(loss per example, whether every critic passes)` at z."""
    attribute_weight, realism_weight, distance_weight, constraint_weight = weights
    logits = realism_logits(z, y)
    loss = realism_weight * losses.sigmoid_cross_entropy(logits, 1.0)
    passed = logits > float(np.log(threshold / (1 - threshold)))
    for (network, column, label_type), target in zip(critics, targets):
        logits = ops.cast(network(z), "float32")
        if label_type == "categorical":
            log_p = ops.log_softmax(logits, axis=-1)[:, column]
            loss = loss - attribute_weight * target * log_p
            p = ops.exp(log_p)
        else:
            loss = loss + attribute_weight * losses.sigmoid_cross_entropy(
                logits[:, column], target
            )
            p = ops.sigmoid(logits[:, column])
        ok = ops.where(target > 0.5, p > threshold, p < threshold)
        passed = ops.logical_and(passed, ok)
    if distance_weight:
        loss = loss + distance_weight * latent_distance(z, z0, latent_std)
    if constraint is not None:
        value = ops.reshape(ops.cast(constraint(z), "float32"), (-1,))
        loss = loss + constraint_weight * ops.broadcast_to(value, ops.shape(loss))
    return loss, passed


def _adam_search(objective, z_start, steps, learning_rate, stop_early, compiled):
    """Adam on one batch of z; examples that pass stop moving.

    Adam steps every row (its moments see every gradient, as the reference's
    did) and the rows that passed keep their previous value. The update is
    Keras's `Adam` (β₁ = 0.9, β₂ = 0.999, ε added to sqrt(v)) in NumPy: the
    latents are a few hundred numbers per example, and the objective's
    gradient is one pass per step, compiled (`compiled_input_gradients`)
    unless `compiled` is False.
    """
    z = np.array(z_start, "float32")
    m, v = np.zeros_like(z), np.zeros_like(z)
    beta_1, beta_2 = 0.9, 0.999
    if compiled:
        gradient_pass = compiled_input_gradients(objective)
    else:

        def gradient_pass(t):
            return input_gradients(objective, t, has_aux=True)

    active = np.ones((len(z), 1), bool)
    for step in range(1, steps + 1):
        # One pass gives the gradient and whether each row already passes.
        _, grad, passed = gradient_pass(ops.convert_to_tensor(z))
        if stop_early:
            active &= ~ops.convert_to_numpy(passed)[:, None]
            if not active.any():
                break
        grad = ops.convert_to_numpy(grad).astype("float32", copy=False)
        if not np.all(np.isfinite(grad)):
            raise ValueError(
                "The optimisation of latents got a non-finite gradient (NaN "
                f"or inf) at step {step}: the critics or the `constraint` "
                "stopped being finite there. Try a smaller `learning_rate` or "
                "a constraint that stays finite."
            )
        m += (grad - m) * (1 - beta_1)
        v += (np.square(grad) - v) * (1 - beta_2)
        # A Python float: a NumPy float64 scalar would promote z to float64.
        alpha = float(learning_rate * np.sqrt(1 - beta_2**step) / (1 - beta_1**step))
        z = np.where(active, z - alpha * m / (np.sqrt(v) + ADAM_EPSILON), z)
    return z.astype("float32")

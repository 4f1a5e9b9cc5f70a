"""JAX phase trainer.

JAX's `fit` is stateless: it passes every variable's value in `state` and
expects the new values back. Each phase therefore runs inside a
`keras.StatelessScope` that maps *every* model variable to its current value
(scopes do not fall back to outer ones), differentiates with
`jax.value_and_grad` with respect to the player's values only, and collects
the non-trainable updates (BatchNorm statistics, seed generators) the phase
made, so the next phase sees them.
"""

import jax
import jax.numpy as jnp
import keras

from keras_latent.trainer import nonfinite

SUPPORTS_JIT_COMPILE = True


class _State:
    """Current values of all of a model's variables, keyed by variable."""

    def __init__(self, model, state, with_optimizer):
        self.model = model
        groups = [model.trainable_variables, model.non_trainable_variables]
        if with_optimizer:
            groups.append(model.optimizer.variables)
        groups.append(model.metrics_variables)
        self.groups = groups
        self.values = {}
        for variables, values in zip(groups, state):
            for v, value in zip(variables, values):
                self.values[id(v)] = value
        self.model_variables = groups[0] + groups[1]

    def get(self, variables):
        return [self.values[id(v)] for v in variables]

    def set(self, variables, values):
        for v, value in zip(variables, values):
            self.values[id(v)] = value

    def as_state(self):
        return tuple(self.get(variables) for variables in self.groups)


def _run_phase(model, phase, data, current, training, optimizer=None):
    """Runs `phase` statelessly; returns `(loss, (logs, new model values))`.

    When training, the gradients are those of `optimizer.scale_loss(loss)`:
    a LossScaleOptimizer's (mixed_float16) or a `loss_scale_factor`'s scale,
    which `apply` divides out. The returned loss is unscaled.
    """
    player = model.player_variables(phase.player) if training else []
    player_ids = {id(v) for v in player}

    def loss_of(player_values):
        replaced = dict(zip((id(v) for v in player), player_values))
        mapping = [
            (v, replaced[id(v)] if id(v) in player_ids else current.values[id(v)])
            for v in current.model_variables
        ]
        with keras.StatelessScope(state_mapping=mapping) as scope:
            loss, logs = phase.compute(data, training=training)
        updated = [scope.get_current_value(v) for v in current.model_variables]
        return loss, (logs, updated)

    if not training:
        return loss_of([])

    def scaled_loss_of(player_values):
        loss, (logs, updated) = loss_of(player_values)
        mapping = list(zip(optimizer.variables, current.get(optimizer.variables)))
        with keras.StatelessScope(state_mapping=mapping):
            scaled = optimizer.scale_loss(loss)
        return scaled, (loss, logs, updated)

    grad_fn = jax.grad(scaled_loss_of, has_aux=True)
    grads, (loss, logs, updated) = grad_fn(current.get(player))
    return (loss, (logs, updated)), grads


def _with_metrics(model, current, update, *args):
    """Runs `update(*args)`, a metrics update, on the metrics' current values."""
    metrics_variables = model.metrics_variables
    mapping = list(zip(metrics_variables, current.get(metrics_variables)))
    with keras.StatelessScope(state_mapping=mapping) as scope:
        update(*args)
    current.set(
        metrics_variables, [scope.get_current_value(v) for v in metrics_variables]
    )


def _metrics_result(model, current, training):
    metrics_variables = model.metrics_variables
    mapping = list(zip(metrics_variables, current.get(metrics_variables)))
    with keras.StatelessScope(state_mapping=mapping):
        return model.step_logs(training)


def _finiteness(loss, grads, optimizer, current):
    """`(loss_ok, grads_ok, lr_ok)`: one sum over all gradients (a sum beyond
    float32's range counts as non-finite; Adam's squared moments would
    overflow long before)."""
    grads_ok = jnp.asarray(True)
    if grads and nonfinite.checks_gradients(optimizer):
        total = sum(jnp.sum(g.astype("float32")) for g in grads)
        grads_ok = jnp.isfinite(total)
    mapping = list(zip(optimizer.variables, current.get(optimizer.variables)))
    with keras.StatelessScope(state_mapping=mapping):
        lr = nonfinite.learning_rate(optimizer)
    return jnp.isfinite(loss.astype("float32")), grads_ok, jnp.isfinite(lr)


def _apply_if(ok, optimizer, grads, variables, current):
    """`optimizer.stateless_apply` when `ok`; else the values stay as they
    were (a `lax.cond`, so a skipped update computes nothing)."""
    old = (current.get(optimizer.variables), current.get(variables))

    def apply(old):
        new_variables, new_optimizer = optimizer.stateless_apply(old[0], grads, old[1])
        return list(new_optimizer), list(new_variables)

    new_optimizer, new_variables = jax.lax.cond(ok, apply, lambda old: old, old)
    current.set(variables, new_variables)
    current.set(optimizer.variables, new_optimizer)


def apply_if_finite(optimizer, grads, variables, apply_fn):
    """`apply_fn(grads, variables)` unless a gradient or the learning rate
    is not finite; returns the update's `nonfinite.cause_code` (phase 0).

    JAX's `fit` calls `stateless_apply_if_finite`; this is an
    `optimizer.apply` called eagerly (under a user's own `jax.jit` it
    applies unchecked: the decision cannot leave the trace).
    """
    present = [g for g in grads if g is not None]
    flags = _update_finiteness(present, optimizer, None)
    code = nonfinite.cause_code(0, True, *flags)
    if isinstance(code, jax.core.Tracer) or float(code) == 0:
        apply_fn(grads, variables)
    return code


def stateless_apply_if_finite(
    optimizer, optimizer_variables, grads, trainable_variables, apply_fn
):
    """`apply_fn(optimizer_variables, grads, trainable_variables)` (a
    `stateless_apply`) unless a gradient or the learning rate is not
    finite, in which case the values come back unchanged (a `lax.cond`).

    Returns `((trainable_variables, optimizer_variables), cause_code)`.
    """
    # Values, not variables: a LossScaleOptimizer passes its inner one the
    # variables themselves (read through its StatelessScope).
    optimizer_variables = [keras.ops.convert_to_tensor(v) for v in optimizer_variables]
    trainable_variables = [keras.ops.convert_to_tensor(v) for v in trainable_variables]
    present = [g for g in grads if g is not None]
    flags = _update_finiteness(present, optimizer, optimizer_variables)
    new = jax.lax.cond(
        jnp.logical_and(*flags),
        lambda: apply_fn(optimizer_variables, grads, trainable_variables),
        lambda: (list(trainable_variables), list(optimizer_variables)),
    )
    return new, nonfinite.cause_code(0, True, *flags)


def _update_finiteness(grads, optimizer, optimizer_variables):
    """`(grads_ok, lr_ok)`, the learning rate read from `optimizer_variables`
    when given (a schedule depends on `iterations`)."""
    grads_ok = jnp.asarray(True)
    if grads and nonfinite.checks_gradients(optimizer):
        grads_ok = jnp.isfinite(sum(jnp.sum(g.astype("float32")) for g in grads))
    if optimizer_variables is None:
        return grads_ok, jnp.isfinite(nonfinite.learning_rate(optimizer))
    mapping = list(zip(optimizer.variables, optimizer_variables))
    with keras.StatelessScope(state_mapping=mapping):
        lr = nonfinite.learning_rate(optimizer)
    return grads_ok, jnp.isfinite(lr)


def train_step(model, state, data):
    current = _State(model, state, with_optimizer=True)
    losses, cause = [], jnp.asarray(0.0)
    for index, phase in enumerate(model.phases):
        variables = model.player_variables(phase.player)
        optimizer = model.optimizer[phase.player]
        for _ in range(phase.repeat):
            (loss, (logs, updated)), grads = _run_phase(
                model, phase, data, current, training=True, optimizer=optimizer
            )
            current.set(current.model_variables, updated)
            flags = _finiteness(loss, grads, optimizer, current)
            ok = flags[0] & flags[1] & flags[2]
            _apply_if(ok, optimizer, grads, variables, current)
            _with_metrics(
                model, current, model.update_phase_trackers, phase, loss, logs, ok
            )
            cause = nonfinite.first_cause(cause, nonfinite.cause_code(index, *flags))
        losses.append(loss)
    _with_metrics(model, current, model.end_step, losses, cause)
    return _metrics_result(model, current, training=True), current.as_state()


def test_step(model, state, data):
    current = _State(model, state, with_optimizer=False)
    losses = []
    for phase in model.phases:
        loss, (logs, updated) = _run_phase(model, phase, data, current, False)
        current.set(current.model_variables, updated)
        _with_metrics(model, current, model.update_phase_trackers, phase, loss, logs)
        losses.append(loss)
    _with_metrics(model, current, model.end_step, losses)
    return _metrics_result(model, current, training=False), current.as_state()


def sync_state(model):
    """Puts the values JAX's `fit` holds back into the model's variables."""
    model.jax_state_sync()


def compiled_input_gradients(fn):
    # The networks' weights are read while tracing and kept as constants: the
    # compiled function is for a search in which they do not change.
    return jax.jit(lambda x: input_gradients(fn, x, has_aux=True))


def input_gradients(fn, x, has_aux=False):
    x = jnp.asarray(x)
    if has_aux:
        y, vjp, aux = jax.vjp(fn, x, has_aux=True)
        (grad,) = vjp(jnp.ones_like(y))
        return y, grad, aux
    y, vjp = jax.vjp(fn, x)
    (grad,) = vjp(jnp.ones_like(y))
    return y, grad

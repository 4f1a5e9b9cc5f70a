"""TensorFlow phase trainer (run inside `tf.function` by `fit`)."""

import tensorflow as tf

from keras_latent.trainer import nonfinite

SUPPORTS_JIT_COMPILE = True


def _gradients(tape, loss, variables):
    grads = tape.gradient(loss, variables)
    # A player that the loss does not reach gets a zero update rather than a
    # crash, so a phase may legitimately leave some of its variables idle.
    return [
        tf.zeros_like(v.value) if g is None else g for g, v in zip(grads, variables)
    ]


def _replica_share(loss):
    # Under a tf.distribute strategy each replica's loss is a mean over its
    # own slice of the global batch, and Keras's optimizers sum the replicas'
    # gradients; dividing by the replica count makes that sum the gradient of
    # the global batch's mean, as Keras's own losses do. Logs stay unscaled.
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    return loss if replicas == 1 else loss / replicas


def _finiteness(loss, grads, optimizer):
    """`(loss_ok, grads_ok, lr_ok)`, the same on every replica.

    The gradients are checked through their global sum: one reduction per
    tensor and one finiteness test (a sum beyond float32's range counts as
    non-finite too; Adam's squared moments would overflow long before).
    """
    grads_ok = tf.constant(True)
    if grads and nonfinite.checks_gradients(optimizer):
        total = tf.add_n(
            [
                tf.reduce_sum(
                    tf.cast(
                        g.values if isinstance(g, tf.IndexedSlices) else g, "float32"
                    )
                )
                for g in grads
            ]
        )
        grads_ok = tf.math.is_finite(total)
    flags = tf.stack(
        [
            tf.math.is_finite(tf.cast(loss, "float32")),
            grads_ok,
            tf.math.is_finite(nonfinite.learning_rate(optimizer)),
        ]
    )
    context = tf.distribute.get_replica_context()
    if context is not None and context.num_replicas_in_sync > 1:
        # Replicas apply one summed update: a value non-finite on one replica
        # skips the update on all of them.
        bad = tf.cast(tf.logical_not(flags), "float32")
        flags = tf.equal(context.all_reduce(tf.distribute.ReduceOp.SUM, bad), 0.0)
    return tuple(tf.unstack(flags))


def _apply_if(ok, optimizer, grads, variables, apply_fn=None):
    """`optimizer.apply(grads, variables)` (or `apply_fn(grads, variables)`)
    when `ok`, else nothing."""
    apply_fn = apply_fn or optimizer.apply

    def apply():
        apply_fn(grads, variables)
        return tf.constant(True)

    if not tf.distribute.has_strategy():
        tf.cond(ok, apply, lambda: tf.constant(False))
        return

    # A strategy's optimizer update calls `merge_call`, which a `cond` in a
    # replica context cannot hold: branch in the cross-replica context, as
    # Keras's LossScaleOptimizer does. `ok` is the same on every replica.
    def cross_replica(strategy, ok, grads, variables):
        ok = strategy.experimental_local_results(ok)[0]

        def apply_all():
            strategy.extended.call_for_each_replica(apply_fn, args=(grads, variables))
            return tf.constant(True)

        tf.cond(ok, apply_all, lambda: tf.constant(False))

    tf.distribute.get_replica_context().merge_call(
        cross_replica, args=(ok, grads, variables)
    )


def apply_if_finite(optimizer, grads, variables, apply_fn):
    """`apply_fn(grads, variables)` unless a gradient or the learning rate
    is not finite; returns the update's `nonfinite.cause_code` (phase 0).

    What a one-optimizer model's optimizer runs inside Keras's own
    `train_step` (see `keras_latent.optimizers`).
    """
    grads = [g for g in grads if g is not None]
    flags = _finiteness(tf.constant(0.0), grads, optimizer)
    _apply_if(tf.reduce_all(tf.stack(flags)), optimizer, grads, variables, apply_fn)
    return nonfinite.cause_code(0, *flags)


def train_step(model, data):
    losses, cause = [], tf.constant(0.0)
    for index, phase in enumerate(model.phases):
        variables = model.player_variables(phase.player)
        optimizer = model.optimizer[phase.player]
        for _ in range(phase.repeat):
            with tf.GradientTape() as tape:
                loss, logs = phase.compute(data, training=True)
                # `scale_loss`: a LossScaleOptimizer's (mixed_float16) or a
                # `loss_scale_factor`'s scale, which `apply` divides out.
                scaled = _replica_share(optimizer.scale_loss(loss))
            grads = _gradients(tape, scaled, variables)
            flags = _finiteness(loss, grads, optimizer)
            ok = tf.reduce_all(tf.stack(flags))
            _apply_if(ok, optimizer, grads, variables)
            model.update_phase_trackers(phase, loss, logs, ok)
            cause = nonfinite.first_cause(cause, nonfinite.cause_code(index, *flags))
        losses.append(loss)
    model.end_step(losses, cause)
    return model.step_logs(training=True)


def test_step(model, data):
    losses = []
    for phase in model.phases:
        loss, logs = phase.compute(data, training=False)
        model.update_phase_trackers(phase, loss, logs)
        losses.append(loss)
    model.end_step(losses)
    return model.step_logs(training=False)


def sync_state(model):
    """Nothing to do: TensorFlow's `fit` updates the variables in place."""


def compiled_input_gradients(fn):
    return tf.function(lambda x: input_gradients(fn, x, has_aux=True))


def input_gradients(fn, x, has_aux=False):
    x = tf.convert_to_tensor(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y, aux = fn(x) if has_aux else (fn(x), None)
    grad = tape.gradient(y, x)
    return (y, grad, aux) if has_aux else (y, grad)

"""TensorFlow phase trainer (run inside `tf.function` by `fit`)."""

import tensorflow as tf

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


def train_step(model, data):
    for phase in model.phases:
        variables = model.player_variables(phase.player)
        optimizer = model.optimizer[phase.player]
        for _ in range(phase.repeat):
            with tf.GradientTape() as tape:
                loss, logs = phase.compute(data, training=True)
                # `scale_loss`: a LossScaleOptimizer's (mixed_float16) or a
                # `loss_scale_factor`'s scale, which `apply` divides out.
                scaled = _replica_share(optimizer.scale_loss(loss))
            optimizer.apply(_gradients(tape, scaled, variables), variables)
            model.update_phase_trackers(phase, loss, logs)
    return model.get_metrics_result()


def test_step(model, data):
    for phase in model.phases:
        loss, logs = phase.compute(data, training=False)
        model.update_phase_trackers(phase, loss, logs)
    return model.get_metrics_result()


def input_gradients(fn, x):
    x = tf.convert_to_tensor(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = fn(x)
    return y, tape.gradient(y, x)

"""Fits a small two-player model, data-parallel or not; saves its weights.

Run by tests/distribution_test.py in a fresh process, because each backend
fixes its devices when it starts:

    python tests/distributed_worker.py OUTPUT.npz NUM_DEVICES

with KERAS_BACKEND set. NUM_DEVICES > 1 trains data-parallel with the
backend's own mechanism: tensorflow `MirroredStrategy` over logical CPUs,
jax `keras.distribution.DataParallel` over host devices, torch one process
per device (gloo) joined by `torch.distributed`. Every run sees the same
global batches, so the final weights must not depend on NUM_DEVICES.
"""

import os
import sys

BACKEND = os.environ["KERAS_BACKEND"]
NUM_DEVICES = int(sys.argv[2])
if BACKEND == "jax":
    os.environ["XLA_FLAGS"] = (
        f"--xla_force_host_platform_device_count={NUM_DEVICES} "
        + os.environ.get("XLA_FLAGS", "")
    )
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import ops  # noqa: E402

from keras_latent.losses import gradient_penalty  # noqa: E402
from keras_latent.trainer import MultiPlayerModel, Phase  # noqa: E402

GLOBAL_BATCH = 16
STEPS = 4
DATA = np.random.RandomState(0).rand(GLOBAL_BATCH * STEPS, 3).astype("float32")


class TwoPlayers(MultiPlayerModel):
    """A critic fitted to a target with a gradient penalty, then a regressor
    fitted to the critic. Deterministic, data-dependent losses and SGD: a
    wrong gradient scale across replicas changes the weights."""

    def __init__(self, seed=3, **kwargs):
        super().__init__(**kwargs)
        init = keras.initializers.GlorotUniform(seed=seed)
        self.critic = keras.Sequential(
            [
                keras.Input((3,)),
                keras.layers.Dense(4, activation="tanh", kernel_initializer=init),
                keras.layers.Dense(1, kernel_initializer=init),
            ]
        )
        self.regressor = keras.Sequential(
            [keras.Input((3,)), keras.layers.Dense(1, kernel_initializer=init)]
        )
        self.built = True

    def players(self):
        return {
            "critic": self.critic.trainable_variables,
            "regressor": self.regressor.trainable_variables,
        }

    def default_optimizers(self):
        return {"critic": keras.optimizers.SGD(0.2), "regressor": "sgd"}

    def build_phases(self):
        return [
            Phase("critic", "critic", self.critic_loss, repeat=2, metrics=("gp",)),
            Phase("regressor", "regressor", self.regressor_loss),
        ]

    def critic_loss(self, x, training=True):
        target = ops.sum(x**2, axis=1, keepdims=True)
        fit = ops.mean((self.critic(x) - target) ** 2)
        penalty = gradient_penalty(lambda v: self.critic(v), x)
        return fit + 0.1 * penalty, {"gp": penalty}

    def regressor_loss(self, x, training=True):
        target = ops.stop_gradient(self.critic(x))
        return ops.mean((self.regressor(x) - target) ** 2)

    def call(self, x):
        return self.regressor(x)


def fit(data, batch_size, seed=3):
    model = TwoPlayers(seed=seed)
    model.compile()
    history = model.fit(data, batch_size=batch_size, shuffle=False, verbose=0)
    weights = {
        f"w{i}": keras.ops.convert_to_numpy(v) for i, v in enumerate(model.weights)
    }
    return weights, history.history


def run_tensorflow(output):
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * NUM_DEVICES
    )
    strategy = tf.distribute.MirroredStrategy([f"/cpu:{i}" for i in range(NUM_DEVICES)])
    assert strategy.num_replicas_in_sync == NUM_DEVICES
    with strategy.scope():
        weights, history = fit(DATA, GLOBAL_BATCH)
    save(output, weights, history)


def run_jax(output):
    import jax

    assert len(jax.devices()) == NUM_DEVICES, jax.devices()
    if NUM_DEVICES > 1:
        keras.distribution.set_distribution(
            keras.distribution.DataParallel(devices=jax.devices())
        )
    weights, history = fit(DATA, GLOBAL_BATCH)
    if NUM_DEVICES > 1:  # the variables really live on every device
        assert len(keras.distribution.distribution().device_mesh.devices) == 2
    save(output, weights, history)


def torch_process(rank, output):
    import torch.distributed as dist

    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    dist.init_process_group("gloo", rank=rank, world_size=NUM_DEVICES)
    try:
        # Each process reads its share of every global batch, as a
        # DistributedSampler without shuffling would give it.
        local = GLOBAL_BATCH // NUM_DEVICES
        batches = DATA.reshape(STEPS, NUM_DEVICES, local, 3)[:, rank]
        # Rank 1 starts from other weights: the trainer must broadcast rank
        # 0's before the first step, as DDP does.
        weights, history = fit(batches.reshape(-1, 3), local, seed=3 + rank)
        if rank == 0:
            save(output, weights, history)
    finally:
        dist.destroy_process_group()


def run_torch(output):
    if NUM_DEVICES == 1:
        weights, history = fit(DATA, GLOBAL_BATCH)
        save(output, weights, history)
        return
    import socket

    import torch.multiprocessing as mp

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        os.environ["MASTER_PORT"] = str(s.getsockname()[1])
    mp.spawn(torch_process, args=(output,), nprocs=NUM_DEVICES)


def save(output, weights, history):
    logs = {f"log_{k}": np.asarray(v) for k, v in history.items()}
    np.savez(output, **weights, **logs)


if __name__ == "__main__":
    {"tensorflow": run_tensorflow, "jax": run_jax, "torch": run_torch}[BACKEND](
        sys.argv[1]
    )

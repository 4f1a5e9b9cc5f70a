"""Speed of one Adam update on the torch backend, five ways.

Times one Adam step on the parameters of a zoo network, in ms, for:

- `keras.optimizers.Adam.apply` (Keras's torch Adam, what Keras's stock
  trainer runs with `keras.optimizers.Adam`);
- `keras_latent.trainer.backends.torch.apply_gradients` (the zoo's
  multi-player trainer: Keras's Adam formula, updated in place);
- `keras_latent.optimizers.Adam.apply` (the same in-place update inside
  Keras's `apply`, what the stock trainer runs with it);
- `torch.optim.Adam` with its CPU default (`foreach=False`) and with
  `foreach=True`.

Every update gets the same fresh gradients. Runs are interleaved, in
alternating order, `--repeats` times, each `--steps` updates after a warm-up;
the table shows medians. The last line gives the largest difference of the
in-place updates' parameters from Keras's after all updates, a check that
they compute the same update.

Run from the repository root:

    python benchmarks/torch_adam_speed.py
    python benchmarks/torch_adam_speed.py --network celeba_latent_constraints_critic

Set `MALLOC_MMAP_THRESHOLD_`/`MALLOC_TRIM_THRESHOLD_` (or preload jemalloc) to
see how much of the difference is the C allocator returning freed memory to
the kernel (see the main README).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

os.environ["KERAS_BACKEND"] = "torch"
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from absl import app, flags  # noqa: E402

import keras_latent  # noqa: E402
from keras_latent.trainer.backends.torch import apply_gradients  # noqa: E402

FLAGS = flags.FLAGS

NETWORKS = ("mnist_mlp_vae", "celeba_latent_constraints_critic")

flags.DEFINE_enum(
    "network",
    NETWORKS[0],
    list(NETWORKS),
    "Whose parameters: the MLP VAE of benchmarks/train_throughput.py, or the "
    "critic of the celeba_latent_constraints preset.",
)
flags.DEFINE_integer("steps", 50, "Timed updates per repeat.")
flags.DEFINE_integer("warmup_steps", 5, "Untimed updates before timing.")
flags.DEFINE_integer("repeats", 5, "Timed repeats; the median wins.")
flags.DEFINE_integer("torch_threads", 0, "torch.set_num_threads (0: default).")


def _shapes():
    import keras_latent
    from keras_latent.models import VAE

    if FLAGS.network == "mnist_mlp_vae":
        variables = VAE(
            image_shape=(28, 28, 1),
            latent_dim=16,
            architecture="mlp",
            hidden_units=(512, 256),
        ).trainable_variables
    else:
        preset = keras_latent.from_preset("celeba_latent_constraints")
        variables = preset.critic.trainable_variables
    return [tuple(v.shape) for v in variables]


def _runners(start, grads):
    """`{name: (update(grads), parameters())}`, all from the same start."""

    def keras_variables():
        return [keras.Variable(v) for v in start]

    keras_vars, trainer_vars = keras_variables(), keras_variables()
    zoo_vars = keras_variables()
    keras_adam = keras.optimizers.Adam(1e-3)
    trainer_adam = keras.optimizers.Adam(1e-3)
    zoo_adam = keras_latent.optimizers.Adam(1e-3)
    keras_adam.build(keras_vars)
    trainer_adam.build(trainer_vars)
    zoo_adam.build(zoo_vars)

    def keras_update(g):
        with torch.no_grad():
            keras_adam.apply(g, keras_vars)

    def trainer_update(g):
        apply_gradients(trainer_adam, g, trainer_vars)

    def zoo_update(g):
        with torch.no_grad():
            zoo_adam.apply(g, zoo_vars)

    runners = {
        "keras Adam.apply": (keras_update, lambda: [v.value for v in keras_vars]),
        "keras-latent in place": (
            trainer_update,
            lambda: [v.value for v in trainer_vars],
        ),
        "keras_latent.optimizers.Adam.apply": (
            zoo_update,
            lambda: [v.value for v in zoo_vars],
        ),
    }
    for foreach in (False, True):
        params = [torch.nn.Parameter(torch.from_numpy(v.copy())) for v in start]
        optimizer = torch.optim.Adam(params, lr=1e-3, eps=1e-7, foreach=foreach)

        def torch_update(g, params=params, optimizer=optimizer):
            for p, grad in zip(params, g):
                p.grad = grad
            optimizer.step()

        runners[f"torch.optim.Adam foreach={foreach}"] = (
            torch_update,
            lambda params=params: params,
        )
    return runners


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    if FLAGS.torch_threads:
        torch.set_num_threads(FLAGS.torch_threads)
    rng = np.random.default_rng(0)
    shapes = _shapes()
    start = [rng.normal(size=s).astype("float32") * 0.05 for s in shapes]
    grads = [
        [torch.from_numpy(rng.normal(size=s).astype("float32")) for s in shapes]
        for _ in range(FLAGS.steps)
    ]
    runners = _runners(start, grads)
    for update, _ in runners.values():
        for g in grads[: FLAGS.warmup_steps]:
            update(g)
    times = {name: [] for name in runners}
    order = list(runners)
    for _ in range(FLAGS.repeats):
        for name in order:
            update, _ = runners[name]
            begin = time.perf_counter()
            for g in grads:
                update(g)
            times[name].append((time.perf_counter() - begin) / FLAGS.steps * 1e3)
        order.reverse()

    keras_params = runners["keras Adam.apply"][1]()
    difference = max(
        float((a - b).detach().abs().max())
        for name in ("keras-latent in place", "keras_latent.optimizers.Adam.apply")
        for a, b in zip(keras_params, runners[name][1]())
    )
    num_params = sum(int(np.prod(s)) for s in shapes)
    print(f"| update ({FLAGS.network}, {num_params:,} parameters) | ms per step |")
    print("|---|---:|")
    for name, values in times.items():
        print(f"| {name} | {statistics.median(values):.2f} |")
    print(
        f"\ntorch {torch.__version__}, keras {keras.__version__}, "
        f"{torch.get_num_threads()} threads; median of {FLAGS.repeats} repeats of "
        f"{FLAGS.steps} updates. In-place updates vs Keras's Adam after all updates: "
        f"largest parameter difference {difference:.1e}."
    )


if __name__ == "__main__":
    app.run(main)

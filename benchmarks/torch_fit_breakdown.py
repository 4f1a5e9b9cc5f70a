"""Where a torch `fit` step of the VAE spends its time, against a hand loop.

`train_throughput.py --torch_keras_layers` shows that on torch, `fit` of the
VAE (Keras's stock trainer) is slower than a torch loop over the same Keras
layers and the same Adam. This script shows where that difference goes. It
runs `fit` with an instrumented copy of Keras's `TorchTrainer.train_step`
(same calls, in the same order, with a clock between them), and the loop of
`train_throughput.py` with a clock between its parts, then prints ms per step:

- each part of `train_step`: the model's `__call__` (encoder, sampling,
  decoder and the KL `add_loss`), `zero_grad`, `compute_loss` (our losses and
  the model's two trackers), Keras's loss tracker, `backward`, collecting the
  gradients, the optimizer's `apply` and `compute_metrics`;
- `fit` between two `train_step`s: the epoch iterator (Keras's torch
  `DataLoader` over the arrays) and the callbacks (`fit`'s fixed cost per
  call, before its first step, is left out, as in `train_throughput.py`);
- the loop's forward, loss, `autograd.grad` and `apply`.

The copy of `train_step` follows Keras 3.15; the script checks the installed
Keras's step still makes the same calls and refuses to run otherwise. The two
sides run in alternating order, `--repeats` times; the table shows medians,
and the whole step is the sum of its parts.

Run from the repository root, on an otherwise idle machine:

    python benchmarks/torch_fit_breakdown.py
    python benchmarks/torch_fit_breakdown.py --batch_size 64
"""

from __future__ import annotations

import collections
import inspect
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
import torch.nn.functional as F  # noqa: E402
from absl import app, flags  # noqa: E402
from keras.src import tree  # noqa: E402
from keras.src.backend.torch.trainer import TorchTrainer  # noqa: E402
from keras.src.trainers.data_adapters import data_adapter_utils  # noqa: E402

import keras_latent  # noqa: E402
from keras_latent.models import VAE  # noqa: E402

FLAGS = flags.FLAGS

flags.DEFINE_integer("batch_size", 128, "Images per step (the mnist_vae recipe's).")
flags.DEFINE_integer("steps", 60, "Timed steps per repeat.")
flags.DEFINE_integer("warmup_steps", 5, "Untimed steps before the first repeat.")
flags.DEFINE_integer("repeats", 3, "Timed repeats per side; the median wins.")
flags.DEFINE_integer("seed", 0, "Seed of the data and the weights.")

# The mnist_vae preset's architecture (recipes/train_mnist_vae.py).
VAE_CONFIG = {
    "image_shape": (28, 28, 1),
    "latent_dim": 16,
    "architecture": "mlp",
    "hidden_units": (512, 256),
    "decoder_distribution": "bernoulli",
    "seed": 0,
}

# The calls of Keras's `TorchTrainer.train_step` the copy below reproduces.
KERAS_STEP_CALLS = (
    "self(x, training=True)",
    "self.zero_grad()",
    "self._compute_loss(",
    "self._loss_tracker.update_state(",
    "self.optimizer.scale_loss(loss)",
    "loss.backward()",
    "self.trainable_weights[:]",
    "self.optimizer.apply(gradients, trainable_weights)",
    "self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)",
)


class Clock:
    """Adds the time since the last mark to a named part."""

    def __init__(self):
        self.totals = collections.defaultdict(float)
        self.counts = collections.Counter()
        self.last = time.perf_counter()
        self.skip_next = False

    def start(self):
        self.last = time.perf_counter()

    def mark(self, part):
        now = time.perf_counter()
        if self.skip_next:
            self.skip_next = False
        else:
            self.totals[part] += now - self.last
            self.counts[part] += 1
        self.last = now

    def per_call_ms(self):
        return {p: self.totals[p] / self.counts[p] * 1e3 for p in self.totals}


def _check_keras_step():
    source = inspect.getsource(TorchTrainer.train_step)
    missing = [call for call in KERAS_STEP_CALLS if call not in source]
    if missing:
        raise SystemExit(
            f"Keras {keras.__version__}'s torch train_step no longer makes "
            f"{missing}; update this script's copy of it first."
        )


def _instrumented_train_step(clock):
    """Keras 3.15's `TorchTrainer.train_step`, with a clock between calls."""

    def train_step(self, data):
        clock.mark("fit: outside train_step (iterator, callbacks)")
        x, y, sample_weight = data_adapter_utils.unpack_x_y_sample_weight(data)
        y_pred = self(x, training=True)
        clock.mark("model __call__ (encode, sample, decode, KL add_loss)")
        self.zero_grad()
        clock.mark("zero_grad")
        loss = self._compute_loss(
            x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=True
        )
        clock.mark("compute_loss (losses, the model's 2 trackers)")
        batch = next(i for i in tree.flatten(x) if i is not None).shape[0]
        self._loss_tracker.update_state(loss, sample_weight=batch)
        loss = self.optimizer.scale_loss(loss)
        clock.mark("Keras's loss tracker")
        loss.backward()
        clock.mark("backward / autograd.grad")
        trainable_weights = self.trainable_weights[:]
        gradients = [v.value.grad for v in trainable_weights]
        clock.mark("trainable_weights, gradients list")
        with torch.no_grad():
            self.optimizer.apply(gradients, trainable_weights)
        clock.mark("optimizer apply")
        logs = self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)
        clock.mark("compute_metrics (read 3 trackers)")
        return logs

    return train_step


def _keras_layers_loop(clock, batches):
    """`train_throughput.py`'s torch loop over the zoo VAE's Keras networks."""
    zoo = VAE(**VAE_CONFIG)
    zoo.build((None, *VAE_CONFIG["image_shape"]))
    variables = zoo.encoder.trainable_variables + zoo.decoder.trainable_variables
    optimizer = keras_latent.optimizers.Adam(1e-3)
    optimizer.build(variables)
    values = [v.value for v in variables]

    def step(x):
        clock.start()
        mean, raw_std = zoo.encoder(x, training=True).chunk(2, dim=-1)
        std = F.softplus(raw_std) + 1e-6
        z = mean + std * torch.randn_like(mean)
        logits = zoo.decoder(z, training=True)
        clock.mark("model __call__ (encode, sample, decode, KL add_loss)")
        reconstruction = (F.softplus(logits) - x * logits).sum(dim=(1, 2, 3))
        log_var = 2.0 * torch.log(std)
        kl = 0.5 * torch.sum(mean.square() + log_var.exp() - 1.0 - log_var, dim=-1)
        loss = reconstruction.mean() + kl.mean()
        clock.mark("compute_loss (losses, the model's 2 trackers)")
        grads = torch.autograd.grad(loss, values)
        clock.mark("backward / autograd.grad")
        with torch.no_grad():
            optimizer.apply(grads, variables)
        clock.mark("optimizer apply")

    def run(num_steps):
        for x in batches[:num_steps]:
            step(x)

    return run


def main(argv):
    del argv
    _check_keras_step()
    keras.utils.set_random_seed(FLAGS.seed)
    batch, steps = FLAGS.batch_size, FLAGS.steps
    rng = np.random.default_rng(FLAGS.seed)
    images = rng.random((steps * batch, *VAE_CONFIG["image_shape"]), np.float32)
    batches = [
        torch.from_numpy(images[i * batch : (i + 1) * batch]) for i in range(steps)
    ]

    fit_clock, loop_clock = Clock(), Clock()
    model = VAE(**VAE_CONFIG)
    model.compile(optimizer=keras_latent.optimizers.Adam(1e-3))
    # Instance attribute: Keras's `make_train_function` calls `self.train_step`.
    model.train_step = _instrumented_train_step(fit_clock).__get__(model)

    def run_fit(num_steps):
        # The time up to the first step is `fit`'s fixed cost per call (data
        # adapter, symbolic build), not a step's.
        fit_clock.skip_next = True
        model.fit(
            images[: num_steps * batch],
            batch_size=batch,
            epochs=1,
            shuffle=False,
            verbose=0,
        )

    run_loop = _keras_layers_loop(loop_clock, batches)
    run_fit(FLAGS.warmup_steps)
    run_loop(FLAGS.warmup_steps)

    per_step = {
        "fit": collections.defaultdict(list),
        "loop": collections.defaultdict(list),
    }
    sides = [("fit", run_fit, fit_clock), ("loop", run_loop, loop_clock)]
    for repeat in range(FLAGS.repeats):
        for name, run, clock in sides if repeat % 2 == 0 else sides[::-1]:
            clock.totals.clear()
            clock.counts.clear()
            run(steps)
            for part, ms in clock.per_call_ms().items():
                per_step[name][part].append(ms)

    parts = list(per_step["fit"])
    print(
        f"torch VAE step, ms (median of {FLAGS.repeats}), batch {batch}, "
        f"{torch.get_num_threads()} threads, Keras {keras.__version__}, "
        f"torch {torch.__version__}"
    )
    print()
    print("| part | fit | loop over the same Keras layers | fit − loop |")
    print("|---|---:|---:|---:|")
    for part in parts:
        fit_ms = statistics.median(per_step["fit"][part])
        if part in per_step["loop"]:
            loop_ms = statistics.median(per_step["loop"][part])
            loop_cell = f"{loop_ms:.2f}"
        else:  # the loop has no such part
            loop_ms, loop_cell = 0.0, "—"
        print(f"| {part} | {fit_ms:.2f} | {loop_cell} | {fit_ms - loop_ms:+.2f} |")
    fit_total, loop_total = (
        sum(statistics.median(v) for v in per_step[k].values()) for k in ("fit", "loop")
    )
    print(
        f"| **whole step** | **{fit_total:.2f}** | **{loop_total:.2f}** | "
        f"**{fit_total - loop_total:+.2f}** |"
    )


if __name__ == "__main__":
    app.run(main)

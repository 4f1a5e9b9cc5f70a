"""Speed of a LatentConstraints preset: loading, generation, edits, training.

On each Keras backend, this loads a `LatentConstraints` preset (by default
`celeba_latent_constraints`) and times:

- load: `keras_latent.from_preset(preset)`. The first load in the process is
  the cold one, reported on its own (`keras_latent` is already imported, its
  import time is in the JSON); then the median of `--repeats` warm loads;
- generate: `model.generate({first attribute: 1}, num_samples=N, seed=i)`,
  images per second: prior samples, the actor G(z, y) and the decoder;
- transform: `model.transform(images, {first attribute: 1}, method="actor")`
  on N random images in [0, 1], edits per second: the encoder, the attribute
  critics (they read the attributes the edit keeps), the actor and the
  decoder. A preset without an attribute critic cannot edit: the table shows
  "–";
- fit: the model's own actor-critic `fit` after `model.compile()`, on random
  posteriors `{"z_mean", "z_std"}` (std about 0.5) and random 0/1 labels
  (one-hot for a categorical model), in steps per second and critic updates
  per second. One step is `critic_steps` updates of the realism critic and
  one of the actor. `--warmup_steps` steps (compilation included) run in a
  first `fit` call; a second call of `--train_steps` steps is timed from its
  first step to the end of its epoch (its fixed cost per call is in the
  JSON's `fit_call_seconds`).

On JAX, `from_preset` builds the networks without running their random
initializers (the weights file replaces the values at once), so the cold load
pays no per-shape compilation; before that change it took 7-15 s here.

Generate and transform run once untimed (warm-up) and then `--repeats` times;
the table shows medians. Speed does not depend on the content of the images
or latents, so the data are random; `fit` comes last, since it changes the
weights. Each backend runs in its own subprocess, since Keras fixes its
backend per process. The targets are a load under 1 s and at least 500
generated faces per second on a 2-core CPU; the script prints them under the
table and checks nothing.

Run from the repository root:

    python benchmarks/latent_constraints_speed.py
    python benchmarks/latent_constraints_speed.py --backends jax \\
        --preset mnist_latent_constraints --output results.json
    # A smoke test:
    python benchmarks/latent_constraints_speed.py --num_samples 256 \\
        --train_steps 5 --repeats 2

On a machine busy with other jobs, pass `--torch_threads 1`: torch's OpenMP
threads fighting another process for the cores make every torch number many
times slower.
"""

from __future__ import annotations

import gc
import os
import statistics
import time
from pathlib import Path

import backend_workers  # benchmarks/ is on sys.path when run as a script
import numpy as np
from absl import app, flags, logging

TARGET_LOAD_SECONDS = 1.0
TARGET_GENERATE_IMAGES_PER_SECOND = 500.0

FLAGS = flags.FLAGS

# --backends, --torch_threads, --output and the internal --worker, --backend.
backend_workers.define_flags()
flags.adopt_module_key_flags(backend_workers)
flags.DEFINE_string(
    "preset",
    "celeba_latent_constraints",
    "LatentConstraints preset: a built-in name, a directory, hf:// or kaggle://.",
)
flags.DEFINE_integer(
    "num_samples", 2048, "Images per generate call and per transform call."
)
flags.DEFINE_integer(
    "repeats", 3, "Timed warm loads, generate and transform calls; medians win."
)
flags.DEFINE_integer("batch_size", 128, "Posteriors per fit step.")
flags.DEFINE_integer("train_steps", 30, "Timed fit steps.")
flags.DEFINE_integer(
    "warmup_steps", 3, "Untimed fit steps before timing (they include compilation)."
)
flags.DEFINE_integer("seed", 0, "Seed of the data and of the training noise.")

# Flags the parent passes on to its workers.
_FORWARDED = [
    "preset",
    "num_samples",
    "repeats",
    "batch_size",
    "train_steps",
    "warmup_steps",
    "seed",
    "torch_threads",
]


# -- the worker: one backend ----------------------------------------------------------


def _seconds(fn):
    gc.collect()  # so that a call does not pay for the previous one's garbage
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _time_loads():
    """`(model, import seconds, cold load seconds, [warm load seconds])`."""
    start = time.perf_counter()
    import keras_latent

    import_seconds = time.perf_counter() - start
    start = time.perf_counter()
    model = keras_latent.from_preset(FLAGS.preset)
    cold = time.perf_counter() - start
    from keras_latent.models import LatentConstraints

    if not isinstance(model, LatentConstraints):
        raise ValueError(
            f"Preset {FLAGS.preset!r} holds a {type(model).__name__}, not a "
            "LatentConstraints model."
        )
    warm = []
    for _ in range(FLAGS.repeats):
        del model
        gc.collect()
        start = time.perf_counter()
        model = keras_latent.from_preset(FLAGS.preset)
        warm.append(time.perf_counter() - start)
    return model, import_seconds, cold, warm


def _time_generate(model, attributes):
    n = FLAGS.num_samples
    model.generate(attributes, num_samples=n, seed=0)  # warm-up
    return [
        _seconds(lambda i=i: model.generate(attributes, num_samples=n, seed=i))
        for i in range(1, FLAGS.repeats + 1)
    ]


def _time_transform(model, attributes):
    """Seconds of each timed call, or None when the model cannot edit."""
    if not model.attribute_critic_networks:
        return None
    rng = np.random.default_rng(FLAGS.seed)
    shape = (FLAGS.num_samples, *model.image_shape)
    images = rng.random(shape, dtype=np.float32)
    model.transform(images, attributes, method="actor")  # warm-up
    return [
        _seconds(lambda: model.transform(images, attributes, method="actor"))
        for _ in range(FLAGS.repeats)
    ]


def _training_data(model, count):
    """Random posteriors `{"z_mean", "z_std"}` and label vectors, float32."""
    rng = np.random.default_rng(FLAGS.seed)
    shape = (count, model.latent_dim)
    x = {
        "z_mean": rng.standard_normal(shape, dtype=np.float32),
        "z_std": rng.uniform(0.4, 0.6, shape).astype("float32"),
    }
    k = len(model.attribute_names)
    if model.label_type == "categorical":
        y = np.eye(k, dtype="float32")[rng.integers(0, k, count)]
    else:
        y = rng.integers(0, 2, (count, k)).astype("float32")
    return x, y


def _time_fit(model):
    """`(seconds of the timed steps, seconds of the whole timed call)`."""
    import keras

    keras.utils.set_random_seed(FLAGS.seed)
    batch_size = FLAGS.batch_size
    x, y = _training_data(
        model, max(FLAGS.train_steps, FLAGS.warmup_steps) * batch_size
    )
    model.compile()

    def run(num_steps, callbacks=()):
        model.fit(
            x,
            y,
            batch_size=batch_size,
            epochs=1,
            steps_per_epoch=num_steps,
            shuffle=False,
            verbose=0,
            callbacks=list(callbacks),
        )

    run(FLAGS.warmup_steps)
    clock = backend_workers.step_clock()
    call_seconds = _seconds(lambda: run(FLAGS.train_steps, [clock]))
    return clock.stop - clock.start, call_seconds


def _benchmark(backend):
    model, import_seconds, cold, warm = _time_loads()
    attribute = model.attribute_names[0]
    attributes = {attribute: 1}
    n = FLAGS.num_samples

    generate_seconds = _time_generate(model, attributes)
    transform_seconds = _time_transform(model, attributes)
    fit_seconds, fit_call_seconds = _time_fit(model)

    steps_per_second = FLAGS.train_steps / fit_seconds
    result = {
        "backend": backend,
        "preset": FLAGS.preset,
        "image_shape": list(model.image_shape),
        "latent_dim": model.latent_dim,
        "attribute_names": list(model.attribute_names),
        "label_type": model.label_type,
        "known_attributes": model.known_attributes,
        "critic_units": list(model.critic_units),
        "actor_units": list(model.actor_units),
        "critic_steps": model.critic_steps,
        "attribute": attribute,
        "num_samples": n,
        "repeats": FLAGS.repeats,
        "batch_size": FLAGS.batch_size,
        "train_steps": FLAGS.train_steps,
        "warmup_steps": FLAGS.warmup_steps,
        "cpu_count": os.cpu_count(),
        "import_seconds": import_seconds,
        "load_cold_seconds": cold,
        "load_warm_seconds": statistics.median(warm),
        "all_load_warm_seconds": warm,
        "generate_seconds": generate_seconds,
        "generate_images_per_second": n / statistics.median(generate_seconds),
        "transform_seconds": transform_seconds,
        "transform_images_per_second": None
        if transform_seconds is None
        else n / statistics.median(transform_seconds),
        "fit_seconds": fit_seconds,
        "fit_call_seconds": fit_call_seconds,
        "fit_steps_per_second": steps_per_second,
        "critic_updates_per_second": steps_per_second * model.critic_steps,
    }
    threads = backend_workers.torch_threads()
    if threads is not None:
        result["torch_threads"] = threads
    logging.info(
        "%s: load %.2f s, generate %.0f img/s, fit %.2f steps/s",
        backend,
        result["load_warm_seconds"],
        result["generate_images_per_second"],
        steps_per_second,
    )
    return result


# -- the parent: one subprocess per backend, one table --------------------------------


def _check_preset(preset):
    """A usage error now rather than one traceback per backend."""
    if preset.startswith(("hf://", "kaggle://")):
        return
    zoo = backend_workers.REPO_ROOT / "zoo"
    if Path(preset).is_dir() or (zoo / preset).is_dir():
        return
    raise app.UsageError(
        f"No preset {preset!r}: not a directory nor a built-in preset in "
        f"{zoo}. Pass --preset (a LatentConstraints preset)."
    )


def _table(results):
    header = (
        "backend",
        "load cold (s)",
        "load warm (s)",
        "generate (img/s)",
        "transform (img/s)",
        "fit (steps/s)",
        "critic updates/s",
    )
    rows = []
    for r in results:
        transform = r["transform_images_per_second"]
        rows.append(
            (
                r["backend"],
                f"{r['load_cold_seconds']:.2f}",
                f"{r['load_warm_seconds']:.2f}",
                f"{r['generate_images_per_second']:,.0f}",
                "–" if transform is None else f"{transform:,.0f}",
                f"{r['fit_steps_per_second']:.2f}",
                f"{r['critic_updates_per_second']:.1f}",
            )
        )
    return backend_workers.markdown_table(header, rows)


def _report(results):
    """Prints the table and the settings; returns the results for --output."""
    print(_table(results))
    if results:
        first = results[0]
        threads = ""
        if "torch" in FLAGS.backends:
            threads = f"; torch threads: {FLAGS.torch_threads or 'default'}"
        print(
            f"\npreset: {first['preset']} "
            f"({'×'.join(map(str, first['image_shape']))} images, "
            f"{first['latent_dim']}-d latents, attributes "
            f"{', '.join(first['attribute_names'])}; {first['critic_steps']} "
            f"critic updates per fit step)\n"
            f"device: {os.cpu_count()}-core CPU{threads}\n"
            f"generate and transform: {first['num_samples']:,} images with "
            f"{{{first['attribute']!r}: 1}}, median of {first['repeats']} call(s) "
            "after a warm-up call; load: the first load in the process (cold), "
            f"then the median of {first['repeats']}; fit: {FLAGS.train_steps} "
            f"steps of batch {FLAGS.batch_size} after {FLAGS.warmup_steps} "
            "warm-up steps."
        )
    print(
        f"targets: load < {TARGET_LOAD_SECONDS:g} s, "
        f"generate ≥ {TARGET_GENERATE_IMAGES_PER_SECOND:g} img/s"
    )
    return results


def main(argv):
    backend_workers.check_no_arguments(argv)
    for name in ("num_samples", "repeats", "batch_size", "train_steps", "warmup_steps"):
        if FLAGS[name].value < 1:
            raise app.UsageError(f"--{name} must be at least 1.")
    _check_preset(FLAGS.preset)
    backend_workers.run(__file__, _FORWARDED, _benchmark, _report)


if __name__ == "__main__":
    app.run(main)

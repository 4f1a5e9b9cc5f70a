"""Speed of the metrics toolkit: FID, KID and IS over 10,000 64×64×3 images.

On each Keras backend, this times the pieces of a standard evaluation:

- features: the judge's penultimate features of the real and the generated
  images and its probabilities on the generated ones. By default the way
  `keras_latent.evaluate` gets them: one pass of the judge per image with
  both outputs. `--features_route=toolkit` uses the public functions instead
  (`metrics.classifier_features` twice, then `predict_proba`: three passes);
- FID (`metrics.fid`), KID (`metrics.kid`, 100 subsets of 1,000) and IS
  (`metrics.inception_score`, 10 splits) on those arrays;

and then the same three metrics end to end through `keras_latent.evaluate`,
which streams the generated images and gets features and probabilities from
one pass of the judge. The images are random (speed does not depend on
content): uint8 values scaled to [0, 1]. The judge is a small
`ImageClassifier` with random weights built here, unless `--judge` names a
preset (then the images take its shape). One warm-up batch goes through the
judge before timing, so the table shows steady-state speed rather than
compilation. Each backend runs in its own subprocess, since Keras fixes its
backend per process. The target is a total under 60 s on a 2-core CPU.

Run from the repository root:

    python benchmarks/metrics_speed.py
    python benchmarks/metrics_speed.py --backends jax --judge mnist_classifier
    # A smoke test:
    python benchmarks/metrics_speed.py --num_images 500

On a machine busy with other jobs, pass `--torch_threads 1 --blas_threads 1`:
OpenBLAS threads (NumPy: FID, KID) and torch's threads competing with another
process for the cores make those numbers many times slower.
"""

from __future__ import annotations

import statistics
import time

import backend_workers  # benchmarks/ is on sys.path when run as a script
import numpy as np
from absl import app, flags, logging

TARGET_SECONDS = 60.0
STAGES = ("features", "fid", "kid", "is")

FLAGS = flags.FLAGS

# --backends, --torch_threads, --output and the internal --worker, --backend.
backend_workers.define_flags()
flags.adopt_module_key_flags(backend_workers)
flags.DEFINE_integer("num_images", 10000, "Generated images (and real images).")
flags.DEFINE_list(
    "image_shape", ["64", "64", "3"], "Height, width, channels (ignored with --judge)."
)
flags.DEFINE_integer("batch_size", 256, "Images per forward pass of the judge.")
flags.DEFINE_string(
    "judge", None, "Judge preset; default: a small random-weight ImageClassifier."
)
flags.DEFINE_list("judge_filters", ["16", "32"], "Conv channels of the random judge.")
flags.DEFINE_integer("judge_dense_units", 128, "Feature width of the random judge.")
flags.DEFINE_integer("judge_classes", 10, "Classes of the random judge.")
flags.DEFINE_enum(
    "features_route",
    "one_pass",
    ["one_pass", "toolkit"],
    "one_pass: features and probabilities from one judge pass (as evaluate); "
    "toolkit: classifier_features twice plus predict_proba.",
)
flags.DEFINE_integer("kid_subsets", 100, "KID subsets.")
flags.DEFINE_integer("kid_subset_size", 1000, "KID subset size.")
flags.DEFINE_integer("is_splits", 10, "Inception Score splits.")
flags.DEFINE_integer("repeats", 1, "Timed repeats; the table shows medians.")
flags.DEFINE_bool("evaluate", True, "Also time keras_latent.evaluate end to end.")
flags.DEFINE_integer("seed", 0, "Seed of the data and the judge's weights.")
flags.DEFINE_integer(
    "blas_threads", 0, "OPENBLAS_NUM_THREADS for the workers (0: default)."
)

# Flags the parent passes on to its workers.
_FORWARDED = [
    "num_images",
    "image_shape",
    "batch_size",
    "judge",
    "judge_filters",
    "judge_dense_units",
    "judge_classes",
    "features_route",
    "kid_subsets",
    "kid_subset_size",
    "is_splits",
    "repeats",
    "evaluate",
    "seed",
    "torch_threads",
]


# -- the worker: one backend ----------------------------------------------------------


def _judge():
    """The judge and a phrase naming it."""
    import keras

    import keras_latent
    from keras_latent.models import ImageClassifier

    if FLAGS.judge:
        return keras_latent.from_preset(FLAGS.judge), FLAGS.judge
    keras.utils.set_random_seed(FLAGS.seed)
    judge = ImageClassifier(
        image_shape=tuple(int(d) for d in FLAGS.image_shape),
        class_names=[str(c) for c in range(FLAGS.judge_classes)],
        filters=[int(f) for f in FLAGS.judge_filters],
        dense_units=FLAGS.judge_dense_units,
    )
    filters = "/".join(FLAGS.judge_filters)
    name = (
        f"random ImageClassifier (filters {filters}, "
        f"{FLAGS.judge_dense_units} dense units)"
    )
    return judge, name


def _random_images(count, shape, seed):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (count, *shape), dtype=np.uint8).astype(
        "float32"
    ) / np.float32(255)


class _Replay:
    """A "generator" that hands out pre-made images, for `evaluate`."""

    def __init__(self, images):
        self.images = images
        self.image_shape = tuple(images.shape[1:])
        self.cursor = 0

    def generate(self, num_samples, seed=None):
        batch = self.images[self.cursor : self.cursor + num_samples]
        self.cursor += num_samples
        return batch


def _one_pass(two_headed, images):
    """Features and probabilities of `images`, batch by batch, in one pass."""
    from keras_latent.evaluation import _run_judge

    features, probabilities = [], []
    for start in range(0, len(images), FLAGS.batch_size):
        f, p = _run_judge(two_headed, images[start : start + FLAGS.batch_size])
        features.append(f)
        probabilities.append(p)
    return np.concatenate(features), np.concatenate(probabilities)


def _time_stages(judge, two_headed, real, fake):
    """Seconds of each stage of the toolkit, run one after the other."""
    from keras_latent import metrics

    seconds = {}
    start = time.perf_counter()
    if FLAGS.features_route == "toolkit":
        real_features = metrics.classifier_features(judge, real, FLAGS.batch_size)
        fake_features = metrics.classifier_features(judge, fake, FLAGS.batch_size)
        probabilities = judge.predict_proba(fake, FLAGS.batch_size)
    else:
        # Real probabilities too, as evaluate uses them for the real-data IS.
        real_features, _ = _one_pass(two_headed, real)
        fake_features, probabilities = _one_pass(two_headed, fake)
    seconds["features"] = time.perf_counter() - start

    start = time.perf_counter()
    fid = metrics.fid(real_features, fake_features)
    seconds["fid"] = time.perf_counter() - start

    start = time.perf_counter()
    kid, _ = metrics.kid(
        real_features,
        fake_features,
        num_subsets=FLAGS.kid_subsets,
        subset_size=FLAGS.kid_subset_size,
        seed=FLAGS.seed,
    )
    seconds["kid"] = time.perf_counter() - start

    start = time.perf_counter()
    score, _ = metrics.inception_score(probabilities, FLAGS.is_splits)
    seconds["is"] = time.perf_counter() - start
    seconds["total"] = sum(seconds[stage] for stage in STAGES)
    values = {"fid": fid, "kid": kid, "is": score}
    return seconds, values


def _time_evaluate(judge, real, fake):
    import keras_latent

    start = time.perf_counter()
    report = keras_latent.evaluate(
        _Replay(fake),
        metrics=("fid", "kid", "is"),
        data=real,
        num_samples=len(fake),
        judge=judge,
        batch_size=FLAGS.batch_size,
        seed=FLAGS.seed,
        verbose=False,
    )
    return time.perf_counter() - start, report["results"]


def _benchmark(backend):
    judge, judge_name = _judge()
    shape = tuple(judge.image_shape)
    real = _random_images(FLAGS.num_images, shape, FLAGS.seed)
    fake = _random_images(FLAGS.num_images, shape, FLAGS.seed + 1)

    # The two-output judge network `evaluate` builds (same layers, weights).
    from keras_latent.evaluation import _judge_model

    two_headed, _, feature_dim = _judge_model(judge)
    # Warm-up: compiles the judge's forward pass (jit on JAX) outside the clock.
    # (classifier_features builds a new feature model per call, so on the
    # toolkit route each call still compiles its own.)
    _one_pass(two_headed, fake[: FLAGS.batch_size])
    judge.predict_proba(fake[: FLAGS.batch_size], FLAGS.batch_size)

    runs, evaluate_seconds = [], []
    for _ in range(FLAGS.repeats):
        seconds, values = _time_stages(judge, two_headed, real, fake)
        runs.append(seconds)
        if FLAGS.evaluate:
            elapsed, results = _time_evaluate(judge, real, fake)
            evaluate_seconds.append(elapsed)
            # Both routes measure the same numbers.
            if not np.isclose(results["fid"], values["fid"], rtol=1e-4, atol=1e-6):
                raise AssertionError(
                    f"evaluate's FID {results['fid']} != the toolkit's {values['fid']}"
                )
    median = {
        key: statistics.median(run[key] for run in runs) for key in (*STAGES, "total")
    }
    result = {
        "backend": backend,
        "num_images": FLAGS.num_images,
        "image_shape": list(shape),
        "judge": judge_name,
        "feature_dim": feature_dim,
        "batch_size": FLAGS.batch_size,
        "features_route": FLAGS.features_route,
        "repeats": FLAGS.repeats,
        "seconds": median,
        "all_seconds": runs,
        "values": values,
    }
    if evaluate_seconds:
        result["evaluate_seconds"] = statistics.median(evaluate_seconds)
    logging.info("%s: total %.1f s", backend, median["total"])
    return result


# -- the parent: one subprocess per backend, one table --------------------------------


def _table(results):
    header = ("backend", "features (s)", "FID (s)", "KID (s)", "IS (s)", "total (s)")
    rows = [
        (
            result["backend"],
            *(f"{result['seconds'][key]:.2f}" for key in (*STAGES, "total")),
        )
        for result in results
    ]
    return backend_workers.markdown_table(header, rows)


def _evaluate_table(results):
    header = ("backend", "evaluate(fid, kid, is) end to end (s)")
    rows = [(r["backend"], f"{r['evaluate_seconds']:.2f}") for r in results]
    return backend_workers.markdown_table(header, rows)


def _report(results):
    """Prints the tables and the settings; returns the results for --output."""
    print(_table(results))
    routes = {
        "one_pass": "one judge pass per real and fake image, both outputs",
        "toolkit": "classifier_features(real), classifier_features(fake), "
        "predict_proba(fake)",
    }
    if results:
        first = results[0]
        print(
            f"\n{first['num_images']:,} generated and {first['num_images']:,} real "
            f"{'×'.join(map(str, first['image_shape']))} images; judge: "
            f"{first['judge']} ({first['feature_dim']}-d features), batch "
            f"{first['batch_size']}; features: {routes[first['features_route']]}; "
            f"KID {FLAGS.kid_subsets} subsets of "
            f"{FLAGS.kid_subset_size}; IS {FLAGS.is_splits} splits; median of "
            f"{first['repeats']} run(s) after a warm-up batch; OpenBLAS threads: "
            f"{FLAGS.blas_threads or 'default'}. Target: total under "
            f"{TARGET_SECONDS:.0f} s on a 2-core CPU."
        )
    if results and all("evaluate_seconds" in r for r in results):
        print()
        print(_evaluate_table(results))
        print(
            "\nevaluate streams the images once through the judge (features and "
            "probabilities from one pass) and judges the real images too."
        )
    return results


def main(argv):
    backend_workers.check_no_arguments(argv)
    if FLAGS.num_images < 2 or FLAGS.repeats < 1:
        raise app.UsageError("--num_images must be ≥ 2 and --repeats ≥ 1.")
    env = (
        {"OPENBLAS_NUM_THREADS": str(FLAGS.blas_threads)} if FLAGS.blas_threads else {}
    )
    backend_workers.run(__file__, _FORWARDED, _benchmark, _report, env=env)


if __name__ == "__main__":
    app.run(main)

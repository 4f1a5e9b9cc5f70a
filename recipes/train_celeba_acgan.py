"""Trains `celeba_acgan`: AC-GAN faces conditioned on ten CelebA attributes.

    python recipes/train_celeba_acgan.py --output zoo/celeba_acgan

A multi-label `ACGAN` (one sigmoid per attribute) on the 64x64 CelebA
subset (random left-right flips), with the ten attributes Latent Constraints conditions
on. It is measured as Latent Constraints is: the independent
`celeba_attribute_classifier` judges samples generated for the label
vectors of the CelebA test partition (only their labels are needed; the
test images are held back), next to the same judge on the real val faces.
Resumes from `--backup_dir` if a run was interrupted.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import publishing  # noqa: E402  (recipes/ is on sys.path when run as a script)
from absl import app, flags  # noqa: E402

import keras_latent  # noqa: E402
from keras_latent import datasets, metrics  # noqa: E402
from keras_latent.models import ACGAN  # noqa: E402

FLAGS = publishing.define_training_flags(
    "celeba_acgan", "celeba64/", epochs=None, batch_size=64
)
flags.DEFINE_integer("epochs", 40, "Epochs of `steps_per_epoch` generator steps.")
flags.DEFINE_integer("steps_per_epoch", 500, "Generator steps per epoch.")
flags.DEFINE_list(
    "attributes", publishing.CELEBA_CONDITIONING_ATTRIBUTES, "Conditioning attributes."
)
flags.DEFINE_list("generator_filters", ["256", "128", "64", "32"], "Map up.")
flags.DEFINE_list("critic_filters", ["32", "64", "128", "256"], "Critic channels.")
flags.DEFINE_integer("latent_dim", 128, "Noise dimension.")
flags.DEFINE_float("ema_decay", 0.999, "EMA of the generator's weights.")
flags.DEFINE_enum(
    "critic_class_loss", "real_and_fake", ["real_and_fake", "real"], "AC-GAN's."
)
flags.DEFINE_string("judge", "celeba_attribute_classifier", "Attribute judge.")
flags.DEFINE_integer("num_samples", 2000, "Samples judged (test label vectors).")
flags.DEFINE_integer("limit", None, "Use only this many train images (smoke runs).")


def training_data(names):
    """Shuffled batches with random left-right flips, and the train arrays."""
    x, y, _ = datasets.celeba_arrays("train", names, data_dir=FLAGS.data_dir)
    x, y = x[: FLAGS.limit], y[: FLAGS.limit].astype("float32")
    # uint8 in memory; NumPy batches, so it runs on any backend without TF.
    batches = datasets.ArrayBatches(
        x, y, batch_size=FLAGS.batch_size, flip=True, seed=FLAGS.seed
    )
    return batches, x, y


def measure(model, names):
    """`(64 test label vectors for the grid, the metrics)`."""
    judge = keras_latent.from_preset(FLAGS.judge)
    columns = [judge.class_names.index(n) for n in names]
    x_val, y_val, _ = datasets.celeba_arrays("val", names, data_dir=FLAGS.data_dir)
    real = judge.predict_proba(x_val.astype("float32") / 255.0)[:, columns]
    test_labels = datasets.celeba_label_vectors("test", names, FLAGS.data_dir)
    rng = np.random.default_rng(FLAGS.seed)
    chosen = rng.choice(len(test_labels), FLAGS.num_samples, replace=False)
    labels = test_labels[chosen].astype("float32")
    samples = model.generate(labels, num_samples=len(labels), seed=FLAGS.seed)
    fake = judge.predict_proba(samples)[:, columns]
    generated = metrics.attribute_scores(fake, labels, attribute_names=names)
    on_real = metrics.attribute_scores(real, y_val, attribute_names=names)
    gap = on_real["accuracy"] - generated["accuracy"]
    print(
        f"attribute accuracy: samples {generated['accuracy']:.4f}, real val "
        f"{on_real['accuracy']:.4f} (gap {gap:.4f})"
    )
    return labels[:64], {
        "attribute_accuracy": {
            "value": round(float(generated["accuracy"]), 4),
            "real_val": round(float(on_real["accuracy"]), 4),
            "gap_points": round(100 * float(gap), 2),
            "per_attribute": {
                n: round(float(v["accuracy"]), 4)
                for n, v in generated["per_attribute"].items()
            },
            "protocol": f"'{FLAGS.judge}' (threshold 0.5) on {len(labels)} "
            f"samples generated for label vectors drawn (seed {FLAGS.seed}) "
            "from the CelebA test partition, macro accuracy over the "
            f"attributes {names}; real_val: the judge on the {len(x_val)} val "
            "faces with their labels",
        }
    }


def main(argv):
    del argv
    keras.utils.set_random_seed(FLAGS.seed)
    names = list(FLAGS.attributes)
    train, x_train, y_train = training_data(names)
    model = ACGAN(
        image_shape=(64, 64, 3),
        attribute_names=names,
        label_type="multi_label",
        latent_dim=FLAGS.latent_dim,
        generator_filters=[int(f) for f in FLAGS.generator_filters],
        critic_filters=[int(f) for f in FLAGS.critic_filters],
        critic_class_loss=FLAGS.critic_class_loss,
        ema_decay=FLAGS.ema_decay,
        seed=FLAGS.seed,
    )
    model.set_label_prior(y_train)
    model.compile()
    history, run = publishing.fit(
        model, train, steps_per_epoch=FLAGS.steps_per_epoch, shuffle=False
    )
    steps = FLAGS.epochs * FLAGS.steps_per_epoch
    grid_labels, results = measure(model, names)
    metadata = publishing.training_metadata(
        "train_celeba_acgan",
        data=publishing.read_from(
            f"CelebA 64x64 train split ({len(x_train):,} images, each flipped "
            "left-right at random)",
            "celeba64/",
        ),
        split={
            "train": "train",
            "report": "label vectors of the test partition (images held back); "
            "the judge's reference on val",
        },
        steps=steps,
        critic_updates=steps * model.critic_steps,
        **run,
        history=history,
        metrics=results,
    )
    record = metadata["metrics"]["attribute_accuracy"]
    body = f"""
An AC-GAN (Odena, Olah & Shlens 2017) for 64x64 CelebA faces, conditioned on
{len(names)} attributes with one sigmoid each: {", ".join(names)}. The
generator maps {FLAGS.latent_dim}-d noise and the label vector through a 4x4
map and four stride-2 transposed convolutions (BatchNorm, ReLU, tanh); the
critic has four stride-2 convolutions (LeakyReLU 0.2) and one head with the
source logit and the {len(names)} attribute logits. Non-saturating loss,
Adam(2e-4, β1 = 0.5); samples come from an EMA ({FLAGS.ema_decay}) of the
generator's weights.

```python
gan = keras_latent.from_preset("celeba_acgan")
faces = gan.generate({{"Smiling": 1, "Eyeglasses": 1}}, num_samples=16, seed=0)
```

![samples](samples.png) (for 64 label vectors of the test partition)

The independent `{FLAGS.judge}` reads the asked-for attributes in the samples
with accuracy {record["value"]} (macro over the attributes, label vectors of the
CelebA test partition), against {record["real_val"]} on real val faces: a gap
of {record["gap_points"]} points.
"""
    publishing.publish(model, metadata, "celeba_acgan", body)
    grid = model.generate(grid_labels, num_samples=len(grid_labels), seed=FLAGS.seed)
    publishing.save_grid(grid, "samples.png")


if __name__ == "__main__":
    app.run(main)

"""Trains `mnist_vae` and measures it on the MNIST test set.

    python recipes/train_mnist_vae.py --output zoo/mnist_vae

Resumes from `--backup_dir` if a run was interrupted.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import publishing  # noqa: E402  (recipes/ is on sys.path when run as a script)
from absl import app, flags  # noqa: E402

import keras_latent  # noqa: E402
from keras_latent import datasets  # noqa: E402
from keras_latent.images import save_image_grid  # noqa: E402
from keras_latent.models import VAE  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_string("data_dir", None, "Folder with mnist/mnist.npz (default: auto).")
flags.DEFINE_string("output", "zoo/mnist_vae", "Preset directory to write.")
flags.DEFINE_string(
    "judge", "mnist_classifier", "Classifier preset for the sanity figure."
)
flags.DEFINE_string("backup_dir", "runs/mnist_vae", "Checkpoints to resume from.")
flags.DEFINE_integer("epochs", 30, "Training epochs.")
flags.DEFINE_integer("batch_size", 128, "Batch size.")
flags.DEFINE_integer("latent_dim", 16, "Latent dimension.")
flags.DEFINE_float("learning_rate", 1e-3, "Adam learning rate.")
flags.DEFINE_integer("num_samples", 10000, "Samples judged for the sanity figure.")
flags.DEFINE_integer("seed", 0, "Random seed.")


def main(argv):
    del argv
    keras.utils.set_random_seed(FLAGS.seed)
    x_train, _ = datasets.mnist_arrays("train", data_dir=FLAGS.data_dir)
    x_test, y_test = datasets.mnist_arrays("test", data_dir=FLAGS.data_dir)
    x_train = x_train.astype("float32") / 255.0
    x_test = x_test.astype("float32") / 255.0

    model = VAE(
        image_shape=(28, 28, 1),
        latent_dim=FLAGS.latent_dim,
        architecture="mlp",
        hidden_units=(512, 256),
        decoder_distribution="bernoulli",
        seed=FLAGS.seed,
    )
    model.compile(optimizer=keras_latent.optimizers.Adam(FLAGS.learning_rate))
    clock = publishing.Stopwatch()
    history = model.fit(
        x_train,
        epochs=FLAGS.epochs,
        batch_size=FLAGS.batch_size,
        shuffle=True,
        verbose=2,
        callbacks=[keras.callbacks.BackupAndRestore(FLAGS.backup_dir)],
    )
    wall = clock.seconds()

    # Test figures: ELBO with one z sample per image (nats per image), and the
    # MSE of posterior-mean reconstructions, pixels in [0, 1].
    neg_elbo = np.concatenate(
        [
            keras.ops.convert_to_numpy(model.negative_elbo(x_test[i : i + 500]))
            for i in range(0, len(x_test), 500)
        ]
    )
    reconstructions = model.reconstruct(x_test)
    mse = float(np.mean((reconstructions - x_test) ** 2))
    print(f"test ELBO: {-neg_elbo.mean():.2f} nats; reconstruction MSE: {mse:.5f}")

    judge = keras_latent.from_preset(FLAGS.judge)
    samples = model.generate(FLAGS.num_samples, seed=FLAGS.seed)
    generated = publishing.confident_class_shares(judge.predict_proba(samples))
    real = publishing.confident_class_shares(judge.predict_proba(x_test))
    print(
        f"confident share: samples {generated['confident_share']}, "
        f"real {real['confident_share']}"
    )

    steps = FLAGS.epochs * int(np.ceil(len(x_train) / FLAGS.batch_size))
    metadata = {
        "recipe": "recipes/train_mnist_vae.py",
        "command": publishing.command_line(),
        "data": f"MNIST train ({len(x_train):,} images) from "
        + publishing.data_source("mnist/mnist.npz", FLAGS.data_dir),
        "split": {
            "train": f"train (all {len(x_train):,})",
            "report": f"test ({len(x_test):,})",
        },
        "epochs": FLAGS.epochs,
        "batch_size": FLAGS.batch_size,
        "steps": steps,
        "wall_time_s": wall,
        "hardware": publishing.hardware(),
        "final_train_logs": {
            k: round(float(v[-1]), 4) for k, v in history.history.items()
        },
        "metrics": {
            "test_elbo_nats": {
                "value": round(float(-neg_elbo.mean()), 2),
                "protocol": "mean ELBO per image (Bernoulli decoder, beta=1) over "
                f"the {len(x_test):,} MNIST test images, one z sample each",
            },
            "test_reconstruction_mse": {
                "value": round(mse, 5),
                "protocol": "mean squared error of posterior-mean reconstructions "
                f"of the {len(x_test):,} test images, pixels in [0, 1]",
            },
            "judge_confident_share": {
                "samples": generated,
                "real_test": real,
                "protocol": f"{FLAGS.num_samples} samples (seed {FLAGS.seed}) and "
                f"the {len(x_test):,} test images labelled by the "
                f"'{FLAGS.judge}' preset; "
                "share of all images assigned to each class, and with p > 0.9",
            },
        },
    }
    model.save_to_preset(FLAGS.output, metadata=metadata)
    save_image_grid(
        model.generate(64, seed=FLAGS.seed),
        f"{FLAGS.output}/samples.png",
        rows=8,
        scale=2,
    )
    save_image_grid(
        np.concatenate([x_test[:32], reconstructions[:32]]),
        f"{FLAGS.output}/reconstructions.png",
        rows=8,
        scale=2,
    )
    metadata = keras_latent.load_preset_metadata(FLAGS.output)
    body = f"""
An MLP variational autoencoder for MNIST (encoder 784-512-256-2×{FLAGS.latent_dim},
mirrored decoder, Bernoulli likelihood, β = 1).

```python
vae = keras_latent.from_preset("mnist_vae")
digits = vae.generate(16, seed=0)
```

![samples](samples.png)

Test reconstructions (top four rows: test images; bottom four: reconstructions):

![reconstructions](reconstructions.png)

## Measured on the MNIST test set

| metric | value |
|---|---|
| ELBO (nats per image, 1 sample) | {-neg_elbo.mean():.2f} |
| reconstruction MSE (pixels in [0, 1]) | {mse:.5f} |

Sanity figure: the independent `{FLAGS.judge}` labels {FLAGS.num_samples} samples:

{publishing.shares_table(generated, real)}
"""
    publishing.write_card(FLAGS.output, "mnist_vae", body, metadata)


if __name__ == "__main__":
    app.run(main)

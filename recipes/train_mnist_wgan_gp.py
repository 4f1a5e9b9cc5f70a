"""Trains `mnist_wgan_gp` and measures it with the independent MNIST judge.

    python recipes/train_mnist_wgan_gp.py --output zoo/mnist_wgan_gp

Resumes from `--backup_dir` if a run was interrupted.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import publishing  # noqa: E402  (recipes/ is on sys.path when run as a script)
from absl import app, flags  # noqa: E402

import keras_latent  # noqa: E402
from keras_latent import datasets  # noqa: E402
from keras_latent.images import save_image_grid  # noqa: E402
from keras_latent.models import WGANGP  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_string("data_dir", None, "Folder with mnist/mnist.npz (default: auto).")
flags.DEFINE_string("output", "zoo/mnist_wgan_gp", "Preset directory to write.")
flags.DEFINE_string(
    "judge", "mnist_classifier", "Classifier preset for the sanity figure."
)
flags.DEFINE_string("backup_dir", "runs/mnist_wgan_gp", "Checkpoints to resume from.")
flags.DEFINE_integer(
    "epochs", 12, "Epochs; an epoch is one pass of `steps_per_epoch` steps."
)
flags.DEFINE_integer("steps_per_epoch", 500, "Generator steps per epoch.")
flags.DEFINE_integer("batch_size", 64, "Batch size.")
flags.DEFINE_integer("critic_steps", 5, "Critic updates per generator update.")
flags.DEFINE_list(
    "generator_filters", ["64", "32"], "Generator channels, small map up."
)
flags.DEFINE_list("critic_filters", ["32", "64"], "Critic channels.")
flags.DEFINE_integer("num_samples", 10000, "Samples judged for the sanity figure.")
flags.DEFINE_integer("seed", 0, "Random seed.")


def main(argv):
    del argv
    keras.utils.set_random_seed(FLAGS.seed)
    x_train, _ = datasets.mnist_arrays("train", data_dir=FLAGS.data_dir)
    x_test, _ = datasets.mnist_arrays("test", data_dir=FLAGS.data_dir)
    x_test = x_test.astype("float32") / 255.0
    train = (
        datasets.load_mnist(
            "train",
            data_dir=FLAGS.data_dir,
            batch_size=FLAGS.batch_size,
            shuffle=True,
            seed=FLAGS.seed,
        )
        .map(lambda image, label: image)
        .repeat()
    )

    model = WGANGP(
        image_shape=(28, 28, 1),
        latent_dim=128,
        generator_filters=[int(f) for f in FLAGS.generator_filters],
        critic_filters=[int(f) for f in FLAGS.critic_filters],
        critic_steps=FLAGS.critic_steps,
        seed=FLAGS.seed,
    )
    model.compile()
    clock = publishing.Stopwatch()
    history = model.fit(
        train,
        epochs=FLAGS.epochs,
        steps_per_epoch=FLAGS.steps_per_epoch,
        verbose=2,
        callbacks=[keras.callbacks.BackupAndRestore(FLAGS.backup_dir)],
    )
    wall = clock.seconds()

    judge = keras_latent.from_preset(FLAGS.judge)
    samples = model.generate(FLAGS.num_samples, seed=FLAGS.seed)
    generated = publishing.confident_class_shares(judge.predict_proba(samples))
    real = publishing.confident_class_shares(judge.predict_proba(x_test))
    print(
        f"confident share: samples {generated['confident_share']}, "
        f"real {real['confident_share']}"
    )

    steps = FLAGS.epochs * FLAGS.steps_per_epoch
    metadata = {
        "recipe": "recipes/train_mnist_wgan_gp.py",
        "command": publishing.command_line(),
        "data": f"MNIST train ({len(x_train):,} images) from "
        + publishing.data_source("mnist/mnist.npz", FLAGS.data_dir),
        "split": {
            "train": f"train (all {len(x_train):,})",
            "report": f"test ({len(x_test):,}) for the judge's reference",
        },
        "epochs": FLAGS.epochs,
        "batch_size": FLAGS.batch_size,
        "steps": steps,
        "critic_updates": steps * FLAGS.critic_steps,
        "wall_time_s": wall,
        "hardware": publishing.hardware(),
        "final_train_logs": {
            k: round(float(v[-1]), 4) for k, v in history.history.items()
        },
        "history": {
            k: [round(float(x), 4) for x in v] for k, v in history.history.items()
        },
        "metrics": {
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
    metadata = keras_latent.load_preset_metadata(FLAGS.output)
    body = f"""
A WGAN-GP (Gulrajani et al. 2017) for MNIST with DCGAN-style networks: the
generator maps 128-d noise through a 7×7×{FLAGS.generator_filters[0]} map and two
stride-2 transposed convolutions (batch norm, ReLU) to a tanh image; the critic has
two stride-2 convolutions ({", ".join(FLAGS.critic_filters)} channels, LeakyReLU 0.2,
no normalisation). Both are sized to train on a 2-core CPU.
λ = 10, {FLAGS.critic_steps} critic updates per generator update,
Adam(1e-4, β1 = 0, β2 = 0.9) for both players.

```python
gan = keras_latent.from_preset("mnist_wgan_gp")
digits = gan.generate(16, seed=0)
```

![samples](samples.png)

Critic's Wasserstein estimate at the end of training:
{metadata["final_train_logs"].get("wasserstein")}.

Sanity figure: the independent `{FLAGS.judge}` labels {FLAGS.num_samples} samples:

{publishing.shares_table(generated, real)}
"""
    publishing.write_card(FLAGS.output, "mnist_wgan_gp", body, metadata)


if __name__ == "__main__":
    app.run(main)

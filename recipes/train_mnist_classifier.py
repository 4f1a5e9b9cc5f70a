"""Trains `mnist_classifier`, the independent judge of generated digits.

python recipes/train_mnist_classifier.py --output zoo/mnist_classifier

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
from keras_latent.models import ImageClassifier  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_string("data_dir", None, "Folder with mnist/mnist.npz (default: auto).")
flags.DEFINE_string("output", "zoo/mnist_classifier", "Preset directory to write.")
flags.DEFINE_string(
    "backup_dir", "runs/mnist_classifier", "Checkpoints to resume from."
)
flags.DEFINE_integer("epochs", 4, "Training epochs.")
flags.DEFINE_integer("batch_size", 128, "Batch size.")
flags.DEFINE_integer("seed", 0, "Random seed.")


def main(argv):
    del argv
    keras.utils.set_random_seed(FLAGS.seed)
    x_train, y_train = datasets.mnist_arrays("train", data_dir=FLAGS.data_dir)
    x_test, y_test = datasets.mnist_arrays("test", data_dir=FLAGS.data_dir)
    x_train = x_train.astype("float32") / 255.0
    x_test = x_test.astype("float32") / 255.0

    model = ImageClassifier(image_shape=(28, 28, 1))
    model.compile(
        optimizer=keras_latent.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    clock = publishing.Stopwatch()
    model.fit(
        x_train,
        y_train,
        epochs=FLAGS.epochs,
        batch_size=FLAGS.batch_size,
        verbose=2,
        callbacks=[keras.callbacks.BackupAndRestore(FLAGS.backup_dir)],
    )
    wall = clock.seconds()
    probabilities = model.predict_proba(x_test)
    accuracy = float((probabilities.argmax(-1) == y_test).mean())
    print(f"test accuracy: {accuracy:.4f}")

    # All epochs, also when a resumed fit ran only the last ones.
    steps = FLAGS.epochs * int(np.ceil(len(x_train) / FLAGS.batch_size))
    metadata = {
        "recipe": "recipes/train_mnist_classifier.py",
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
        "metrics": {
            "test_accuracy": {
                "value": round(accuracy, 4),
                "protocol": f"top-1 accuracy on the {len(x_test):,} MNIST test images",
            }
        },
    }
    model.save_to_preset(FLAGS.output, metadata=metadata)
    metadata = keras_latent.load_preset_metadata(FLAGS.output)
    publishing.write_card(
        FLAGS.output,
        "mnist_classifier",
        "A small convolutional MNIST classifier (two conv blocks, 32 and 64 "
        "channels). It is the zoo's independent judge of generated digits: it "
        "never sees generated images in training.\n\n"
        f"Test accuracy: **{accuracy:.4f}** on the {len(x_test):,} MNIST test "
        "images.",
        metadata,
    )


if __name__ == "__main__":
    app.run(main)

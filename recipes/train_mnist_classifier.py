"""Trains `mnist_classifier`, the independent judge of generated digits.

python recipes/train_mnist_classifier.py --output zoo/mnist_classifier

Resumes from `--backup_dir` if a run was interrupted.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import publishing  # noqa: E402  (recipes/ is on sys.path when run as a script)
from absl import app  # noqa: E402

import keras_latent  # noqa: E402
from keras_latent.models import ImageClassifier  # noqa: E402

FLAGS = publishing.define_training_flags(
    "mnist_classifier", "mnist/mnist.npz", epochs=4, batch_size=128
)


def main(argv):
    del argv
    keras.utils.set_random_seed(FLAGS.seed)
    x_train, y_train, x_test, y_test = publishing.mnist_floats()

    model = ImageClassifier(image_shape=(28, 28, 1))
    model.compile(
        optimizer=keras_latent.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    _, run = publishing.fit(model, x_train, y_train, batch_size=FLAGS.batch_size)
    accuracy = publishing.top1_accuracy(model, x_test, y_test, "MNIST test", "test")
    metadata = publishing.training_metadata(
        "train_mnist_classifier",
        **publishing.mnist_provenance(len(x_train), len(x_test)),
        steps=publishing.epoch_steps(len(x_train)),
        **run,
        metrics={"test_accuracy": accuracy},
    )
    body = (
        "A small convolutional MNIST classifier (two conv blocks, 32 and 64 "
        "channels). It is the zoo's independent judge of generated digits: it "
        "never sees generated images in training.\n\n"
        f"Test accuracy: **{accuracy['value']:.4f}** on the {len(x_test):,} MNIST test "
        "images."
    )
    publishing.publish(model, metadata, "mnist_classifier", body)


if __name__ == "__main__":
    app.run(main)

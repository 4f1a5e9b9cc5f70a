"""Trains `cifar10_classifier`, the judge for CIFAR-10 models, on the subset.

    python recipes/train_cifar10_classifier.py --output zoo/cifar10_classifier

The packed CIFAR-10 data is a 5,000-image train subset decoded from JPEGs, with
no test images. The recipe holds out the last 50 images of each class (500) for
reporting and trains on the other 4,500. Resumes from `--backup_dir` if a
run was interrupted.
"""

import json
import os
import shutil

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import labelled_datasets  # noqa: E402  (recipes/ is on sys.path)
import publishing  # noqa: E402  (recipes/ is on sys.path when run as a script)
from absl import app, flags  # noqa: E402

import keras_latent  # noqa: E402
from keras_latent.models import ImageClassifier  # noqa: E402
from keras_latent.utils.files import atomic_write_text  # noqa: E402

FLAGS = publishing.define_training_flags(
    "cifar10_classifier", "cifar10_subset/", epochs=30, batch_size=64, terse=True
)
flags.DEFINE_integer("held_out_per_class", 50, "Last images of each class held out.")


def resume(model):
    """Returns `(model, epochs done, seconds trained)`: the checkpoint's, else
    `(model, 0, 0.0)`.

    BackupAndRestore cannot serve here: every epoch is its own `fit` call, on
    freshly augmented images.
    """
    progress = os.path.join(FLAGS.backup_dir, "progress.json")
    if not os.path.exists(progress):
        return model, 0, 0.0
    with open(progress) as f:
        progress = json.load(f)
    checkpoint = os.path.join(FLAGS.backup_dir, progress["checkpoint"])
    print(f"Resuming after epoch {progress['epochs_done']} from {checkpoint}")
    seconds = float(progress.get("elapsed_s", 0.0))
    return keras.saving.load_model(checkpoint), progress["epochs_done"], seconds


def save_checkpoint(model, epochs_done, elapsed_s):
    """Saves the model and its optimizer; a crash at any point keeps the last.

    Each epoch gets its own file, and `progress.json` (replaced atomically)
    names the newest complete one and the training seconds so far; only then
    is the older one deleted.
    """
    os.makedirs(FLAGS.backup_dir, exist_ok=True)
    name = f"checkpoint_epoch{epochs_done}.keras"
    checkpoint = os.path.join(FLAGS.backup_dir, name)
    model.save(checkpoint + ".tmp.keras")
    os.replace(checkpoint + ".tmp.keras", checkpoint)
    progress = {"epochs_done": epochs_done, "checkpoint": name, "elapsed_s": elapsed_s}
    atomic_write_text(
        os.path.join(FLAGS.backup_dir, "progress.json"), json.dumps(progress)
    )
    for old in os.listdir(FLAGS.backup_dir):
        if old.startswith("checkpoint_epoch") and old != name:
            os.remove(os.path.join(FLAGS.backup_dir, old))


def main(argv):
    del argv
    keras.utils.set_random_seed(FLAGS.seed)
    x_train, y_train, x_val, y_val = labelled_datasets.cifar10_split(
        FLAGS.held_out_per_class
    )
    model = ImageClassifier(
        image_shape=(32, 32, 3),
        class_names=labelled_datasets.CIFAR10_CLASS_NAMES,
        filters=(32, 64, 128),
        dense_units=256,
        dropout=0.5,
    )
    model.compile(
        optimizer=keras_latent.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    augment = keras.Sequential(
        [
            keras.layers.RandomFlip("horizontal"),
            keras.layers.RandomTranslation(0.1, 0.1),
        ]
    )
    model, first_epoch, earlier_seconds = resume(model)
    clock = publishing.Stopwatch()
    for epoch in range(first_epoch, FLAGS.epochs):
        # Augmentation outside the model keeps the preset a plain classifier.
        model.fit(
            keras.ops.convert_to_numpy(augment(x_train, training=True)),
            y_train,
            epochs=1,
            batch_size=FLAGS.batch_size,
            verbose=2,
        )
        save_checkpoint(model, epoch + 1, round(earlier_seconds + clock.seconds(), 1))
    # The training time of every run, as `publishing.fit` records it.
    run = {"wall_time_s": round(earlier_seconds + clock.seconds(), 1)}
    if first_epoch:
        run.update(resumed=True, epochs_done_before_resume=first_epoch)
    # Like BackupAndRestore: a finished run leaves no checkpoint behind.
    shutil.rmtree(FLAGS.backup_dir, ignore_errors=True)
    accuracy = publishing.top1_accuracy(
        model, x_val, y_val, "held-out subset", "held-out"
    )

    held_out = FLAGS.held_out_per_class
    metadata = publishing.training_metadata(
        "train_cifar10_classifier",
        data=publishing.read_from(
            f"CIFAR-10 JPEG subset ({len(x_train):,} train images)", "cifar10_subset"
        ),
        split={
            "train": f"subset minus the last {held_out} images "
            f"of each class ({len(x_train):,})",
            "report": f"the last {held_out} images of each class ({len(x_val):,})",
        },
        steps=publishing.epoch_steps(len(x_train)),
        **run,
        metrics={"held_out_accuracy": accuracy},
    )
    body = f"""
A small convolutional CIFAR-10 classifier (conv blocks of 32, 64 and 128
channels). It is the judge and feature network for CIFAR-10 models inside the
zoo.

Held-out accuracy: **{accuracy["value"]:.4f}** on {len(x_val):,} images (the last
{held_out} of each class).

Limits: it was trained on {len(x_train):,} images, {len(x_train) / 50_000:.0%} of
CIFAR-10's train set, and those
images went through JPEG compression at quality 75. Its accuracy and its
features are far from an ImageNet-scale network's. Numbers computed with it
compare models inside the zoo only; they are not comparable to published
CIFAR-10 FID or IS.
"""
    publishing.publish(model, metadata, "cifar10_classifier", body)


if __name__ == "__main__":
    app.run(main)

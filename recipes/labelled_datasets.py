"""The class-labelled datasets of the class-conditional recipes (`--dataset`).

MNIST is all 60,000 train digits, reported on the 10,000 test digits.
CIFAR-10 is the 5,000-image train subset in `shared/data/cifar10_subset`, of
which the last 50 images of each class are held out for reports, as the
judge `cifar10_classifier` held them out of its own training.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import publishing  # recipes/ is on sys.path when one runs as a script
from absl import flags

from keras_latent import datasets

FLAGS = flags.FLAGS
flags.disclaim_key_flags()

CIFAR10_CLASS_NAMES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
CIFAR10_HELD_OUT_PER_CLASS = 50


@dataclasses.dataclass(frozen=True)
class LabelledImages:
    """A class-labelled dataset as a class-conditional recipe uses it.

    Images are float32 in [0, 1], labels integer class ids; `provenance` is
    the `data` and `split` of the metadata, `judge` the zoo's independent
    classifier preset for it, `item` what a card calls one image.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple
    judge: str
    item: str
    provenance: dict

    @property
    def arrays(self) -> tuple:
        """`(x_train, y_train, x_test, y_test)`."""
        return self.x_train, self.y_train, self.x_test, self.y_test

    @property
    def image_shape(self) -> tuple:
        return tuple(self.x_train.shape[1:])


LABELLED_DATASETS = ("mnist", "cifar10")


def define_dataset_flag() -> None:
    """Defines `--dataset`, one of `LABELLED_DATASETS`."""
    flags.DEFINE_enum(
        "dataset",
        "mnist",
        list(LABELLED_DATASETS),
        "mnist: all 60,000 train digits, reports on the 10,000 test digits; "
        "cifar10: the 5,000-image subset minus the last "
        f"{CIFAR10_HELD_OUT_PER_CLASS} of each class, reports on those.",
    )


def cifar10_split(held_out_per_class: int = CIFAR10_HELD_OUT_PER_CLASS):
    """`(x_train, y_train, x_held_out, y_held_out)` of the CIFAR-10 subset.

    Images are float32 in [0, 1], labels the class ids.

    Args:
        held_out_per_class: the last images of each class held out.
            Defaults to `CIFAR10_HELD_OUT_PER_CLASS` (50).
    """
    x, y = datasets.cifar10_arrays("train", data_dir=FLAGS.data_dir)
    x = x.astype("float32") / 255.0
    held_out = np.zeros(len(y), bool)
    for k in range(len(CIFAR10_CLASS_NAMES)):
        held_out[np.flatnonzero(y == k)[-held_out_per_class:]] = True
    return x[~held_out], y[~held_out], x[held_out], y[held_out]


def labelled_images(report_note: str = "") -> LabelledImages:
    """The `--dataset` the recipe trains on, read from `--data_dir`.

    Args:
        report_note: what follows the report split in `split["report"]`.
            Defaults to `""`.
    """
    if FLAGS.dataset == "mnist":
        x_train, y_train, x_test, y_test = publishing.mnist_floats()
        return LabelledImages(
            "mnist",
            x_train,
            y_train,
            x_test,
            y_test,
            tuple(str(k) for k in range(10)),
            judge="mnist_classifier",
            item="digit",
            provenance=publishing.mnist_provenance(
                len(x_train), len(x_test), report_note
            ),
        )
    if FLAGS.dataset != "cifar10":
        raise ValueError(
            f"`--dataset` must be one of {LABELLED_DATASETS}. "
            f"Received: {FLAGS.dataset!r}"
        )
    x_train, y_train, x_test, y_test = cifar10_split()
    held_out = CIFAR10_HELD_OUT_PER_CLASS
    provenance = {
        "data": publishing.read_from(
            f"CIFAR-10 JPEG subset ({len(x_train):,} train images)", "cifar10_subset"
        ),
        "split": {
            "train": f"subset minus the last {held_out} images of each class "
            f"({len(x_train):,})",
            "report": f"the last {held_out} images of each class "
            f"({len(x_test):,}), held out of the judge's training too{report_note}",
        },
    }
    return LabelledImages(
        "cifar10",
        x_train,
        y_train,
        x_test,
        y_test,
        CIFAR10_CLASS_NAMES,
        judge="cifar10_classifier",
        item="image",
        provenance=provenance,
    )

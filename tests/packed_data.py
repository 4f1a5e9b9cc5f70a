"""Tiny stand-ins for `../shared/data`, in its packed layout.

Recipe and dataset tests read these instead of the real arrays, so they run on
a machine without the shared data and in seconds. Images are random noise with
a faint class-dependent brightness, enough for a classifier to beat chance.
"""

from pathlib import Path

import numpy as np

from keras_latent.datasets import CELEBA_ATTRIBUTE_NAMES


def _images(rng, labels, shape):
    base = rng.integers(0, 96, size=(len(labels), *shape))
    shift = (np.asarray(labels, np.int64) % 10) * 16
    return np.clip(base + shift.reshape(-1, *[1] * len(shape)), 0, 255).astype(np.uint8)


def write_mnist(root: Path, num_train: int = 256, num_test: int = 128, seed: int = 0):
    """Writes `root/mnist/mnist.npz` (uint8 28×28 images, uint8 labels)."""
    rng = np.random.default_rng(seed)
    y_train = rng.integers(0, 10, num_train).astype(np.uint8)
    y_test = rng.integers(0, 10, num_test).astype(np.uint8)
    folder = Path(root) / "mnist"
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(
        folder / "mnist.npz",
        x_train=_images(rng, y_train, (28, 28)),
        y_train=y_train,
        x_test=_images(rng, y_test, (28, 28)),
        y_test=y_test,
    )
    return Path(root)


def write_celeba(root: Path, num_train: int = 256, num_val: int = 64, seed: int = 0):
    """Writes `root/celeba64/{train,val}.npz` and `attribute_names.txt`.

    Images are uint8 64×64×3 and the 40 attributes 0/1 int8, in the official
    column order, as in the shared data.
    """
    rng = np.random.default_rng(seed)
    folder = Path(root) / "celeba64"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "attribute_names.txt").write_text("\n".join(CELEBA_ATTRIBUTE_NAMES))
    for split, count in (("train", num_train), ("val", num_val)):
        attributes = rng.integers(0, 2, (count, len(CELEBA_ATTRIBUTE_NAMES)))
        np.savez(
            folder / f"{split}.npz",
            images=_images(rng, attributes[:, 0], (64, 64, 3)),
            attributes=attributes.astype(np.int8),
        )
    return Path(root)


def write_cifar10(root: Path, num_train: int = 256, seed: int = 0):
    """Writes `root/cifar10_subset/cifar10_train_subset5k.npz` (uint8 32×32×3)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, num_train).astype(np.uint8)
    folder = Path(root) / "cifar10_subset"
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(folder / "cifar10_train_subset5k.npz", x=_images(rng, y, (32, 32, 3)), y=y)
    return Path(root)

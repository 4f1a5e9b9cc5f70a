"""The packed arrays of `shared/data` as NumPy arrays; no TensorFlow needed.

MNIST, the 5,000-image CIFAR-10 train subset and the 64x64 CelebA subset, as
described in `shared/data/README.md`. Also the CelebA attribute names and the
attribute selection every CelebA or image-folder loader shares.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Sequence

import numpy as np

from keras_latent.datasets.locate import (
    _PACKED_LAYOUTS,
    _SPLITS,
    _normalize_celeba_split,
    _not_found,
    _packed_file,
    _resolve_data_dir,
)
from keras_latent.utils.inputs import check_choice

# The official, fixed column order of `list_attr_celeba.txt`; used when no data
# directory is around to read `attribute_names.txt` from.
CELEBA_ATTRIBUTE_NAMES = (
    "5_o_Clock_Shadow Arched_Eyebrows Attractive Bags_Under_Eyes Bald Bangs "
    "Big_Lips Big_Nose Black_Hair Blond_Hair Blurry Brown_Hair Bushy_Eyebrows "
    "Chubby Double_Chin Eyeglasses Goatee Gray_Hair Heavy_Makeup High_Cheekbones "
    "Male Mouth_Slightly_Open Mustache Narrow_Eyes No_Beard Oval_Face Pale_Skin "
    "Pointy_Nose Receding_Hairline Rosy_Cheeks Sideburns Smiling Straight_Hair "
    "Wavy_Hair Wearing_Earrings Wearing_Hat Wearing_Lipstick Wearing_Necklace "
    "Wearing_Necktie Young"
).split()


def _found_or_raise(dataset: str, split: str, result: tuple | str) -> tuple:
    """The arrays a `_packed_*` reader returned, or its "looked at" as an error."""
    if isinstance(result, str):
        raise _not_found(dataset, split, [result])
    return result


def _packed_mnist(
    split: str, data_dir: str | os.PathLike | None
) -> tuple[np.ndarray, np.ndarray] | str:
    """Reads the packed arrays, or returns where it looked."""
    path, looked = _packed_file(data_dir, _PACKED_LAYOUTS["mnist"])
    if path is None:
        return looked
    with np.load(path) as z:
        x = z[f"x_{split}"]
        y = z[f"y_{split}"]
    return x[..., None], y.astype(np.int64)


def mnist_arrays(
    split: str = "train", data_dir: str | os.PathLike | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """MNIST as numpy arrays, from the packed `mnist/mnist.npz`.

    Args:
        split: `"train"` (60,000 images) or `"test"` (10,000). Defaults to
            `"train"`.
        data_dir: folder holding `mnist/mnist.npz`. Defaults to `None`, which
            uses `default_data_dir()`.

    Returns:
        `(x, y)`: uint8 images `(N, 28, 28, 1)` and int64 labels `(N,)`.

    Example:

    ```python
    x, y = keras_latent.datasets.mnist_arrays("test")
    ```
    """
    check_choice("split", split, _SPLITS["mnist"])
    return _found_or_raise("mnist", split, _packed_mnist(split, data_dir))


def _packed_cifar10(
    split: str, data_dir: str | os.PathLike | None
) -> tuple[np.ndarray, np.ndarray] | str:
    """Reads the packed arrays, or returns why it could not."""
    if split != "train":
        return "packed arrays: the packed CIFAR-10 subset has a train split only"
    path, looked = _packed_file(data_dir, _PACKED_LAYOUTS["cifar10"])
    if path is None:
        return looked
    with np.load(path) as z:
        x, y = z["x"], z["y"]
    return x, y.astype(np.int64)


def cifar10_arrays(
    split: str = "train", data_dir: str | os.PathLike | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The 5,000-image CIFAR-10 train subset as numpy arrays.

    The packed subset holds 500 images per class of the train split only,
    decoded from quality-75 JPEGs; see `shared/data/README.md` before comparing
    with published CIFAR-10 numbers.

    Args:
        split: only `"train"` has packed arrays; `"test"` raises
            `FileNotFoundError` (use `load_cifar10(source="tfds")`). Defaults to
            `"train"`.
        data_dir: folder holding `cifar10_subset/`. Defaults to `None`, which uses
            `default_data_dir()`.

    Returns:
        `(x, y)`: uint8 images `(N, 32, 32, 3)` and int64 labels `(N,)`.

    Example:

    ```python
    x, y = keras_latent.datasets.cifar10_arrays()
    ```
    """
    check_choice("split", split, _SPLITS["cifar10"])
    return _found_or_raise("cifar10", split, _packed_cifar10(split, data_dir))


def celeba_attribute_names(data_dir: str | os.PathLike | None = None) -> list[str]:
    """The 40 CelebA attribute names, in column order.

    Args:
        data_dir: folder holding `celeba64/attribute_names.txt`. Defaults to
            `None`, which uses `default_data_dir()`; without a data directory the
            built-in official list is returned.

    Returns:
        A list of 40 names, `"5_o_Clock_Shadow"` ... `"Young"`.

    Example:

    ```python
    names = keras_latent.datasets.celeba_attribute_names()
    smiling_column = names.index("Smiling")
    ```
    """
    root, _ = _resolve_data_dir(data_dir)
    if root is not None:
        path = root / "celeba64" / "attribute_names.txt"
        if path.is_file():
            return path.read_text().split()
    return list(CELEBA_ATTRIBUTE_NAMES)


def _attribute_indices(
    attributes: str | Sequence[str] | None, valid: Sequence[str]
) -> tuple[list[int], list[str]]:
    """Column indices and names of `attributes` among `valid` (all for `None`)."""
    valid = list(valid)
    if attributes is None:
        return list(range(len(valid))), valid
    if isinstance(attributes, str):
        # A bare string would otherwise be iterated character by character.
        attributes = [attributes]
    attributes = list(attributes)
    if not attributes:
        raise ValueError("`attributes` is empty; pass None for all of them.")
    unknown = [a for a in attributes if a not in valid]
    if unknown:
        hints = []
        for name in unknown:
            close = difflib.get_close_matches(name, valid, n=1)
            if close:
                hints.append(f"{name!r} (did you mean {close[0]!r}?)")
            else:
                hints.append(repr(name))
        raise ValueError(
            f"Unknown attribute name(s): {', '.join(hints)}. "
            f"Valid names: {', '.join(valid)}"
        )
    return [valid.index(a) for a in attributes], attributes


def _held_back_message() -> str:
    return (
        "the CelebA test images are held back from the packed arrays (kept for an "
        "independent evaluation of the zoo); use split='val' for your own reports. "
        "celeba_label_vectors('test') still gives every test label vector"
    )


def _packed_celeba(
    split: str, attributes: Sequence[str] | None, data_dir: str | os.PathLike | None
) -> tuple[np.ndarray, np.ndarray, list[str]] | str:
    """Reads the packed arrays, or returns why it could not."""
    if split == "test":
        return f"packed arrays: {_held_back_message()}"
    path, looked = _packed_file(data_dir, f"celeba64/{split}.npz")
    if path is None:
        return looked
    names = path.parent / "attribute_names.txt"
    all_names = names.read_text().split() if names.is_file() else None
    indices, chosen = _attribute_indices(
        attributes, all_names or CELEBA_ATTRIBUTE_NAMES
    )
    with np.load(path) as z:
        x = z["images"]
        a = z["attributes"]
    return x, a[:, indices].astype(np.int8), chosen


def celeba_arrays(
    split: str = "train",
    attributes: Sequence[str] | None = None,
    data_dir: str | os.PathLike | None = None,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The packed 64x64 CelebA subset as numpy arrays.

    Args:
        split: `"train"` (14,283 images) or `"val"` (780). `"test"` raises
            `FileNotFoundError`: its images are held back. Defaults to `"train"`.
        attributes: list of attribute names to keep, in the order wanted.
            Defaults to `None`, all 40 in file order.
        data_dir: folder holding `celeba64/`. Defaults to `None`, which uses
            `default_data_dir()`.

    Returns:
        `(x, attrs, names)`: uint8 images `(N, 64, 64, 3)`, int8 0/1 attributes
        `(N, K)` and the K attribute names.

    Example:

    ```python
    x, a, names = keras_latent.datasets.celeba_arrays(
        "val", attributes=["Smiling", "Male"]
    )
    ```
    """
    split = _normalize_celeba_split(split)
    return _found_or_raise("celeba", split, _packed_celeba(split, attributes, data_dir))

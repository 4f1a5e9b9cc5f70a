"""The real reference images: a named split, a `.npy`/`.npz` file or arrays.

`_resolve_data` turns `evaluate`'s `data=` into one dict: the images, their
labels (class indices or 0/1 attribute vectors) and label names when known,
a name for the report, and the dataset whose zoo judge fits them.
"""

from __future__ import annotations

import os

import numpy as np

from keras_latent.utils.batching import check_finite, to_numpy

# The reference split assumed for a model's image shape when `data=None`.
DEFAULT_DATA = {
    (28, 28, 1): "mnist:test",
    (64, 64, 3): "celeba:val",
    (32, 32, 3): "cifar10:train",
}
# Splits the loaders in `keras_latent.datasets` know about.
DATA_SPLITS = {
    "mnist": ("train", "test"),
    "celeba": ("train", "val", "test"),
    "cifar10": ("train", "test"),
}


def _data_choices() -> str:
    return ", ".join(
        f"'{name}:{split}'" for name, splits in DATA_SPLITS.items() for split in splits
    )


def _to_unit_float(images, argument: str, what: str | None = None) -> np.ndarray:
    """Float32 images in [0, 1]; integer (uint8) images are divided by 255.

    `what` names the images in the error about NaN or infinite values
    (default: `argument`), e.g. which generated batch they are.
    """
    array = to_numpy(images)
    if np.issubdtype(array.dtype, np.integer):
        return array.astype("float32") / 255.0
    if array.dtype == bool or not np.issubdtype(array.dtype, np.floating):
        raise ValueError(
            f"`{argument}` must be float images in [0, 1] or uint8 images in "
            f"[0, 255]. Received dtype {array.dtype}."
        )
    array = array.astype("float32", copy=False)
    # Before the range check, which NaN passes (every comparison is false).
    check_finite(array, what or f"`{argument}`")
    # A small tolerance: generators' sigmoids and resizers overshoot by ulps.
    if array.size and (array.min() < -1e-3 or array.max() > 1.0 + 1e-3):
        raise ValueError(
            f"`{argument}` must be float images in [0, 1] (or uint8). Received "
            f"values in [{array.min():.3g}, {array.max():.3g}]; rescale them first."
        )
    return array


def _load_split(name: str) -> dict:
    """Loads a reference split such as `"mnist:test"` with `keras_latent.datasets`."""
    dataset, _, split = name.partition(":")
    dataset = dataset.strip().lower()
    split = split.strip().lower()
    if dataset not in DATA_SPLITS or split not in DATA_SPLITS[dataset]:
        raise ValueError(
            f"Unknown reference data {name!r}. Valid choices: {_data_choices()}; "
            "or a .npy/.npz file, or an array of real images (optionally "
            "`(images, labels)`)."
        )
    from keras_latent import datasets

    label_names = None
    if dataset == "mnist":
        images, labels = datasets.mnist_arrays(split)
    elif dataset == "cifar10":
        images, labels = datasets.cifar10_arrays(split)
    else:
        images, labels, label_names = datasets.celeba_arrays(split)
    return {
        "images": images,
        "labels": labels,
        "label_names": label_names,
        "name": f"{dataset}:{split}",
        "dataset": dataset,
    }


def _load_array_file(path) -> dict:
    """Reference images from a `.npy` file, or a `.npz` with images and labels."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Reference data file '{path}' does not exist.")
    if str(path).endswith(".npy"):
        reference = _resolve_data(np.load(path), None)
    else:
        with np.load(path) as arrays:
            keys = set(arrays.files)

            def first(*candidates):
                for key in candidates:
                    if key in keys:
                        return arrays[key]
                return None

            images = first("images", "x")
            if images is None:
                raise ValueError(
                    f"'{path}' holds {sorted(keys)}; the reference images must be "
                    "under 'images' or 'x' (labels, optional, under 'labels', 'y' "
                    "or 'attributes'; their names under 'label_names')."
                )
            labels = first("labels", "y", "attributes")
            names = first("label_names", "attribute_names")
        if labels is None:
            reference = _resolve_data(images, None)
        elif names is None:
            reference = _resolve_data((images, labels), None)
        else:
            reference = _resolve_data((images, labels, [str(n) for n in names]), None)
    reference["name"] = f"{os.fspath(path)} ({len(reference['images'])} images)"
    return reference


def _resolve_data(data, image_shape: tuple | None) -> dict:
    """The reference dict of `evaluate`'s `data=` (see `evaluate`'s docstring)."""
    if data is None:
        if image_shape is None or tuple(image_shape) not in DEFAULT_DATA:
            known = ", ".join(
                f"{'×'.join(map(str, s))} → '{d}'" for s, d in DEFAULT_DATA.items()
            )
            raise ValueError(
                "Can't infer the reference data for images of shape "
                f"{image_shape}: defaults exist for {known}. Pass `data=` one of "
                f"{_data_choices()}, or an array of real images."
            )
        data = DEFAULT_DATA[tuple(image_shape)]
    if isinstance(data, (str, os.PathLike)) and str(data).endswith((".npz", ".npy")):
        return _load_array_file(data)
    if isinstance(data, str):
        return _load_split(data)
    labels = label_names = None
    if isinstance(data, (tuple, list)):
        if len(data) not in (2, 3):
            raise ValueError(
                "`data` as a tuple must be `(images, labels)` or "
                f"`(images, labels, label_names)`. Received {len(data)} items."
            )
        images, labels = data[0], data[1]
        label_names = list(data[2]) if len(data) == 3 else None
    else:
        images = data
    images = to_numpy(images)
    if images.ndim < 2 or images.shape[0] < 2:
        raise ValueError(
            "`data` needs at least two real images, shape (num_images, height, "
            f"width, channels). Received shape {images.shape}."
        )
    if labels is not None:
        labels = to_numpy(labels)
        if labels.shape[0] != images.shape[0]:
            raise ValueError(
                f"`data` has {images.shape[0]} images but {labels.shape[0]} labels."
            )
    dataset = None
    if tuple(images.shape[1:]) in DEFAULT_DATA:
        dataset = DEFAULT_DATA[tuple(images.shape[1:])].split(":")[0]
    return {
        "images": images,
        "labels": labels,
        "label_names": label_names,
        "name": f"array of {images.shape[0]} images",
        "dataset": dataset,
    }

"""`tf.data` pipelines over every source: packed arrays, tfds, image files.

The only module of `keras_latent.datasets` that imports TensorFlow. `tf.data` is
just the input pipeline: it runs on the host and the datasets feed all three
Keras backends. Images stay uint8 until the final `map`, which keeps memory
small.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

import numpy as np
import tensorflow as tf

from keras_latent.datasets.arrays import (
    _attribute_indices,
    _packed_celeba,
    _packed_cifar10,
    _packed_mnist,
    celeba_attribute_names,
)
from keras_latent.datasets.image_files import (
    _official_celeba_arrays,
    image_folder_arrays,
)
from keras_latent.datasets.locate import (
    _SPLITS,
    _TFDS_NAMES,
    _normalize_celeba_split,
    _not_found,
    _resolve_data_dir,
)
from keras_latent.utils.inputs import check_choice

_SOURCES = {
    "mnist": ("auto", "arrays", "tfds"),
    "cifar10": ("auto", "arrays", "tfds"),
    "celeba": ("auto", "arrays", "tfds", "official"),
}
# The packed arrays were cropped from the 178x218 originals at rows 20..197.
_CELEBA_WIDTH = 178
_CELEBA_CROP_TOP = 20
# A whole-split buffer would hold every decoded image of a tfds split in memory;
# this bounds it (about 120 MB of 64x64 CelebA images).
_TFDS_SHUFFLE_BUFFER = 10_000


def _to_float_images(images: tf.Tensor, image_size: int | None) -> tf.Tensor:
    images = tf.cast(images, tf.float32) / 255.0
    if image_size is not None:
        # LANCZOS-like resampling, to match how the packed arrays were made.
        images = tf.image.resize(
            images, (image_size, image_size), method="lanczos3", antialias=True
        )
        images = tf.clip_by_value(images, 0.0, 1.0)
    return images


def _array_dataset(
    images: np.ndarray,
    targets: np.ndarray,
    target_dtype: tf.DType,
    *,
    image_size: int | None = None,
    batch_size: int | None,
    shuffle: bool,
    seed: int | None,
) -> tf.data.Dataset:
    """Streams `(float image, target)` from uint8 arrays held once in memory."""
    n = len(images)
    # tf.data runs on the host anyway; this keeps the arrays out of GPU memory
    # even where TensorFlow can see a GPU.
    with tf.device("/CPU:0"):
        images_t = tf.convert_to_tensor(images)
        targets_t = tf.convert_to_tensor(targets, dtype=target_dtype)
    # Shuffling indices rather than images gives a whole-set shuffle buffer for
    # the price of N integers.
    ds = tf.data.Dataset.range(n)
    if shuffle:
        ds = ds.shuffle(n, seed=seed, reshuffle_each_iteration=True)
    if batch_size is not None:
        ds = ds.batch(batch_size)

    def gather(index):
        x = _to_float_images(tf.gather(images_t, index), image_size)
        return x, tf.gather(targets_t, index)

    ds = ds.map(gather, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def _stream_dataset(
    ds: tf.data.Dataset,
    *,
    batch_size: int | None,
    shuffle: bool,
    seed: int | None,
) -> tf.data.Dataset:
    """Finishes a dataset of `(uint8 image, target)` pairs."""
    if shuffle:
        ds = ds.shuffle(_TFDS_SHUFFLE_BUFFER, seed=seed, reshuffle_each_iteration=True)
    if batch_size is not None:
        ds = ds.batch(batch_size)
    ds = ds.map(
        lambda x, y: (_to_float_images(x, None), y),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    return ds.prefetch(tf.data.AUTOTUNE)


def _tfds_load(
    name: str,
    split: str,
    tfds_data_dir: str | os.PathLike | None,
    shuffle: bool,
    seed: int | None,
) -> tf.data.Dataset:
    # Imported lazily: it takes seconds and only this source needs it.
    import tensorflow_datasets as tfds

    return tfds.load(
        name,
        split=split,
        data_dir=None if tfds_data_dir is None else str(tfds_data_dir),
        download=False,
        shuffle_files=shuffle,
        read_config=tfds.ReadConfig(shuffle_seed=seed),
    )


def _try_tfds(
    name: str,
    split: str,
    tfds_data_dir: str | os.PathLike | None,
    shuffle: bool,
    seed: int | None,
    tried: list[str],
) -> tuple[tf.data.Dataset | None, Exception | None]:
    """Loads a prepared tfds split; on failure notes why in `tried`."""
    try:
        return _tfds_load(name, split, tfds_data_dir, shuffle, seed), None
    except Exception as err:
        # Not prepared, not installed or not registered: all mean "not here".
        where = tfds_data_dir or "the default tfds data dir"
        lines = str(err).strip().splitlines()
        tried.append(
            f"tfds: {name!r} split {split!r} is not available in {where} "
            f"({type(err).__name__}: {lines[0] if lines else ''})"
        )
        return None, err


# The shared docstring of `load_mnist` and `load_cifar10`, in the manner of
# `keras.applications`' per-model docstrings.
_CLASSIFICATION_DOCSTRING = """{title} as a `tf.data.Dataset` of `(image, label)`.
{notes}
Args:
    split: `"train"` or `"test"`{test_note}. Defaults to `"train"`.
    data_dir: folder holding `{folder}`. Defaults to `None`, which
        uses `default_data_dir()`.
    source: `"auto"` (packed arrays, else a prepared tfds copy), `"arrays"`
        or `"tfds"`. Defaults to `"auto"`.
    batch_size: if given, the dataset yields batches of this size. Defaults
        to `None`, single examples.
    shuffle: whether to shuffle (a whole-set buffer for arrays, reshuffled
        each epoch). Defaults to `False`.
    seed: shuffle seed. Defaults to `None`.
    tfds_data_dir: tfds data directory. Defaults to `None`, tfds' own
        default.

Returns:
    A `tf.data.Dataset` of float32 images `{shape}` in `[0, 1]` and
    int32 labels{labels_note}.

Example:

```python
{example}
```
"""


def _classification_loader(
    dataset: str,
    packed_fn: Callable[[str, str | os.PathLike | None], tuple | str],
    docstring: str,
) -> Callable[..., tf.data.Dataset]:
    """Builds `load_mnist` or `load_cifar10`: one signature, one code path."""

    def load(
        split: str = "train",
        *,
        data_dir: str | os.PathLike | None = None,
        source: str = "auto",
        batch_size: int | None = None,
        shuffle: bool = False,
        seed: int | None = None,
        tfds_data_dir: str | os.PathLike | None = None,
    ) -> tf.data.Dataset:
        check_choice("split", split, _SPLITS[dataset])
        check_choice("source", source, _SOURCES[dataset])
        options = dict(batch_size=batch_size, shuffle=shuffle, seed=seed)
        tried: list[str] = []
        if source in ("auto", "arrays"):
            result = packed_fn(split, data_dir)
            if not isinstance(result, str):
                x, y = result
                return _array_dataset(x, y, tf.int32, **options)
            tried.append(result)
            if source == "arrays":
                raise _not_found(dataset, split, tried)
        tfds_name = _TFDS_NAMES[dataset]
        ds, err = _try_tfds(tfds_name, split, tfds_data_dir, shuffle, seed, tried)
        if ds is None:
            raise _not_found(dataset, split, tried) from err
        ds = ds.map(
            lambda ex: (ex["image"], tf.cast(ex["label"], tf.int32)),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
        return _stream_dataset(ds, **options)

    load.__name__ = load.__qualname__ = f"load_{dataset}"
    load.__doc__ = docstring
    return load


load_mnist = _classification_loader(
    "mnist",
    _packed_mnist,
    _CLASSIFICATION_DOCSTRING.format(
        title="MNIST",
        notes="",
        test_note="",
        folder="mnist/mnist.npz",
        shape="(28, 28, 1)",
        labels_note="",
        example=(
            "ds = keras_latent.datasets.load_mnist(batch_size=128, shuffle=True, "
            "seed=0)\nmodel.fit(ds, epochs=1)"
        ),
    ),
)

load_cifar10 = _classification_loader(
    "cifar10",
    _packed_cifar10,
    _CLASSIFICATION_DOCSTRING.format(
        title="CIFAR-10",
        notes=(
            "\nThe packed arrays are a 5,000-image train subset decoded from JPEGs "
            "(see\n`cifar10_arrays`); a prepared tfds copy gives the full official "
            "splits.\n"
        ),
        test_note=" (tfds only)",
        folder="cifar10_subset/",
        shape="(32, 32, 3)",
        labels_note=" (class names in `cifar10_subset/class_names.txt`)",
        example=(
            "ds = keras_latent.datasets.load_cifar10(batch_size=64, shuffle=True, "
            "seed=0)"
        ),
    ),
)


def _celeba_from_tfds(
    ds: tf.data.Dataset, names: list[str], image_size: int
) -> tf.data.Dataset:
    def convert(example):
        # tfds keeps the 218x178 originals; crop the same square as the arrays.
        image = example["image"][
            _CELEBA_CROP_TOP : _CELEBA_CROP_TOP + _CELEBA_WIDTH, :_CELEBA_WIDTH
        ]
        image = tf.image.resize(
            tf.cast(image, tf.float32),
            (image_size, image_size),
            method="lanczos3",
            antialias=True,
        )
        # Back to uint8 so a shuffle buffer costs what the packed arrays do.
        image = tf.cast(tf.round(tf.clip_by_value(image, 0.0, 255.0)), tf.uint8)
        attrs = tf.stack([tf.cast(example["attributes"][n], tf.float32) for n in names])
        return image, attrs

    return ds.map(convert, num_parallel_calls=tf.data.AUTOTUNE)


def load_celeba(
    split: str = "train",
    *,
    attributes: Sequence[str] | None = None,
    image_size: int = 64,
    data_dir: str | os.PathLike | None = None,
    source: str = "auto",
    batch_size: int | None = None,
    shuffle: bool = False,
    seed: int | None = None,
    tfds_data_dir: str | os.PathLike | None = None,
) -> tf.data.Dataset:
    """Aligned CelebA as a `tf.data.Dataset` of `(image, attributes)`.

    Sources, in the order `"auto"` tries them: the packed 64x64 arrays
    (`celeba64/`, train and val only: the test images are held back), a
    prepared tfds `celeb_a`, and the official download layout
    (`img_align_celeba/`, `list_attr_celeba.txt`, `list_eval_partition.txt`)
    in `data_dir`, `data_dir/celeba` or `data_dir/CelebA`. Every source crops
    the standard 178x178 centre square and resizes it to `image_size`. The
    official layout decodes all JPEGs of the split up front (threaded), which
    is fine for modest folders but takes minutes for all of CelebA.

    Args:
        split: `"train"`, `"val"` (or `"validation"`) or `"test"`. Defaults to
            `"train"`.
        attributes: attribute names to return, in the order wanted. Defaults to
            `None`, all 40 in `celeba_attribute_names()` order.
        image_size: side of the square images. Defaults to `64`.
        data_dir: folder holding `celeba64/` or the official layout. Defaults to
            `None`, which uses `default_data_dir()`.
        source: `"auto"`, `"arrays"`, `"tfds"` or `"official"`. Defaults to
            `"auto"`.
        batch_size: if given, the dataset yields batches of this size. Defaults
            to `None`, single examples.
        shuffle: whether to shuffle (a whole-set buffer for arrays and the
            official layout, 10,000 examples for tfds). Defaults to `False`.
        seed: shuffle seed. Defaults to `None`.
        tfds_data_dir: tfds data directory. Defaults to `None`, tfds' own
            default.

    Returns:
        A `tf.data.Dataset` of float32 images `(image_size, image_size, 3)` in
        `[0, 1]` and float32 0/1 attribute vectors `(K,)`.

    Example:

    ```python
    ds = keras_latent.datasets.load_celeba(
        attributes=["Smiling", "Male"], batch_size=64, shuffle=True, seed=0
    )
    images, attrs = next(iter(ds))
    ```
    """
    split = _normalize_celeba_split(split)
    check_choice("source", source, _SOURCES["celeba"])
    options = dict(batch_size=batch_size, shuffle=shuffle, seed=seed)
    names = celeba_attribute_names(data_dir)
    _, chosen = _attribute_indices(attributes, names)
    tried: list[str] = []

    if source in ("auto", "arrays"):
        result = _packed_celeba(split, chosen, data_dir)
        if not isinstance(result, str):
            x, a, _ = result
            return _array_dataset(
                x,
                a,
                tf.float32,
                image_size=None if image_size == x.shape[1] else image_size,
                **options,
            )
        tried.append(result)
        if source == "arrays":
            raise _not_found("celeba", split, tried)

    if source in ("auto", "tfds"):
        tfds_split = "validation" if split == "val" else split
        ds, err = _try_tfds("celeb_a", tfds_split, tfds_data_dir, shuffle, seed, tried)
        if ds is not None:
            ds = _celeba_from_tfds(ds, chosen, image_size)
            return _stream_dataset(ds, **options)
        if source == "tfds":
            raise _not_found("celeba", split, tried) from err

    root, how = _resolve_data_dir(data_dir)
    if root is None:
        tried.append(f"official layout: {how}")
    else:
        result = _official_celeba_arrays(root, split, chosen, image_size)
        if not isinstance(result, str):
            x, a, _ = result
            return _array_dataset(x, a, tf.float32, **options)
        tried.append(result)
    raise _not_found("celeba", split, tried)


def load_image_folder(
    directory: str | os.PathLike,
    labels_csv: str | os.PathLike,
    *,
    attributes: Sequence[str] | None = None,
    image_size: int = 64,
    batch_size: int | None = None,
    shuffle: bool = False,
    seed: int | None = None,
) -> tf.data.Dataset:
    """Your own images and a labels CSV as a `tf.data.Dataset`.

    See `image_folder_arrays` for the CSV format and the preprocessing.

    Args:
        directory: folder the CSV's filenames are relative to.
        labels_csv: CSV with a header, a `filename` column and one 0/1 (or
            -1/1, or true/false) column per attribute.
        attributes: columns to return, in the order wanted. Defaults to `None`,
            every column but `filename`.
        image_size: side of the square images. Defaults to `64`.
        batch_size: if given, the dataset yields batches of this size. Defaults
            to `None`, single examples.
        shuffle: whether to shuffle, with a whole-set buffer. Defaults to
            `False`.
        seed: shuffle seed. Defaults to `None`.

    Returns:
        A `tf.data.Dataset` of `(image, labels)`: float32 images
        `(image_size, image_size, 3)` in `[0, 1]` and a float32 0/1 vector
        `(K,)` of the K chosen CSV columns.

    Example:

    ```python
    ds = keras_latent.datasets.load_image_folder(
        "my_faces/", "my_faces/labels.csv", batch_size=32, shuffle=True, seed=0
    )
    ```
    """
    x, a, _ = image_folder_arrays(directory, labels_csv, attributes, image_size)
    return _array_dataset(
        x, a, tf.float32, batch_size=batch_size, shuffle=shuffle, seed=seed
    )

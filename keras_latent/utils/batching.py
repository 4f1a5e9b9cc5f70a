"""Shared plumbing for the metrics: array conversion, batching, progress bars."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import keras
import numpy as np

# Images given either as an array, or as `(fn, num_samples)` where `fn(n)`
# returns `n` images (e.g. `lambda n: model.generate(n)`).
ImageSource = Any


def to_numpy(x, dtype: str | None = None) -> np.ndarray:
    """Any backend tensor (or array-like) as a NumPy array."""
    if not isinstance(x, np.ndarray):
        x = keras.ops.convert_to_numpy(x) if keras.ops.is_tensor(x) else np.asarray(x)
    return x if dtype is None else x.astype(dtype, copy=False)


def is_generator_spec(images) -> bool:
    return (
        isinstance(images, tuple)
        and len(images) == 2
        and callable(images[0])
        and isinstance(images[1], (int, np.integer))
        and not isinstance(images[1], bool)
    )


def num_images(images: ImageSource) -> int:
    if is_generator_spec(images):
        if images[1] < 1:
            raise ValueError(
                "The number of samples in a `(fn, num_samples)` spec must be a "
                f"positive int. Received: {images[1]}"
            )
        return int(images[1])
    if callable(images):
        raise ValueError(
            "Pass generated images as an array or as a `(fn, num_samples)` "
            "tuple, e.g. `(lambda n: model.generate(n), 10000)`; received a "
            "bare callable, which gives no sample count."
        )
    return int(images.shape[0])


def iterate_image_batches(images: ImageSource, batch_size: int) -> Iterator:
    """Yields batches of at most `batch_size` images from an array or spec."""
    if batch_size < 1:
        raise ValueError(f"`batch_size` must be a positive int. Received: {batch_size}")
    total = num_images(images)
    for start in range(0, total, batch_size):
        count = min(batch_size, total - start)
        if is_generator_spec(images):
            batch = images[0](count)
            received = int(batch.shape[0])
            if received != count:
                raise ValueError(
                    f"The generator function was asked for {count} images and "
                    f"returned {received}. `fn(n)` must return exactly `n` images."
                )
        else:
            batch = images[start : start + count]
        yield batch


def progress_bar(total: int, verbose: bool):
    """A `keras.utils.Progbar` when `verbose`, else `None`."""
    return keras.utils.Progbar(total) if verbose else None


def advance(bar, count: int):
    if bar is not None:
        bar.add(count)

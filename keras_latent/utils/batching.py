"""Shared plumbing for the metrics: array conversion, batching, progress bars,
the finiteness check of images and features, and the memory budget."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
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


def check_finite(array, what: str) -> None:
    """Raises a ValueError if the NumPy `array` holds NaN or infinite values.

    Metrics on NaN inputs do not fail by themselves: a range check such as
    `x.min() < 0` is never true for NaN, FID of NaN features comes out as a
    number on some backends, and `np.linalg.eigh` raises "Eigenvalues did not
    converge" on others. So every image and feature array is checked where it
    enters a metric or `evaluate`.

    Cheap in the common case: two reductions (`min` and `max` propagate NaN
    and show ±inf), no temporary array; the values are counted only to write
    the error.

    Args:
        array: the values; non-float arrays (uint8 images, int labels) and
            anything that is not a NumPy array pass unchecked.
        what: str. How the error names the input, e.g. "`fake_features`" or
            "generated batch 3 (images 512 to 767)".

    Example:

    ```python
    check_finite(np.array([0.0, np.nan]), "`images`")
    # ValueError: `images` holds 1 NaN value (of 2 values), so no metric ...
    ```
    """
    if not isinstance(array, np.ndarray) or array.dtype.kind not in "fc":
        return
    if array.size == 0:
        return
    if np.isfinite(array.min()) and np.isfinite(array.max()):
        return
    nan = int(np.count_nonzero(np.isnan(array)))
    infinite = int(np.count_nonzero(np.isinf(array)))
    found = " and ".join(
        f"{count} {name} value{'' if count == 1 else 's'}"
        for count, name in ((nan, "NaN"), (infinite, "infinite"))
        if count
    )
    raise ValueError(
        f"{what} holds {found} (of {array.size} values), so no metric of it "
        "would mean anything. Check where it comes from: a model whose weights "
        "became NaN during training, or data with missing values."
    )


# The memory budget when the free memory can't be read (no /proc/meminfo).
DEFAULT_MEMORY_BUDGET = 4 * 1024**3


def memory_budget(fraction: float = 0.5) -> int:
    """Bytes that one output may take: `fraction` of the available memory.

    The available memory is `MemAvailable` of `/proc/meminfo` (Linux); where
    it can't be read, the budget is `DEFAULT_MEMORY_BUDGET` (4 GiB).
    """
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(int(line.split()[1]) * 1024 * fraction)
    except (OSError, ValueError, IndexError):
        pass
    return DEFAULT_MEMORY_BUDGET


def format_bytes(count: float) -> str:
    """A byte count for people: "512 bytes", "3.1 GB", "27.6 TB" (powers of 1000)."""
    if count < 1000:
        return f"{int(count)} bytes"
    for unit in ("kB", "MB", "GB", "TB"):
        count /= 1000
        if count < 1000:
            return f"{count:.1f} {unit}"
    return f"{count / 1000:,.1f} PB"


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
    """Yields NumPy batches of at most `batch_size` images from an array or spec.

    Each batch is checked to hold only finite values (`check_finite`); the
    error names the batch and the images it holds.
    """
    if batch_size < 1:
        raise ValueError(f"`batch_size` must be a positive int. Received: {batch_size}")
    total = num_images(images)
    for index, start in enumerate(range(0, total, batch_size)):
        count = min(batch_size, total - start)
        where = f"images {start} to {start + count - 1}"
        if is_generator_spec(images):
            batch = to_numpy(images[0](count))
            received = int(batch.shape[0])
            if received != count:
                raise ValueError(
                    f"The generator function was asked for {count} images and "
                    f"returned {received}. `fn(n)` must return exactly `n` images."
                )
            check_finite(batch, f"Batch {index} of the generated images ({where})")
        else:
            batch = to_numpy(images[start : start + count])
            check_finite(batch, f"`images` ({where})")
        yield batch


def progress_bar(total: int, verbose: bool):
    """A `keras.utils.Progbar` when `verbose`, else `None`."""
    return keras.utils.Progbar(total) if verbose else None


def advance(bar, count: int):
    if bar is not None:
        bar.add(count)


def collect(
    results: Iterable,
    total: int,
    verbose: bool,
    size: Callable[[object], int] = len,
) -> list:
    """Lists `results`, advancing a progress bar as each one arrives.

    `results` is usually a generator, so the bar moves while the work runs.

    Args:
        results: iterable of per-piece results (e.g. one array per batch).
        total: the bar's length, in the units `size` counts.
        verbose: bool. Show the bar.
        size: callable. How far one result advances the bar. Defaults to
            `len` (a batch's number of rows).
    """
    bar = progress_bar(total, verbose)
    collected = []
    for result in results:
        collected.append(result)
        advance(bar, size(result))
    return collected

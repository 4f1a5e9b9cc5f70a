"""Checks on what users pass to models, with errors that say what to do."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np

# Float images may overshoot [0, 1] by rounding (a resizer, a float16
# sigmoid); anything further out is images in another range.
IMAGE_RANGE_TOLERANCE = 1e-3


def validate_images(images, image_shape: Sequence[int], argument: str = "images"):
    """Raises a ValueError unless `images` is a float batch of `image_shape`.

    NumPy arrays are also checked to hold at least one image, with values in
    [0, 1] (within `IMAGE_RANGE_TOLERANCE`). Backend tensors are not: reading
    their values would synchronise the device, and inside `fit` or compiled
    code they are symbolic.
    """
    if not hasattr(images, "shape") or not hasattr(images, "dtype"):
        raise ValueError(
            f"`{argument}` must be an array of images, shape (batch, "
            f"{', '.join(map(str, image_shape))}). Received: {type(images).__name__}"
        )
    if isinstance(images, np.ndarray) and images.dtype.kind not in "biuf":
        # Keras's own error would be "Invalid dtype: str32".
        raise ValueError(
            f"`{argument}` must be numeric images (floats in [0, 1] or uint8 "
            f"in [0, 255]). Received a NumPy array of dtype {images.dtype}."
        )
    shape = tuple(images.shape)
    expected = tuple(image_shape)
    if isinstance(images, np.ndarray) and len(shape) >= 1 and shape[0] == 0:
        raise ValueError(
            f"`{argument}` must hold at least one image. Received an empty array "
            f"of shape {shape}."
        )
    if len(shape) != len(expected) + 1 or tuple(shape[1:]) != expected:
        raise ValueError(
            f"`{argument}` must have shape (batch, {', '.join(map(str, expected))})"
            f" for this model. Received shape {shape}."
        )
    dtype = keras.backend.standardize_dtype(images.dtype)
    if "float" not in dtype:
        raise ValueError(
            f"`{argument}` must be floats in [0, 1]; received dtype {dtype}. "
            "Convert uint8 images with `images.astype('float32') / 255`."
        )
    if isinstance(images, np.ndarray):
        check_unit_range(images, argument)


def check_unit_range(images: np.ndarray, argument: str = "images") -> None:
    """Raises a ValueError unless the float NumPy `images` lie in [0, 1]."""
    if images.size == 0:
        return
    low, high = float(np.min(images)), float(np.max(images))
    if np.isnan(low) or np.isnan(high):
        raise ValueError(f"`{argument}` must be float images in [0, 1]; it holds NaN.")
    tol = IMAGE_RANGE_TOLERANCE
    if low >= -tol and high <= 1.0 + tol:
        return
    if low >= -tol and high <= 255.0 + tol:
        hint = (
            "These look like 0–255 pixel values: divide them by 255 "
            f"(`{argument} / 255`)."
        )
    elif low >= -1.0 - tol and high <= 1.0 + tol:
        hint = (
            f"These look like [-1, 1] values: rescale them with `({argument} + 1) / 2`."
        )
    else:
        hint = (
            f"Rescale them to [0, 1] (`{argument} / 255` for 0–255 pixels, "
            f"`({argument} + 1) / 2` for [-1, 1])."
        )
    raise ValueError(
        f"`{argument}` must be float images in [0, 1] (or uint8 images in "
        f"[0, 255]). Received float values in [{low:.4g}, {high:.4g}]. {hint}"
    )


def standardize_images(images, image_shape: Sequence[int], argument: str = "images"):
    """Validated float images from what a user passes to a NumPy-level method.

    A list or tuple of images is stacked into a NumPy array; integer images
    (uint8, 0–255) are divided by 255. The result is checked with
    `validate_images`, so NumPy input is also checked to lie in [0, 1].
    """
    if isinstance(images, (list, tuple)):
        try:
            images = np.asarray(images)
        except ValueError as e:
            raise ValueError(
                f"`{argument}` as a list must hold images of one shape "
                f"{tuple(image_shape)}; they could not be stacked: {e}"
            ) from None
        if images.dtype.kind == "f":
            images = images.astype("float32", copy=False)
    if hasattr(images, "dtype") and "int" in str(images.dtype):
        images = np.asarray(keras.ops.convert_to_numpy(images))
        if images.size and (images.min() < 0 or images.max() > 255):
            raise ValueError(
                f"`{argument}` as integers must be 0–255 pixel values (uint8). "
                f"Received values in [{images.min()}, {images.max()}]."
            )
        images = images.astype("float32") / 255.0
    validate_images(images, image_shape, argument)
    return images


class ChecksFitImages:
    """Mixin: `fit` checks NumPy images `x` once, before training.

    Inside `fit` the batches are backend tensors, whose values are never read
    (that would synchronise the device), so 0–255 or [-1, 1] floats would
    otherwise train without complaint. Needs `self.image_shape`.
    """

    def fit(self, x=None, y=None, *args, **kwargs):
        if isinstance(x, np.ndarray):
            validate_images(x, self.image_shape, argument="x")
        return super().fit(x, y, *args, **kwargs)


class ChecksPredictImages:
    """Mixin: Keras's `predict` checks NumPy images `x` like `fit` does.

    Only NumPy input is checked (a float batch in [0, 1] of the model's
    `image_shape`); tensors and datasets go to Keras unchecked. Calling the
    model itself (`model(images)`) checks shape and dtype but never values,
    since inside graphs the images are symbolic tensors. Needs
    `self.image_shape`.
    """

    def predict(self, x, *args, **kwargs):
        if isinstance(x, np.ndarray):
            validate_images(x, self.image_shape, argument="x")
        return super().predict(x, *args, **kwargs)


# Seeds every backend takes both as `keras.random.SeedGenerator(seed)` (torch
# stores it as int32) and as `keras.random.normal(..., seed=seed)` (JAX as
# uint32): non-negative int32.
MAX_SEED = 2**31 - 1


def _is_int(value) -> bool:
    """Python and NumPy integers; not bools."""
    return isinstance(value, (int, np.integer)) and not isinstance(
        value, (bool, np.bool_)
    )


def check_non_negative(value, argument: str) -> float:
    """`value` as a float that is finite and >= 0 (a loss weight, say).

    Raises:
        ValueError: naming `argument`, for NaN, inf or a negative value.
    """
    if not (np.isfinite(value) and value >= 0):
        raise ValueError(
            f"`{argument}` must be a finite number >= 0. Received: {value!r}"
        )
    return float(value)


def check_int(value, argument: str, minimum: int | None = None) -> int:
    """`value` as a Python int; raises a ValueError naming `argument`.

    NumPy integer scalars (`np.int64(3)`) count as ints; bools and floats
    (even `3.0`) do not.

    Args:
        value: what the user passed.
        argument: str. The argument's name, for the error.
        minimum: int or None. The smallest valid value. Defaults to `None`.
    """
    if not _is_int(value) or (minimum is not None and value < minimum):
        if minimum == 1:
            rule = "a positive int"
        elif minimum is not None:
            rule = f"an int >= {minimum}"
        else:
            rule = "an int"
        raise ValueError(f"`{argument}` must be {rule}. Received: {value!r}")
    return int(value)


def validate_num_samples(num_samples) -> int:
    """`num_samples` as a positive Python int (NumPy integers accepted)."""
    return check_int(num_samples, "num_samples", minimum=1)


def validate_batch_size(batch_size) -> int:
    """`batch_size` as a positive Python int (NumPy integers accepted)."""
    return check_int(batch_size, "batch_size", minimum=1)


def validate_seed(seed, argument: str = "seed") -> int | None:
    """`seed` as `None` or a Python int in [0, 2**31 - 1].

    The one rule for every model's seeds: negative seeds work on some
    backends and fail on others (JAX), so none takes them.
    """
    if seed is None:
        return None
    if not _is_int(seed) or not 0 <= seed <= MAX_SEED:
        raise ValueError(
            f"`{argument}` must be None or an int in [0, {MAX_SEED}]. "
            f"Received: {seed!r}"
        )
    return int(seed)


def validate_latents(z, latent_dim: int, argument: str = "z") -> np.ndarray:
    """`z` as a finite float32 NumPy array `(N, latent_dim)`, N >= 1.

    Backend tensors are converted to NumPy: the methods that take latents
    this way return NumPy.
    """
    array = np.asarray(keras.ops.convert_to_numpy(z))
    if array.dtype.kind not in "biuf":
        raise ValueError(
            f"`{argument}` must be numeric latents; received dtype {array.dtype}."
        )
    if array.ndim != 2 or array.shape[1] != latent_dim or not len(array):
        raise ValueError(
            f"`{argument}` must have shape (N, {latent_dim}) for this model's "
            f"latent_dim={latent_dim}, N >= 1. Received shape {array.shape}."
        )
    array = array.astype("float32", copy=False)
    if not np.all(np.isfinite(array)):
        # NaN latents decode to NaN images without complaint.
        raise ValueError(f"`{argument}` must be finite; it holds NaN or inf.")
    return array


def check_choice(argument: str, value, choices: Sequence) -> None:
    """Raises a ValueError naming `argument` and the valid `choices`."""
    if value not in choices:
        raise ValueError(
            f"`{argument}` must be one of {list(choices)}. Received: {value!r}"
        )


def predict_in_batches(fn, inputs, batch_size: int = 256) -> np.ndarray:
    """Applies `fn` to `inputs` in batches; returns one float32 NumPy array.

    `inputs` is an array, or a tuple of arrays with the same first dimension
    that are batched together and passed as `fn(*batch)`.
    """
    batch_size = validate_batch_size(batch_size)
    arrays = inputs if isinstance(inputs, tuple) else (inputs,)
    total = int(arrays[0].shape[0])
    if total == 0:
        # np.concatenate would fail with "need at least one array".
        raise ValueError("Received 0 examples: pass at least one.")
    outputs = []
    for start in range(0, total, batch_size):
        batch = [a[start : start + batch_size] for a in arrays]
        outputs.append(keras.ops.convert_to_numpy(fn(*batch)))
    return np.concatenate(outputs, axis=0).astype("float32")


def standard_normal_latents(num_samples, latent_dim: int, seed, seed_generator):
    """z ~ N(0, I) of shape `(num_samples, latent_dim)`.

    An int `seed` gives the same draw every time on one backend (backends
    draw different numbers); `None` advances the model's own
    `seed_generator`.
    """
    num_samples = validate_num_samples(num_samples)
    seed = validate_seed(seed)
    return keras.random.normal(
        (num_samples, latent_dim), seed=seed_generator if seed is None else seed
    )


class GeneratesFromStandardNormal:
    """Mixin: `generate` draws z ~ N(0, I) and maps it to images.

    The model sets `latent_dim` and `seed_generator` and implements
    `_images_from_latents(z)`, a tensor function returning images in [0, 1].
    `generator_graph` is that function under its public name, the one
    `generate` runs and `keras_latent.export` exports.
    """

    @property
    def noise_dim(self) -> int:
        """The width of the standard normal noise `generator_graph` reads."""
        return self.latent_dim

    def generator_graph(self, noise):
        """Images in [0, 1] from noise `(batch, noise_dim)`, z ~ N(0, I).

        Written with Keras layers and `keras.ops` only, so it runs on backend
        tensors and inside traced graphs (`keras_latent.export`).

        Args:
            noise: float32 tensor `(batch, noise_dim)`.

        Returns:
            A float32 tensor `(batch, H, W, C)` in [0, 1].
        """
        return self._images_from_latents(noise)

    def generate(
        self, num_samples: int, seed: int | None = None, batch_size: int = 256
    ) -> np.ndarray:
        """Generates images from z ~ N(0, I).

        Args:
            num_samples: int. Number of images.
            seed: int in [0, 2**31 - 1] or None. On one backend the same seed
                gives the same images; backends draw different numbers, so
                they do not give the same images. `None` draws from the
                model's own seed generator. Defaults to `None`.
            batch_size: int. Batch size of the mapping to images. Defaults
                to `256`.

        Returns:
            float32 NumPy array `(num_samples, H, W, C)` in [0, 1], on every
            backend.
        """
        batch_size = validate_batch_size(batch_size)
        z = standard_normal_latents(
            num_samples, self.latent_dim, seed, self.seed_generator
        )
        return predict_in_batches(self.generator_graph, z, batch_size)

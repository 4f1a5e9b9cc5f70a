"""Checks on what users pass to models, with errors that say what to do."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np


def validate_images(images, image_shape: Sequence[int], argument: str = "images"):
    """Raises a ValueError unless `images` is a float batch of `image_shape`."""
    shape = tuple(images.shape)
    expected = tuple(image_shape)
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


def validate_num_samples(num_samples) -> int:
    if isinstance(num_samples, bool) or not isinstance(num_samples, int):
        raise ValueError(
            f"`num_samples` must be a positive int. Received: {num_samples!r}"
        )
    if num_samples < 1:
        raise ValueError(
            f"`num_samples` must be a positive int. Received: {num_samples}"
        )
    return num_samples


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
    arrays = inputs if isinstance(inputs, tuple) else (inputs,)
    total = int(arrays[0].shape[0])
    outputs = []
    for start in range(0, total, batch_size):
        batch = [a[start : start + batch_size] for a in arrays]
        outputs.append(keras.ops.convert_to_numpy(fn(*batch)))
    return np.concatenate(outputs, axis=0).astype("float32")


def standard_normal_latents(num_samples, latent_dim: int, seed, seed_generator):
    """z ~ N(0, I) of shape `(num_samples, latent_dim)`.

    An int `seed` gives the same draw every time; `None` advances the model's
    own `seed_generator`.
    """
    validate_num_samples(num_samples)
    return keras.random.normal(
        (num_samples, latent_dim), seed=seed_generator if seed is None else seed
    )

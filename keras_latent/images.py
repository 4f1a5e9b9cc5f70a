"""Image grids and image files: what a person looks at instead of numbers."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np


def image_grid(images, rows: int | None = None, padding: int = 2) -> np.ndarray:
    """Tiles a batch of images into one uint8 RGB image.

    Args:
        images: array `(n, H, W, C)` with C in {1, 3}, floats in [0, 1] or uint8.
        rows: int or None. Rows of the grid; `None` makes it square-ish.
            Defaults to `None`.
        padding: int. Pixels of white between tiles. Defaults to `2`.

    Returns:
        uint8 array `(rows·(H+p)+p, cols·(W+p)+p, 3)`.

    Example:

    ```python
    grid = image_grid(model.generate(16, seed=0), rows=4)
    ```
    """
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] not in (1, 3):
        raise ValueError(
            "`images` must have shape (n, height, width, 1 or 3). "
            f"Received shape {images.shape}."
        )
    if images.dtype != np.uint8:
        images = np.clip(np.round(images * 255.0), 0, 255).astype(np.uint8)
    if images.shape[-1] == 1:
        images = np.repeat(images, 3, axis=-1)
    count, height, width, _ = images.shape
    rows = rows or max(1, int(math.floor(math.sqrt(count))))
    cols = int(math.ceil(count / rows))
    grid = np.full(
        (rows * (height + padding) + padding, cols * (width + padding) + padding, 3),
        255,
        dtype=np.uint8,
    )
    for index, image in enumerate(images):
        r, c = divmod(index, cols)
        top, left = padding + r * (height + padding), padding + c * (width + padding)
        grid[top : top + height, left : left + width] = image
    return grid


def save_image_grid(
    images,
    path: str | os.PathLike,
    rows: int | None = None,
    scale: int = 1,
    padding: int = 2,
) -> str:
    """Writes `image_grid(images, rows, padding)` to a PNG, upscaled `scale` times.

    Returns:
        The path written, as a string.
    """
    from PIL import Image

    grid = Image.fromarray(image_grid(images, rows=rows, padding=padding))
    if scale > 1:
        grid = grid.resize(
            (grid.width * scale, grid.height * scale), Image.Resampling.NEAREST
        )
    grid.save(path)
    return str(path)


def check_image_file(path: str | os.PathLike) -> None:
    """Raises a clear error unless `path` is an existing file (not a directory).

    Raises:
        FileNotFoundError: nothing exists at `path`.
        ValueError: `path` is a directory (or another non-file).
    """
    if os.path.isdir(path):
        raise ValueError(f"Image file {path} is a directory, not an image file.")
    if not os.path.exists(path):
        raise FileNotFoundError(f"Image file {path} does not exist.")
    if not os.path.isfile(path):
        raise ValueError(f"Image file {path} is not a regular file.")


# `load_image` refuses photos it would have to upscale more than this: a 1x1
# or 8x8 image stretched to a 64x64 model's input is a blur, not a face.
MAX_UPSCALE = 4


def _load_square_rgb(
    path: str | os.PathLike, image_size: int, max_upscale: float | None = None
) -> np.ndarray:
    """Decodes an image, crops the centre square and resizes it with LANCZOS.

    Only PIL and NumPy, so reading an image never imports TensorFlow;
    `keras_latent.datasets` reads CelebA and user image folders with it. For
    CelebA's 178x218 originals the centre square is exactly the standard box
    `(0, 20, 178, 198)`, and for other sizes it is that box scaled.

    Args:
        path: the image file.
        image_size: side of the square output.
        max_upscale: float or None. Refuse images whose shorter side is more
            than this many times smaller than `image_size`; `None` accepts
            any size. Defaults to `None`.

    Returns:
        uint8 array `(image_size, image_size, 3)`.

    Raises:
        ValueError: the file is not a readable image, or too small.
    """
    from PIL import Image

    try:
        with Image.open(path) as img:
            img = img.convert("RGB")
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as err:
        raise ValueError(f"Could not read image {path}: {err}") from err
    width, height = img.size
    side = min(width, height)
    if max_upscale is not None and side * max_upscale < image_size:
        raise ValueError(
            f"Image {path} is {width}x{height} pixels: the model reads "
            f"{image_size}x{image_size} images, and upscaling its shorter side "
            f"{image_size / side:.0f}x would only blur it. Use an image at least "
            f"{-(-image_size // max_upscale)} pixels on its shorter side."
        )
    left, top = (width - side) // 2, (height - side) // 2
    img = img.crop((left, top, left + side, top + side))
    if side != image_size:
        img = img.resize((image_size, image_size), Image.Resampling.LANCZOS)
    return np.asarray(img, dtype=np.uint8)


def load_image(path: str | os.PathLike, image_shape: Sequence[int]) -> np.ndarray:
    """Reads an image file the way the zoo's models expect it.

    The image is centre-cropped to a square, resized with LANCZOS to
    `image_shape[:2]` and converted to RGB (3 channels) or grayscale (1).
    Needs only PIL and NumPy (it does not import TensorFlow).

    Args:
        path: an image file PIL can read (JPEG, PNG, ...).
        image_shape: `(height, width, channels)` of the model; height and
            width must be equal.

    Returns:
        float32 array `image_shape` in [0, 1].

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: the path is a directory, the file is not a readable image,
            its shorter side is over `MAX_UPSCALE` (4) times smaller than the
            model's, or the shape is not square with 1 or 3 channels.
    """
    from PIL import Image

    height, width, channels = (int(d) for d in image_shape)
    if height != width or channels not in (1, 3):
        raise ValueError(
            "`image_shape` must be square with 1 or 3 channels. "
            f"Received: {tuple(image_shape)}"
        )
    check_image_file(path)
    rgb = _load_square_rgb(Path(path), height, max_upscale=MAX_UPSCALE)
    if channels == 1:
        rgb = np.asarray(Image.fromarray(rgb).convert("L"))[..., None]
    return rgb.astype("float32") / 255.0

"""How big an image grid may get: checked before anything is generated.

`keras-latent sample -n 1 --scale 100000` asks for a 3.2-million-pixel-wide
PNG; building it would take terabytes and get the process killed after a
minute. `output_problem` estimates the grid's size and memory from the
options alone and says which option to lower, in milliseconds.

Imports nothing heavy at module level, like the rest of the CLI's parsing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

# The largest image (after --scale) the CLI writes. A bigger PNG opens in
# few viewers, and encoding it takes minutes.
MAX_OUTPUT_MEGAPIXELS = 500

# What `sample` generates at a time: each batch is converted to uint8 as it
# comes, so float32 images never take more than this many images' memory.
SAMPLE_BATCH = 1024


def grid_size(
    count: int, image_shape: Sequence[int], rows: int | None, padding: int
) -> tuple[int, int]:
    """`(height, width)` of `keras_latent.images.image_grid`'s output.

    The same layout: `rows` (default about the square root of `count`) rows
    of `ceil(count / rows)` tiles, `padding` pixels around each.
    """
    height, width = int(image_shape[0]), int(image_shape[1])
    rows = rows or max(1, int(math.floor(math.sqrt(count))))
    cols = int(math.ceil(count / rows))
    return (
        rows * (height + padding) + padding,
        cols * (width + padding) + padding,
    )


def output_bytes(
    count: int,
    image_shape: Sequence[int],
    rows: int | None,
    scale: int,
    padding: int,
) -> int:
    """Peak bytes of generating `count` images and writing their grid.

    The float32 batches being generated (a model's `generate` holds up to
    three copies of a batch), the uint8 tiles (and their RGB copy for
    grayscale images), the grid, PIL's copy of it and the upscaled image.
    """
    height, width, channels = (int(d) for d in image_shape)
    pixels = height * width
    batch = min(count, SAMPLE_BATCH) * pixels * channels * 4 * 3
    tiles = count * pixels * (channels + (3 if channels == 1 else 0))
    grid_h, grid_w = grid_size(count, image_shape, rows, padding)
    grid = grid_h * grid_w * 3
    return batch + tiles + 2 * grid + grid * scale * scale


def output_problem(
    count: int,
    image_shape: Sequence[int],
    *,
    rows: int | None = None,
    scale: int = 1,
    padding: int = 2,
    count_option: str = "-n",
) -> str | None:
    """Why a grid of `count` images would be too big to write, or None.

    Too big: over `MAX_OUTPUT_MEGAPIXELS` after upscaling, or needing more
    than half of the available memory (`keras_latent.utils.batching.
    memory_budget`). The message names the option to lower: `--scale` when
    the grid fits without upscaling, else `count_option`.

    Args:
        count: int. Number of tiles in the grid.
        image_shape: `(height, width, channels)` of one tile.
        rows: int or None. Rows of the grid. Defaults to `None`.
        scale: int. Upscale factor. Defaults to `1`.
        padding: int. Pixels between tiles. Defaults to `2`.
        count_option: str. The option that sets `count`, for the message.
            Defaults to `"-n"`.

    Example:

    ```python
    output_problem(1, (28, 28, 1), scale=100000)
    # 'argument --scale: ... 3200000×3200000 pixels ...'
    ```
    """
    from keras_latent.utils.batching import format_bytes, memory_budget

    budget = memory_budget()
    limit = MAX_OUTPUT_MEGAPIXELS * 1_000_000

    def fits(factor: int) -> bool:
        height, width = grid_size(count, image_shape, rows, padding)
        return (
            height * width * factor * factor <= limit
            and output_bytes(count, image_shape, rows, factor, padding) <= budget
        )

    if fits(scale):
        return None
    height, width = grid_size(count, image_shape, rows, padding)
    size = (
        f"{plural_images(count)} in a {width * scale}×{height * scale}-pixel grid "
        f"({width * height * scale * scale / 1e6:,.0f} megapixels, about "
        f"{format_bytes(output_bytes(count, image_shape, rows, scale, padding))} "
        "of memory)"
    )
    limits = (
        f"the limits are {MAX_OUTPUT_MEGAPIXELS} megapixels and half the "
        f"available memory ({format_bytes(budget)})"
    )
    if scale > 1 and fits(1):
        return (
            f"argument --scale: {size} is too big; {limits}. Use --scale "
            f"{_largest_fitting(fits, scale)} or less."
        )
    return (
        f"argument {count_option}: {size} is too big; {limits}. Ask for fewer "
        "images" + (" or a smaller --scale." if scale > 1 else ".")
    )


def _largest_fitting(fits, scale: int) -> int:
    """The largest factor in `[1, scale)` that `fits`, by bisection."""
    low, high = 1, scale  # fits(low), not fits(high)
    while high - low > 1:
        middle = (low + high) // 2
        if fits(middle):
            low = middle
        else:
            high = middle
    return low


def plural_images(count: int) -> str:
    return f"{count:,} image{'' if count == 1 else 's'}"

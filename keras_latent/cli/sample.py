"""`keras-latent sample`: a grid of generated images."""

from __future__ import annotations

import time

from keras_latent.cli import arguments, limits
from keras_latent.cli.common import (
    USAGE_ERROR,
    fail,
    load_preset_with,
    make_parent_directory,
    plural,
    with_article,
)


def add_parser(commands) -> None:
    """Adds the `sample` subcommand to the subparsers `commands`."""
    parser = commands.add_parser("sample", help="write a PNG grid of samples")
    parser.add_argument("preset", help=arguments.PRESET_HELP)
    parser.add_argument(
        "-n",
        "--num-samples",
        type=arguments.positive_int,
        default=64,
        help="number of images to generate; the grid may have at most "
        f"{limits.MAX_OUTPUT_MEGAPIXELS} megapixels after --scale and take at "
        "most half the available memory (default: %(default)s)",
    )
    arguments.add_output_argument(parser, default="samples.png")
    arguments.add_seed_argument(parser, "images")
    parser.add_argument(
        "--rows",
        type=arguments.positive_int,
        default=None,
        help="rows of the grid, at most -n (default: about the square root of -n)",
    )
    arguments.add_scale_argument(parser)
    parser.add_argument(
        "--padding",
        type=arguments.non_negative_int,
        default=2,
        help="pixels between images, >= 0; 0 with -n 1 writes the bare image "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--attributes",
        type=arguments.attribute_values,
        default=None,
        metavar="NAME=0|1,...",
        help="attributes of a conditional preset, e.g. Smiling=1,Eyeglasses=1; "
        "the others are drawn from the training distribution",
    )
    parser.set_defaults(run=run)


def generate_tiles(model, count: int, seed: int, **kwargs):
    """`count` generated images as uint8, generated `limits.SAMPLE_BATCH` at a time.

    Batch `i` is `generate(num_samples, seed=seed + i)` (wrapping past
    `arguments.MAX_SEED`), so up to
    `SAMPLE_BATCH` images are exactly `generate(count, seed=seed)`. Each batch
    is converted to uint8 as it comes, as `image_grid` would convert it, so
    float32 images never take more than one batch's memory.
    """
    import numpy as np

    from keras_latent.utils.batching import check_finite, to_numpy

    tiles = None
    for index, start in enumerate(range(0, count, limits.SAMPLE_BATCH)):
        size = min(limits.SAMPLE_BATCH, count - start)
        batch = to_numpy(
            model.generate(
                num_samples=size,
                seed=(seed + index) % (arguments.MAX_SEED + 1),
                **kwargs,
            )
        )
        check_finite(
            batch,
            f"Generated batch {index} (images {start} to {start + size - 1})",
        )
        if tiles is None:
            tiles = np.empty((count, *batch.shape[1:]), np.uint8)
        if batch.dtype != np.uint8:
            batch = np.clip(np.round(batch * 255.0), 0, 255).astype(np.uint8)
        tiles[start : start + size] = batch
    return tiles


def run(args) -> int:
    """Generates `args.num_samples` images and writes them as one grid."""
    from keras_latent.images import save_image_grid

    if args.rows is not None and args.rows > args.num_samples:
        return fail(
            f"argument --rows: {args.rows} rows need at least "
            f"{args.rows} samples, but -n is {args.num_samples}."
        )
    started = time.time()
    model = load_preset_with(args.preset, "generate", "does not generate images")
    if model is None:
        return USAGE_ERROR
    kwargs = {}
    if args.attributes is not None:
        if not hasattr(model, "attribute_names"):
            return fail(
                f"preset '{args.preset}' holds "
                f"{with_article(type(model).__name__)}, which is unconditional: "
                "--attributes needs a conditional model such as "
                "celeba_latent_constraints."
            )
        kwargs["attributes"] = args.attributes
    problem = limits.output_problem(
        args.num_samples,
        model.image_shape,
        rows=args.rows,
        scale=args.scale,
        padding=args.padding,
    )
    if problem:
        # Before generating: the check takes milliseconds, the work minutes.
        return fail(problem)
    images = generate_tiles(model, args.num_samples, args.seed, **kwargs)
    make_parent_directory(args.output)
    path = save_image_grid(
        images, args.output, rows=args.rows, scale=args.scale, padding=args.padding
    )
    print(
        f"wrote {plural(args.num_samples, 'sample')} of '{args.preset}' to {path} "
        f"({time.time() - started:.1f} s)"
    )
    return 0

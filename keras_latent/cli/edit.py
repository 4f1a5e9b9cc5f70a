"""`keras-latent edit`: set attributes of your own images, keeping identity."""

from __future__ import annotations

import inspect
import time

from keras_latent.cli import arguments, limits
from keras_latent.cli.common import (
    USAGE_ERROR,
    fail,
    format_attributes,
    load_preset_with,
    make_parent_directory,
    plural,
)


def add_parser(commands) -> None:
    """Adds the `edit` subcommand to the subparsers `commands`."""
    parser = commands.add_parser(
        "edit", help="edit the attributes of your own images, keeping identity"
    )
    parser.add_argument("preset", help="an editing preset (celeba_latent_constraints)")
    parser.add_argument(
        "--image",
        action="append",
        required=True,
        help="image file (centre-cropped and resized); repeat for several",
    )
    parser.add_argument(
        "--set",
        type=arguments.attribute_values,
        required=True,
        metavar="NAME=0|1,...",
        help="attributes to set, e.g. Smiling=1",
    )
    parser.add_argument(
        "--method",
        choices=("actor", "optimize"),
        default=None,
        help="for Latent Constraints presets: optimize (the default), a search "
        "in the latent space that keeps the face close to its reconstruction "
        "and works for attributes taught with fit_attribute_critic; actor, "
        "one forward pass (fast, weaker edits). Other editing models have one "
        "way to edit",
    )
    arguments.add_output_argument(parser, default="edited.png")
    parser.add_argument(
        "--only-edit",
        action="store_true",
        help="write only the edits, not input | reconstruction | edit rows",
    )
    arguments.add_scale_argument(parser)
    parser.set_defaults(run=run)


def run(args) -> int:
    """Edits each `--image` and writes the result as one grid."""
    import numpy as np

    from keras_latent.images import check_image_file, load_image, save_image_grid

    # Before loading the model: a typo should not cost the load.
    for image in args.image:
        try:
            check_image_file(image)
        except (ValueError, FileNotFoundError) as e:
            return fail(f"argument --image: {e}")
    started = time.time()
    model = load_preset_with(
        args.preset,
        "transform",
        "cannot edit images; use an editing preset such as celeba_latent_constraints",
    )
    if model is None:
        return USAGE_ERROR
    options = {}
    if "method" in inspect.signature(model.transform).parameters:
        if args.method is not None:
            options["method"] = args.method  # else the model's own default
    elif args.method is not None:
        return fail(
            f"argument --method: {type(model).__name__} has one way to edit; "
            "--method is for Latent Constraints presets"
        )
    tiles_per_image = 1 if args.only_edit else 3
    problem = limits.output_problem(
        tiles_per_image * len(args.image),
        model.image_shape,
        rows=len(args.image),
        scale=args.scale,
        count_option="--image",
    )
    if problem:
        return fail(problem)
    try:
        images = np.stack([load_image(p, model.image_shape) for p in args.image])
    except ValueError as e:
        return fail(str(e))
    edited = model.transform(images, args.set, **options)
    if args.only_edit:
        tiles, rows = edited, len(edited)
    else:
        # Each row: the input, its reconstruction, the edit.
        tiles = np.stack([images, model.reconstruct(images), edited], axis=1)
        tiles, rows = tiles.reshape((-1,) + images.shape[1:]), len(images)
    make_parent_directory(args.output)
    path = save_image_grid(tiles, args.output, rows=rows, scale=args.scale)
    what = "edit" if args.only_edit else "input, reconstruction and edit"
    print(
        f"wrote {what} of {plural(len(images), 'image')} with "
        f"{format_attributes(args.set)} to {path} ({time.time() - started:.1f} s)"
    )
    return 0

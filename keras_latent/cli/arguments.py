"""Option types and option builders that several subcommands share.

Everything here runs while the command line is parsed, before any model is
loaded, so it imports nothing heavy: a bad number or an unwritable output path
fails in milliseconds, not after a preset download.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from keras_latent.utils.inputs import MAX_SEED

# What `-o` may end with; PIL picks the format from the extension.
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff")

OUTPUT_HELP = (
    f"image file to write, ending in {', '.join(IMAGE_EXTENSIONS)}; missing "
    "parent directories are created (default: %(default)s)"
)

PRESET_HELP = "preset name, directory, hf:// or kaggle://"


def int_at_least(minimum: int):
    """An argparse `type`: an integer >= `minimum`, else a clean error.

    Args:
        minimum: int. The smallest value accepted.

    Example:

    >>> int_at_least(1)("3")
    3
    """

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(
                f"must be an integer >= {minimum}, got {text!r}"
            )
        return value

    return parse


positive_int = int_at_least(1)
non_negative_int = int_at_least(0)


def attribute_values(text: str) -> dict:
    """Parses `Smiling=1,Eyeglasses=0` into `{"Smiling": 1, "Eyeglasses": 0}`."""
    values = {}
    for item in text.split(","):
        name, sep, value = item.strip().partition("=")
        if not sep or not name or value.strip() not in ("0", "1"):
            raise argparse.ArgumentTypeError(
                f"expected NAME=0 or NAME=1, comma-separated (e.g. "
                f"Smiling=1,Eyeglasses=0); got {item!r}"
            )
        values[name.strip()] = int(value)
    return values


def output_problem(path: str | os.PathLike) -> str | None:
    """Why a file cannot be written at `path`, or None.

    Missing parent directories are fine (they are created when the file is
    written), as long as the nearest existing one is a writable directory.
    """
    path = Path(path)
    if path.is_dir():
        return f"{str(path)!r} is a directory; give a file name"
    parent = path.absolute().parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        return f"cannot create a directory for {str(path)!r}: {parent} is a file"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"cannot write to {parent}: permission denied"
    return None


def image_output(text: str) -> str:
    """An argparse `type`: an image file to write, with a known extension and a
    writable place."""
    if Path(text).suffix.lower() not in IMAGE_EXTENSIONS:
        raise argparse.ArgumentTypeError(
            f"{text!r} does not end with an image extension; use one of "
            f"{', '.join(IMAGE_EXTENSIONS)}"
        )
    problem = output_problem(text)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return text


def add_output_argument(parser: argparse.ArgumentParser, default: str) -> None:
    """Adds `-o/--output`, the image file a command writes."""
    parser.add_argument(
        "-o",
        "--output",
        type=image_output,
        default=default,
        metavar="FILE",
        help=OUTPUT_HELP,
    )


def add_scale_argument(parser: argparse.ArgumentParser) -> None:
    """Adds `--scale`, the upscale factor of a written image."""
    parser.add_argument(
        "--scale",
        type=positive_int,
        default=2,
        help="upscale factor of the image, >= 1 (default: %(default)s)",
    )


def seed_value(text: str) -> int:
    """An argparse `type`: a seed in [0, MAX_SEED], else a clean error."""
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(
            f"must be an integer in [0, {MAX_SEED}], got {text!r}"
        )
    return value


def add_seed_argument(parser: argparse.ArgumentParser, what: str) -> None:
    """Adds `--seed`; its help reads "same seed, same <what> on this backend"."""
    parser.add_argument(
        "--seed",
        type=seed_value,
        default=0,
        help=f"same seed, same {what} on this backend (default: %(default)s)",
    )

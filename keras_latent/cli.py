"""`keras-latent`: the command line.

keras-latent list
keras-latent sample mnist_wgan_gp -n 64 -o digits.png
keras-latent sample celeba_latent_constraints --attributes Smiling=1,Eyeglasses=1 -n 16
keras-latent edit celeba_latent_constraints --image face.jpg --set Smiling=1
keras-latent evaluate mnist_wgan_gp --metrics fid,kid,is,diversity -n 10000 --json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path


def _a(name: str) -> str:
    """`name` with its indefinite article: "an ImageClassifier", "a VAE"."""
    return f"{'an' if name[:1] in 'AEIOU' else 'a'} {name}"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _load_preset_with(preset: str, method: str, otherwise: str):
    """The preset's model if it has `method`; else prints why and returns None."""
    import keras_latent

    model = keras_latent.from_preset(preset)
    if not hasattr(model, method):
        print(
            f"error: preset '{preset}' holds {_a(type(model).__name__)}, which "
            f"{otherwise}.",
            file=sys.stderr,
        )
        return None
    return model


def _sample(args) -> int:
    from keras_latent.images import save_image_grid

    if args.rows is not None and args.rows > args.num_samples:
        print(
            f"error: argument --rows: {args.rows} rows need at least "
            f"{args.rows} samples, but -n is {args.num_samples}.",
            file=sys.stderr,
        )
        return 2
    started = time.time()
    model = _load_preset_with(args.preset, "generate", "does not generate images")
    if model is None:
        return 2
    kwargs = {}
    if args.attributes is not None:
        if not hasattr(model, "attribute_names"):
            print(
                f"error: preset '{args.preset}' holds {_a(type(model).__name__)}, "
                "which is unconditional: --attributes needs a conditional model "
                "such as celeba_latent_constraints.",
                file=sys.stderr,
            )
            return 2
        kwargs["attributes"] = args.attributes
    images = model.generate(num_samples=args.num_samples, seed=args.seed, **kwargs)
    _make_parent_directory(args.output)
    path = save_image_grid(
        images, args.output, rows=args.rows, scale=args.scale, padding=args.padding
    )
    print(
        f"wrote {_plural(args.num_samples, 'sample')} of '{args.preset}' to {path} "
        f"({time.time() - started:.1f} s)"
    )
    return 0


def _edit(args) -> int:
    import numpy as np

    from keras_latent.images import _check_image_file, load_image, save_image_grid

    # Before loading the model: a typo should not cost the load.
    for image in args.image:
        try:
            _check_image_file(image)
        except (ValueError, FileNotFoundError) as e:
            print(f"error: argument --image: {e}", file=sys.stderr)
            return 2
    started = time.time()
    model = _load_preset_with(
        args.preset,
        "transform",
        "cannot edit images; use an editing preset such as celeba_latent_constraints",
    )
    if model is None:
        return 2
    try:
        images = np.stack([load_image(p, model.image_shape) for p in args.image])
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    edited = model.transform(images, args.set, method=args.method)
    if args.only_edit:
        tiles, rows = edited, len(edited)
    else:
        # Each row: the input, its reconstruction, the edit.
        tiles = np.stack([images, model.reconstruct(images), edited], axis=1)
        tiles, rows = tiles.reshape((-1,) + images.shape[1:]), len(images)
    _make_parent_directory(args.output)
    path = save_image_grid(tiles, args.output, rows=rows, scale=args.scale)
    what = "edit" if args.only_edit else "input, reconstruction and edit"
    print(
        f"wrote {what} of {_plural(len(images), 'image')} with "
        f"{_format_attributes(args.set)} to {path} ({time.time() - started:.1f} s)"
    )
    return 0


def _format_attributes(attributes: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in attributes.items())


def _attribute_values(text: str) -> dict:
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


def _list(args) -> int:
    import keras_latent

    for name in keras_latent.list_presets():
        metadata = keras_latent.load_preset_metadata(name)
        print(f"{name:24s} {metadata.get('class', '?')}")
    return 0


def _evaluate(args) -> int:
    import keras_latent
    from keras_latent.evaluation import format_table

    path = None
    if args.json is not None:
        # A bare --json names the file after the preset, in the cwd.
        stem = Path(args.preset.rstrip("/")).name or "model"
        path = Path(args.json or f"{stem}_evaluation.json")
        problem = _output_problem(path)
        if problem:
            # Checked before the evaluation, which can take minutes.
            print(f"error: argument --json: {problem}", file=sys.stderr)
            return 2
    started = time.time()
    report = keras_latent.evaluate(
        args.preset,
        # evaluate checks the names before it loads anything.
        metrics=args.metrics,
        data=args.data,
        num_samples=args.num_samples,
        judge=args.judge,
        feature_network=args.feature_network,
        batch_size=args.batch_size,
        seed=args.seed,
        verbose=not args.quiet,
    )
    print(format_table(report))
    text = json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    if path is None:
        print(text, end="")
    else:
        _make_parent_directory(path)
        path.write_text(text)
        print(f"wrote {path}")
    print(f"evaluated '{args.preset}' in {time.time() - started:.1f} s")
    return 0


def _int_at_least(minimum: int):
    """An argparse `type`: an integer >= `minimum`, else a clean error."""

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


_positive_int = _int_at_least(1)
_non_negative_int = _int_at_least(0)


# What `-o` may end with; PIL picks the format from the extension.
_IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff")


def _output_problem(path: str | os.PathLike) -> str | None:
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


def _image_output(text: str) -> str:
    """An image file to write: a known extension and a writable place."""
    if Path(text).suffix.lower() not in _IMAGE_EXTENSIONS:
        raise argparse.ArgumentTypeError(
            f"{text!r} does not end with an image extension; use one of "
            f"{', '.join(_IMAGE_EXTENSIONS)}"
        )
    problem = _output_problem(text)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return text


def _make_parent_directory(path: str | os.PathLike) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)


_OUTPUT_HELP = (
    f"image file to write, ending in {', '.join(_IMAGE_EXTENSIONS)}; missing "
    "parent directories are created (default: %(default)s)"
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="keras-latent",
        description="Conditional generation and attribute editing with "
        "latent-variable models (Keras 3, on TensorFlow, JAX or PyTorch; "
        "choose with KERAS_BACKEND).",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    sample = commands.add_parser("sample", help="write a PNG grid of samples")
    sample.add_argument("preset", help="preset name, directory, hf:// or kaggle://")
    sample.add_argument(
        "-n",
        "--num-samples",
        type=_positive_int,
        default=64,
        help="number of images to generate (default: %(default)s)",
    )
    sample.add_argument(
        "-o",
        "--output",
        type=_image_output,
        default="samples.png",
        metavar="FILE",
        help=_OUTPUT_HELP,
    )
    sample.add_argument(
        "--seed",
        type=int,
        default=0,
        help="same seed, same images (default: %(default)s)",
    )
    sample.add_argument(
        "--rows",
        type=_positive_int,
        default=None,
        help="rows of the grid, at most -n (default: about the square root of -n)",
    )
    sample.add_argument(
        "--scale",
        type=_positive_int,
        default=2,
        help="upscale factor of the image, >= 1 (default: %(default)s)",
    )
    sample.add_argument(
        "--padding",
        type=_non_negative_int,
        default=2,
        help="pixels between images, >= 0; 0 with -n 1 writes the bare image "
        "(default: %(default)s)",
    )
    sample.add_argument(
        "--attributes",
        type=_attribute_values,
        default=None,
        metavar="NAME=0|1,...",
        help="attributes of a conditional preset, e.g. Smiling=1,Eyeglasses=1; "
        "the others are drawn from the training distribution",
    )
    sample.set_defaults(run=_sample)

    edit = commands.add_parser(
        "edit", help="edit the attributes of your own images, keeping identity"
    )
    edit.add_argument("preset", help="an editing preset (celeba_latent_constraints)")
    edit.add_argument(
        "--image",
        action="append",
        required=True,
        help="image file (centre-cropped and resized); repeat for several",
    )
    edit.add_argument(
        "--set",
        type=_attribute_values,
        required=True,
        metavar="NAME=0|1,...",
        help="attributes to set, e.g. Smiling=1",
    )
    edit.add_argument(
        "--method",
        choices=("actor", "optimize"),
        default="actor",
        help="actor: one pass (fast); optimize: gradient search in the latent "
        "space (slower, works for attributes taught with fit_attribute_critic) "
        "(default: %(default)s)",
    )
    edit.add_argument(
        "-o",
        "--output",
        type=_image_output,
        default="edited.png",
        metavar="FILE",
        help=_OUTPUT_HELP,
    )
    edit.add_argument(
        "--only-edit",
        action="store_true",
        help="write only the edits, not input | reconstruction | edit rows",
    )
    edit.add_argument(
        "--scale",
        type=_positive_int,
        default=2,
        help="upscale factor of the image, >= 1 (default: %(default)s)",
    )
    edit.set_defaults(run=_edit)

    evaluate = commands.add_parser(
        "evaluate", help="FID, KID, IS, diversity of a generator preset"
    )
    evaluate.add_argument("preset", help="preset name, directory, hf:// or kaggle://")
    evaluate.add_argument(
        "--metrics",
        default="fid,kid,is,diversity",
        help="comma-separated, among fid, kid, is, diversity, attributes "
        "(default: %(default)s)",
    )
    evaluate.add_argument(
        "-n",
        "--num-samples",
        type=_positive_int,
        default=10000,
        help="number of generated images (default: %(default)s)",
    )
    evaluate.add_argument(
        "--data",
        default=None,
        help="reference split (mnist:test, celeba:val, cifar10:train, ...) or a "
        ".npy/.npz file of real images (default: inferred from the image shape)",
    )
    evaluate.add_argument(
        "--judge", default=None, help="judge classifier preset (default: by dataset)"
    )
    evaluate.add_argument(
        "--feature-network",
        choices=("judge", "inception"),
        default="judge",
        help="features that FID and KID compare: the judge's penultimate layer "
        "or InceptionV3 (default: %(default)s)",
    )
    evaluate.add_argument(
        "--batch-size",
        type=_positive_int,
        default=256,
        help="images per batch (default: %(default)s)",
    )
    evaluate.add_argument(
        "--seed",
        type=int,
        default=0,
        help="same seed, same numbers (default: %(default)s)",
    )
    evaluate.add_argument(
        "--json",
        nargs="?",
        const="",
        default=None,
        metavar="PATH",
        help="write the report as JSON (bare --json: <preset>_evaluation.json); "
        "missing parent directories are created; without it the JSON is printed",
    )
    evaluate.add_argument("--quiet", action="store_true", help="no progress bars")
    evaluate.set_defaults(run=_evaluate)

    listing = commands.add_parser("list", help="list the built-in presets")
    listing.set_defaults(run=_list)
    return parser


def main(argv=None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, FileNotFoundError, ImportError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

"""`keras-latent evaluate`: FID, KID, IS, diversity and edits of a preset."""

from __future__ import annotations

import json
import time
from pathlib import Path

from keras_latent.cli import arguments
from keras_latent.cli.common import fail, make_parent_directory

# The options that `keras_latent.evaluate` takes under the same names.
EVALUATE_OPTIONS = (
    "metrics",
    "data",
    "num_samples",
    "judge",
    "feature_network",
    "batch_size",
    "seed",
    "edit_method",
)


def add_parser(commands) -> None:
    """Adds the `evaluate` subcommand to the subparsers `commands`."""
    parser = commands.add_parser(
        "evaluate", help="FID, KID, IS, diversity of a generator preset"
    )
    parser.add_argument("preset", help=arguments.PRESET_HELP)
    parser.add_argument(
        "--metrics",
        default="fid,kid,is,diversity",
        help="comma-separated, among fid, kid, is, diversity, attributes, edits "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "-n",
        "--num-samples",
        type=arguments.positive_int,
        default=10000,
        help="number of generated images (default: %(default)s)",
    )
    parser.add_argument(
        "--data",
        default=None,
        help="reference split (mnist:test, celeba:val, cifar10:train, ...) or a "
        ".npy/.npz file of real images (default: inferred from the image shape)",
    )
    parser.add_argument(
        "--judge", default=None, help="judge classifier preset (default: by dataset)"
    )
    parser.add_argument(
        "--feature-network",
        choices=("judge", "inception"),
        default="judge",
        help="features that FID and KID compare: the judge's penultimate layer "
        "or InceptionV3 (default: %(default)s)",
    )
    parser.add_argument(
        "--batch-size",
        type=arguments.positive_int,
        default=256,
        help="images per batch (default: %(default)s)",
    )
    parser.add_argument(
        "--edit-method",
        choices=("actor", "optimize"),
        default=None,
        help="with --metrics edits, the transform method of a Latent "
        "Constraints model (default: the model's own)",
    )
    arguments.add_seed_argument(parser, "numbers")
    parser.add_argument(
        "--json",
        nargs="?",
        const="",
        default=None,
        metavar="PATH",
        help="write the report as JSON (bare --json: <preset>_evaluation.json); "
        "missing parent directories are created; without it the JSON is printed",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.set_defaults(run=run)


def json_path(args) -> Path | None:
    """Where `--json` writes the report; None when it is printed instead."""
    if args.json is None:
        return None
    # A bare --json names the file after the preset, in the cwd.
    stem = Path(args.preset.rstrip("/")).name or "model"
    return Path(args.json or f"{stem}_evaluation.json")


def run(args) -> int:
    """Evaluates the preset, prints the table and prints or writes the JSON."""
    import keras_latent
    from keras_latent.evaluation import format_table

    path = json_path(args)
    if path is not None:
        problem = arguments.output_problem(path)
        if problem:
            # Checked before the evaluation, which can take minutes.
            return fail(f"argument --json: {problem}")
    started = time.time()
    from keras_latent.utils.files import atomic_write_text

    # evaluate checks the metric names before it loads anything.
    options = {name: getattr(args, name) for name in EVALUATE_OPTIONS}
    report = keras_latent.evaluate(args.preset, verbose=not args.quiet, **options)
    print(format_table(report))
    text = json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    if path is None:
        print(text, end="")
    else:
        make_parent_directory(path)
        atomic_write_text(path, text)
        print(f"wrote {path}")
    print(f"evaluated '{args.preset}' in {time.time() - started:.1f} s")
    return 0

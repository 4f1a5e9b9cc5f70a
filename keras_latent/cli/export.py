"""`keras-latent export`: a preset's generator (and edit) as ONNX or a SavedModel."""

from __future__ import annotations

import time
from pathlib import Path

from keras_latent.cli import arguments
from keras_latent.cli.common import USAGE_ERROR, fail, load_preset_with

# `keras_latent.export.FORMATS`, repeated so that `--help` imports no Keras.
FORMATS = ("onnx", "saved_model")


def add_parser(commands) -> None:
    """Adds the `export` subcommand to the subparsers `commands`."""
    parser = commands.add_parser(
        "export",
        help="export the generator (and edit) as ONNX or a TensorFlow SavedModel",
        description="Exports `generate` (noise [and labels] → images) and, for "
        "editing presets, `edit` (images and target labels → images), with "
        "named float32 inputs and a free batch size, and writes "
        "signature.json beside them.",
    )
    parser.add_argument("preset", help=arguments.PRESET_HELP)
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="onnx",
        help="onnx: generate.onnx and edit.onnx (any backend; pip install "
        '"keras-latent[export]"); saved_model: one TensorFlow SavedModel '
        "with the signatures generate and edit (TensorFlow or JAX backend) "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "-o",
        "--output",
        default=None,
        help="folder to write (default: <preset>_<format>)",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the output folder if it exists",
    )
    parser.add_argument(
        "--no-check",
        dest="check",
        action="store_false",
        help="skip running the ONNX files with onnxruntime against the Keras "
        "model (the check fails the export beyond 1e-4)",
    )
    parser.set_defaults(run=run)


def run(args) -> int:
    """Exports `args.preset` to `args.output`."""
    output = Path(args.output or f"{Path(str(args.preset)).name}_{args.format}")
    # Before loading the model: a clash should not cost the load.
    if output.exists() and not args.overwrite:
        return fail(f"argument -o: '{output}' exists; pass --overwrite to replace it.")
    from keras_latent.export import check_export_support, export_model

    check_export_support(args.format, args.check)
    started = time.time()
    model = load_preset_with(
        args.preset,
        "generator_graph",
        "has nothing to export (export takes generative and editing presets "
        "such as mnist_cgan or celeba_latent_constraints)",
    )
    if model is None:
        return USAGE_ERROR
    signature = export_model(
        model,
        output,
        format=args.format,
        overwrite=args.overwrite,
        check=args.check,
        preset=str(args.preset),
    )
    written = list(signature.get("files", {}).values()) or [
        f"a SavedModel ({', '.join(signature['signatures'])})"
    ]
    checked = ""
    if "check" in signature:
        worst = max(signature["check"]["max_abs_difference"].values())
        checked = f"; onnxruntime matches Keras to {worst:.1e}"
    print(
        f"wrote {', '.join(written)} and signature.json of '{args.preset}' to "
        f"{output} ({time.time() - started:.1f} s{checked})"
    )
    return 0

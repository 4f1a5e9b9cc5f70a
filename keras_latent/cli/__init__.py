"""`keras-latent`: the command line.

keras-latent list
keras-latent sample mnist_wgan_gp -n 64 -o digits.png
keras-latent sample celeba_latent_constraints --attributes Smiling=1,Eyeglasses=1 -n 16
keras-latent edit celeba_latent_constraints --image face.jpg --set Smiling=1
keras-latent evaluate mnist_wgan_gp --metrics fid,kid,is,diversity -n 10000 --json
keras-latent serve celeba_latent_constraints --port 7860
keras-latent export mnist_cgan --format onnx -o mnist_cgan_onnx
keras-latent upload my_vae hf://me/my_vae

One module per subcommand (`sample`, `edit`, `evaluate`, `serve`, `export`,
`upload`, `listing`), each with `add_parser(commands)` and `run(args)`; `arguments`
holds the option types they share. Heavy modules are imported inside `run`,
so that `--help` and argument errors stay fast and a PyTorch or JAX run never
imports TensorFlow.
"""

from __future__ import annotations

import argparse
import os

from keras_latent.cli import edit, evaluate, export, listing, sample, serve, upload
from keras_latent.cli.common import fail

__all__ = ["build_parser", "main"]

# In the order `--help` lists them.
_COMMANDS = (sample, edit, evaluate, serve, export, upload, listing)


def build_parser() -> argparse.ArgumentParser:
    """The `keras-latent` argument parser, with every subcommand.

    Each parsed namespace has `run`, the function that carries out its
    subcommand.

    Example:

    >>> args = build_parser().parse_args(["list"])
    >>> args.command
    'list'
    """
    parser = argparse.ArgumentParser(
        prog="keras-latent",
        description="Conditional generation and attribute editing with "
        "latent-variable models (Keras 3, on TensorFlow, JAX or PyTorch; "
        "choose with KERAS_BACKEND).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for command in _COMMANDS:
        command.add_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Runs `keras-latent` and returns its exit status.

    Args:
        argv: list of str or None. The arguments, without the program name;
            None reads `sys.argv`. Defaults to `None`.

    Returns:
        0 on success, 2 on a usage error (a bad option, an unknown preset, a
        missing file, an output too big for the memory, non-finite generated
        images) or when memory runs out; argparse exits with 2 itself on a
        malformed option.

    Example:

    >>> main(["list"])  # doctest: +SKIP
    0
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, FileNotFoundError, ImportError) as e:
        return fail(str(e))
    except MemoryError:
        # What the size checks could not foresee (e.g. other processes took
        # the memory meanwhile): a message, not a traceback.
        return fail(
            f"out of memory while running '{args.command}'; ask for less "
            "(a smaller -n, --scale or --batch-size)."
        )

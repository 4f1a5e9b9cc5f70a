"""`keras-latent`: the command line.

keras-latent list
keras-latent sample mnist_wgan_gp -n 64 -o digits.png
"""

from __future__ import annotations

import argparse
import os
import sys
import time


def _sample(args) -> int:
    import keras_latent
    from keras_latent.images import save_image_grid

    started = time.time()
    model = keras_latent.from_preset(args.preset)
    if not hasattr(model, "generate"):
        print(
            f"error: preset '{args.preset}' holds a {type(model).__name__}, which "
            "does not generate images.",
            file=sys.stderr,
        )
        return 2
    images = model.generate(args.num_samples, seed=args.seed)
    path = save_image_grid(images, args.output, rows=args.rows, scale=args.scale)
    print(
        f"wrote {args.num_samples} samples of '{args.preset}' to {path} "
        f"({time.time() - started:.1f} s)"
    )
    return 0


def _list(args) -> int:
    import keras_latent

    for name in keras_latent.list_presets():
        metadata = keras_latent.load_preset_metadata(name)
        print(f"{name:24s} {metadata.get('class', '?')}")
    return 0


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


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
    sample.add_argument("-n", "--num-samples", type=_positive_int, default=64)
    sample.add_argument("-o", "--output", default="samples.png", help="PNG path")
    sample.add_argument("--seed", type=int, default=0, help="same seed, same images")
    sample.add_argument("--rows", type=_positive_int, default=None)
    sample.add_argument(
        "--scale", type=_positive_int, default=2, help="upscale factor of the PNG"
    )
    sample.set_defaults(run=_sample)

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

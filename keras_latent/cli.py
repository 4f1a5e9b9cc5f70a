"""`keras-latent`: the command line.

keras-latent list
keras-latent sample mnist_wgan_gp -n 64 -o digits.png
keras-latent evaluate mnist_wgan_gp --metrics fid,kid,is,diversity -n 10000 --json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path


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


def _evaluate(args) -> int:
    import keras_latent
    from keras_latent.evaluation import format_table

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
    if args.json is None:
        print(text, end="")
    else:
        # A bare --json names the file after the preset, in the cwd.
        stem = Path(args.preset.rstrip("/")).name or "model"
        path = Path(args.json or f"{stem}_evaluation.json")
        path.write_text(text)
        print(f"wrote {path}")
    print(f"evaluated '{args.preset}' in {time.time() - started:.1f} s")
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

    evaluate = commands.add_parser(
        "evaluate", help="FID, KID, IS, diversity of a generator preset"
    )
    evaluate.add_argument("preset", help="preset name, directory, hf:// or kaggle://")
    evaluate.add_argument(
        "--metrics",
        default="fid,kid,is,diversity",
        help="comma-separated, among fid, kid, is, diversity, attributes",
    )
    evaluate.add_argument("-n", "--num-samples", type=_positive_int, default=10000)
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
        "--feature-network", choices=("judge", "inception"), default="judge"
    )
    evaluate.add_argument("--batch-size", type=_positive_int, default=256)
    evaluate.add_argument("--seed", type=int, default=0, help="same seed, same numbers")
    evaluate.add_argument(
        "--json",
        nargs="?",
        const="",
        default=None,
        metavar="PATH",
        help="write the report as JSON (bare --json: <preset>_evaluation.json); "
        "without it the JSON is printed",
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

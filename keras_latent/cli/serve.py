"""`keras-latent serve`: a local web page to play with a preset's attributes."""

from __future__ import annotations

import argparse

from keras_latent.cli import arguments
from keras_latent.cli.common import fail

MAX_PORT = 65535


def port_number(text: str) -> int:
    """An argparse `type`: a TCP port in [1, 65535]."""
    value = arguments.positive_int(text)
    if value > MAX_PORT:
        raise argparse.ArgumentTypeError(
            f"must be a port number in [1, {MAX_PORT}], got {text!r}"
        )
    return value


def add_parser(commands) -> None:
    """Adds the `serve` subcommand to the subparsers `commands`."""
    parser = commands.add_parser(
        "serve",
        help="a local web page: attribute controls, a sample grid, photo edits "
        '(needs pip install "keras-latent[demo]")',
    )
    parser.add_argument("preset", help=arguments.PRESET_HELP)
    parser.add_argument(
        "--port", type=port_number, default=7860, help="(default: %(default)s)"
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on; 0.0.0.0 opens the page to your network "
        "(default: %(default)s, this machine only)",
    )
    parser.set_defaults(run=run)


def run(args) -> int:
    """Loads the preset once and serves its page until Ctrl+C."""
    import os

    from keras_latent.demo import DemoSession
    from keras_latent.demo.page import build_page, import_gradio, launch
    from keras_latent.presets import from_preset

    import_gradio()  # a missing extra fails before the model loads
    model = from_preset(args.preset)
    session = DemoSession(
        model, name=os.path.basename(os.path.normpath(str(args.preset)))
    )
    page = build_page(session)
    try:
        url = launch(page, port=args.port, host=args.host, block=False)
    except OSError as e:
        return fail(f"argument --port: cannot serve on {args.host}:{args.port}: {e}")
    print(f"serving '{args.preset}' at {url} (Ctrl+C stops)", flush=True)
    try:
        page.block_thread()
    finally:
        page.close()
    return 0

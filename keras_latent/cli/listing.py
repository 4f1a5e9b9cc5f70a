"""`keras-latent list`: the built-in presets and their model classes."""

from __future__ import annotations


def add_parser(commands) -> None:
    """Adds the `list` subcommand to the subparsers `commands`."""
    parser = commands.add_parser("list", help="list the built-in presets")
    parser.set_defaults(run=run)


def run(args) -> int:
    """Prints one line per built-in preset: its name and its model class."""
    import keras_latent

    for name in keras_latent.list_presets():
        metadata = keras_latent.load_preset_metadata(name)
        print(f"{name:24s} {metadata.get('class', '?')}")
    return 0

"""What the commands share when they run: error lines, wording, loading."""

from __future__ import annotations

import os
import sys
from pathlib import Path

# The exit status of a usage error, as argparse uses it.
USAGE_ERROR = 2


def fail(message: str) -> int:
    """Prints `error: <message>` to stderr and returns the usage exit status."""
    print(f"error: {message}", file=sys.stderr)
    return USAGE_ERROR


def with_article(name: str) -> str:
    """`name` with its indefinite article: "an ImageClassifier", "a VAE"."""
    return f"{'an' if name[:1] in 'AEIOU' else 'a'} {name}"


def plural(count: int, noun: str) -> str:
    """`count` and `noun`, in the plural unless `count` is 1: "2 samples"."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def format_attributes(attributes: dict) -> str:
    """`{"Smiling": 1}` as `Smiling=1`, the way it is typed."""
    return ", ".join(f"{k}={v}" for k, v in attributes.items())


def make_parent_directory(path: str | os.PathLike) -> None:
    """Creates the missing parent directories of the file `path`."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)


def load_preset_with(preset: str, method: str, otherwise: str):
    """The preset's model if it has `method`; else prints why and returns None.

    Args:
        preset: str. A preset name, directory, hf:// or kaggle:// handle.
        method: str. The model method the command calls, e.g. `"generate"`.
        otherwise: str. What a model without `method` cannot do, ending the
            sentence "preset '...' holds a VAE, which <otherwise>.".
    """
    # Imported when a command runs, like every heavy import of the CLI, so
    # that `--help` and argument errors stay fast.
    import keras_latent

    model = keras_latent.from_preset(preset)
    if not hasattr(model, method):
        fail(
            f"preset '{preset}' holds {with_article(type(model).__name__)}, which "
            f"{otherwise}."
        )
        return None
    return model

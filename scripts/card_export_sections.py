"""Writes the "Export" section of each conditional preset's card (zoo/*/README.md).

    python scripts/card_export_sections.py          # write the sections
    python scripts/card_export_sections.py --check  # exit 1 if one is stale

The section (`keras_latent.export.export_card_section`: the command, each
exported function's named inputs and outputs, the label order) sits between
two markers: a run replaces what is between them, or appends the section to
a card that has none, so running it again changes nothing. Only the cards
change; config, weights and metadata.json are left alone.
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras_latent  # noqa: E402
from keras_latent.export import export_card_section  # noqa: E402
from keras_latent.presets import (  # noqa: E402
    builtin_preset_dir,
    load_preset_config,
)
from keras_latent.utils.files import atomic_write_text  # noqa: E402

START = "<!-- export section: written by scripts/card_export_sections.py -->"
END = "<!-- end of export section -->"


def with_section(card: str, section: str) -> str:
    """`card` with `section` between the markers, replaced or appended."""
    block = f"{START}\n{section}{END}"
    start, end = card.find(START), card.find(END)
    if start != -1 and end > start:
        return card[:start] + block + card[end + len(END) :]
    return card.rstrip("\n") + "\n\n" + block + "\n"


def conditional_models() -> dict:
    """The built-in presets whose models take labels, name → model.

    Built without weights: the section needs only the config.
    """
    models = {}
    for name in keras_latent.list_presets():
        if "attribute_names" not in load_preset_config(name)["config"]:
            continue  # unconditional, or a classifier: no labels to document
        model = keras_latent.from_preset(name, load_weights=False)
        if hasattr(model, "attribute_names") and hasattr(model, "generator_graph"):
            models[name] = model
    return models


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="only report stale sections"
    )
    args = parser.parse_args(argv)
    stale = []
    for name, model in conditional_models().items():
        card_file = builtin_preset_dir() / name / "README.md"
        card = card_file.read_text(encoding="utf-8")
        new = with_section(card, export_card_section(model, name))
        if new == card:
            continue
        stale.append(name)
        if not args.check:
            atomic_write_text(card_file, new)
    verb = "stale" if args.check else "updated"
    print(f"{verb}: {', '.join(stale) or 'none'}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())

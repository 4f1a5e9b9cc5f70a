"""Every CelebA attribute editor of the zoo on the same val faces.

    python recipes/editing_side_by_side.py \
        --output docs/experiments/editing_side_by_side

Runs the edit protocol (`keras_latent.evaluate(metrics=["edits"])`) of each
editor on the same first `--faces` val faces, read by the same independent
judge: each face is edited to the opposite of its own label for each of the
editor's attributes, the flip rate is the share the judge reads as the
target, identity the pixel MSE of the edit to the editor's own
reconstruction, and the time is the wall seconds of `transform` per edit on
this machine. Latent Constraints runs twice, with its amortised actor and
with per-face optimisation. Writes `table.md`, `table.json` and, per
editor, a figure of 8 faces (face, reconstruction, each attribute flipped).
An editor whose preset is missing is skipped with a note.
"""

import json
import sys
from pathlib import Path

import numpy as np
from absl import app, flags
from editing_measures import attribute_edit_grid

import keras_latent
from keras_latent import datasets
from keras_latent.images import save_image_grid
from keras_latent.utils.files import atomic_write_text

FLAGS = flags.FLAGS
flags.DEFINE_string("output", "docs/experiments/editing_side_by_side", "Table folder.")
flags.DEFINE_string("data_dir", None, "Folder with celeba64/ (default: auto).")
flags.DEFINE_integer("faces", 200, "The first this many val faces are edited.")
flags.DEFINE_string("judge", "celeba_attribute_classifier", "Attribute judge.")
flags.DEFINE_multi_string(
    "editor",
    None,
    "`name=preset[:method]`, repeatable (default: the zoo's CelebA editors).",
)
flags.DEFINE_integer("seed", 0, "Seed of the protocol.")

# Name -> (label, preset, Latent Constraints' edit method or None).
EDITORS = {
    "lc_actor": ("Latent Constraints, actor", "celeba_latent_constraints", "actor"),
    "lc_optimize": (
        "Latent Constraints, optimisation",
        "celeba_latent_constraints",
        "optimize",
    ),
    "ifcvaegan": ("IFcVAE-GAN", "celeba_ifcvaegan", None),
    "cvaegan": ("naive cVAE-GAN", "celeba_cvaegan", None),
    "cvae": ("CVAE", "celeba_cvae", None),
}


def editors() -> dict:
    """The editors to compare: `--editor` flags, else `EDITORS`."""
    if not FLAGS.editor:
        return EDITORS
    chosen = {}
    for spec in FLAGS.editor:
        name, _, target = spec.partition("=")
        preset, _, method = target.partition(":")
        if not name or not preset:
            raise app.UsageError(
                f"`--editor` takes name=preset[:method]. Received: {spec!r}"
            )
        chosen[name] = (name, preset, method or None)
    return chosen


def load(preset: str):
    """The editor, or None (with a note) when its preset is not there."""
    try:
        return keras_latent.from_preset(preset)
    except (FileNotFoundError, ValueError) as error:
        print(f"Skipping {preset}: {error}")
        return None


def measure(model, method, faces, labels, names, judge) -> dict:
    report = keras_latent.evaluate(
        model,
        metrics=["edits"],
        data=(faces, labels, names),
        num_samples=len(faces),
        judge=judge,
        seed=FLAGS.seed,
        edit_method=method,
    )
    return {
        "edits": report["results"]["edits"],
        "protocol": report["protocol"]["metrics"]["edits"],
    }


def table(rows: dict, names: list, image_folder: str = "") -> str:
    header = ["editor", "flip rate ↑", *names, "identity MSE ↓", "ms per edit"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, row in rows.items():
        edits = row["edits"]
        per = edits["per_attribute"]
        cells = [
            f"[{row['label']}]({image_folder}{name}.png)",
            f"**{edits['flip_rate']:.3f}**",
            *(f"{per[n]['flip_rate']:.2f}" if n in per else "–" for n in names),
            f"{edits['identity_mse']:.4f}",
            f"{1000 * edits['seconds_per_edit']:.1f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv):
    del argv
    x_val, y_val, all_names = datasets.celeba_arrays("val", data_dir=FLAGS.data_dir)
    count = min(FLAGS.faces, len(x_val))
    faces = x_val[:count].astype("float32") / 255.0
    labels = y_val[:count].astype("float32")
    judge = keras_latent.from_preset(FLAGS.judge)
    output = Path(FLAGS.output)
    output.mkdir(parents=True, exist_ok=True)
    rows, columns = {}, []
    for name, (label, preset, method) in editors().items():
        model = load(preset)
        if model is None:
            continue
        print(f"{label}: editing {count} val faces")
        row = measure(model, method, faces, labels, all_names, judge)
        rows[name] = {"label": label, "preset": preset, "method": method, **row}
        columns += [n for n in model.attribute_names if n not in columns]
        own = [all_names.index(n) for n in model.attribute_names]
        options = {"method": method} if method else {}
        grid = attribute_edit_grid(
            model, faces[:8], labels[:8, own], model.attribute_names, **options
        )
        save_image_grid(grid, str(output / f"{name}.png"), rows=8)
    if not rows:
        raise app.UsageError("No editor's preset was found.")
    summary = {
        "command": " ".join(
            ["python", "recipes/editing_side_by_side.py", *sys.argv[1:]]
        ),
        "faces": f"the first {count} CelebA val faces",
        "judge": FLAGS.judge,
        "rows": rows,
    }
    atomic_write_text(output / "table.json", json.dumps(summary, indent=2) + "\n")
    atomic_write_text(output / "table.md", table(rows, columns) + "\n")
    print("For the README:\n" + table(rows, columns, f"{FLAGS.output}/"))
    # The means are what the README quotes.
    for name, row in rows.items():
        print(f"{name}: flip rate {np.round(row['edits']['flip_rate'], 4)}")


if __name__ == "__main__":
    app.run(main)

"""Creswell et al. (2017)'s Table 1 on CelebA: IFcVAE-GAN and its ablations.

    python recipes/creswell_table.py --output docs/experiments/creswell_table_1

Trains each row with `train_celeba_ifcvaegan.py` on the same networks, data,
batch size and number of steps; only the switches differ. Each row's
preset and run are kept under `--runs_dir` (a rerun resumes or skips the
finished rows), so `zoo/celeba_ifcvaegan` and `zoo/celeba_cvaegan` can be
copies of the `best` and `no_aux` rows. The table (`table.md`,
`table.json`) and each row's edit grid go to `--output`; the README's
Table 1 is this table.

Each row is measured on the val faces that smile (the test faces are held
back) by the independent `celeba_attribute_classifier`: Class0 is the share
read as not smiling after the edit to 0, Class1 the share read as smiling
after the edit to 1, MSE the reconstruction error. The flip rate over the
ten attributes and the identity MSE come from the same edit protocol.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

from absl import app, flags

from keras_latent.utils.files import atomic_write_text

RECIPES = Path(__file__).resolve().parent
FLAGS = flags.FLAGS
flags.DEFINE_string("output", "docs/experiments/creswell_table_1", "Table folder.")
flags.DEFINE_string("runs_dir", "runs/creswell_table_1", "Each row's preset and run.")
flags.DEFINE_string("data_dir", None, "Folder with celeba64/ (default: auto).")
flags.DEFINE_integer("epochs", 8, "Epochs of `steps_per_epoch` steps.")
flags.DEFINE_integer("steps_per_epoch", 250, "Training steps per epoch.")
flags.DEFINE_integer("batch_size", 64, "Batch size.")
flags.DEFINE_float("beta", 1.0, "β of the rows with L̂_class.")
flags.DEFINE_list("rows", None, "Only these rows (default: all).")
flags.DEFINE_multi_string("extra_flag", [], "A flag added to every row's run.")

# Row name -> (label, the paper's numbers (MSE, Class0, Class1), recipe flags).
ROWS = {
    "best": ("best (α = 0.2)", (0.028, 0.813, 1.000), []),
    "alpha_0.5": ("α = 0.5", (0.030, 0.500, 0.938), ["--alpha=0.5"]),
    "label_reconstruction": (
        "with L̂_class (α = 0.2)",
        (0.028, 0.938, 0.938),
        ["--beta={beta}"],
    ),
    "no_aux": (
        "without L_aux (naive cVAE-GAN)",
        (0.028, 0.188, 0.813),
        ["--model=cvaegan"],
    ),
    "no_aux_label_reconstruction": (
        "without L_aux, with L̂_class",
        (0.027, 0.000, 1.000),
        ["--noinformation_factorization", "--beta={beta}"],
    ),
}


def row_flags(name: str) -> list:
    return [flag.format(beta=FLAGS.beta) for flag in ROWS[name][2]]


def run_row(name: str) -> dict:
    """Trains (or resumes) one row; returns its preset's metadata."""
    preset = Path(FLAGS.runs_dir) / name
    metadata_file = preset / "metadata.json"
    if not metadata_file.is_file():
        command = [
            sys.executable,
            str(RECIPES / "train_celeba_ifcvaegan.py"),
            *row_flags(name),
            f"--output={preset}",
            f"--backup_dir={Path(FLAGS.runs_dir) / (name + '_backup')}",
            f"--epochs={FLAGS.epochs}",
            f"--steps_per_epoch={FLAGS.steps_per_epoch}",
            f"--batch_size={FLAGS.batch_size}",
            f"--title={ROWS[name][0]}",
            *([f"--data_dir={FLAGS.data_dir}"] if FLAGS.data_dir else []),
            *FLAGS.extra_flag,
        ]
        print(" ".join(command), flush=True)
        subprocess.run(command, check=True)
    return json.loads(metadata_file.read_text())


def number(value) -> str:
    """A measure for the table; None (no val face smiles) as n/a."""
    return "n/a" if value is None else f"{value:.3g}"


def table(records: dict, image_folder: str = "") -> str:
    """The markdown table, ours beside the paper's; rows link their edit grids."""
    header = [
        "model",
        "MSE ↓",
        "Class0 ↑",
        "Class1 ↑",
        "paper MSE / Class0 / Class1",
        "flip rate (10 attributes) ↑",
        "identity MSE ↓",
        "wall time (s)",
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, metadata in records.items():
        metrics = metadata["metrics"]
        ours = metrics["creswell_table_1"]["value"]
        paper = " / ".join(f"{v:.3f}" for v in ROWS[name][1])
        cells = [
            f"[{ROWS[name][0]}]({image_folder}{name}.png)",
            *(number(ours[k]) for k in ("mse", "class0", "class1")),
            paper,
            f"{metrics['flip_rate']['value']:.3f}",
            f"{metrics['identity_mse']['value']:.4f}",
            f"{metadata['wall_time_s']:.0f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv):
    del argv
    names = FLAGS.rows or list(ROWS)
    unknown = sorted(set(names) - set(ROWS))
    if unknown:
        raise app.UsageError(f"Unknown rows {unknown}. Valid rows: {list(ROWS)}")
    records = {name: run_row(name) for name in names}
    output = Path(FLAGS.output)
    output.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copyfile(
            Path(FLAGS.runs_dir) / name / "edits.png", output / f"{name}.png"
        )
    first = next(iter(records.values()))
    summary = {
        "command": " ".join(["python", "recipes/creswell_table.py", *sys.argv[1:]]),
        "steps": first["steps"],
        "batch_size": first["batch_size"],
        "backend": first.get("backend"),
        "hardware": first.get("hardware"),
        "protocol": first["metrics"]["creswell_table_1"]["protocol"],
        "rows": {
            name: {
                "label": ROWS[name][0],
                "flags": row_flags(name),
                "paper": dict(zip(("mse", "class0", "class1"), ROWS[name][1])),
                "steps": record["steps"],
                "wall_time_s": record["wall_time_s"],
                "metrics": {
                    key: record["metrics"][key]["value"]
                    for key in ("creswell_table_1", "flip_rate", "identity_mse")
                },
            }
            for name, record in records.items()
        },
    }
    atomic_write_text(output / "table.json", json.dumps(summary, indent=2) + "\n")
    atomic_write_text(output / "table.md", table(records) + "\n")
    print("For the README:\n" + table(records, f"{FLAGS.output}/"))


if __name__ == "__main__":
    app.run(main)

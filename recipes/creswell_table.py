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

import table_runs  # recipes/ is on sys.path when run as a script
from absl import app, flags

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
    flags = [
        *row_flags(name),
        f"--epochs={FLAGS.epochs}",
        f"--steps_per_epoch={FLAGS.steps_per_epoch}",
        f"--batch_size={FLAGS.batch_size}",
        f"--title={ROWS[name][0]}",
        *FLAGS.extra_flag,
    ]
    return table_runs.run_row(
        FLAGS.runs_dir, name, "train_celeba_ifcvaegan", flags, FLAGS.data_dir
    )


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
            *(table_runs.number(ours[k]) for k in ("mse", "class0", "class1")),
            paper,
            f"{metrics['flip_rate']['value']:.3f}",
            f"{metrics['identity_mse']['value']:.4f}",
            f"{metadata['wall_time_s']:.0f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv):
    del argv
    names = table_runs.check_rows(FLAGS.rows, ROWS)
    records = {name: run_row(name) for name in names}
    first = next(iter(records.values()))
    summary = {
        "command": table_runs.command("creswell_table"),
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
    table_runs.write_table(
        FLAGS.output,
        FLAGS.runs_dir,
        "edits.png",
        summary,
        lambda folder: table(records, folder),
    )


if __name__ == "__main__":
    app.run(main)

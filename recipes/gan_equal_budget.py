"""The GAN family's equal-budget table on MNIST.

    python recipes/gan_equal_budget.py --output docs/experiments/gan_equal_budget

Trains each row with `train_mnist_gan.py`: the same networks, batch size and
generator steps, only the loss and regulariser differ (the Wasserstein rows
run their reference 5 critic updates per generator update, which the wall
time shows). Each row's run is kept under `--runs_dir` (a rerun resumes or
skips finished rows); the table (`table.md`, `table.json`) and a sample grid
per row go to `--output`. The README's GAN table is this table.
"""

import table_runs  # recipes/ is on sys.path when run as a script
from absl import app, flags

FLAGS = flags.FLAGS
flags.DEFINE_string("output", "docs/experiments/gan_equal_budget", "Table folder.")
flags.DEFINE_string("runs_dir", "runs/gan_equal_budget", "Each row's preset and run.")
flags.DEFINE_string("data_dir", None, "Folder with mnist/mnist.npz (default: auto).")
flags.DEFINE_integer("epochs", 6, "Epochs of `steps_per_epoch` generator steps.")
flags.DEFINE_integer("steps_per_epoch", 500, "Generator steps per epoch.")
flags.DEFINE_integer("batch_size", 64, "Batch size.")
flags.DEFINE_integer("num_samples", 10000, "Samples measured per row.")
flags.DEFINE_integer("diversity_per_class", 500, "Samples per class for diversity.")
flags.DEFINE_list("rows", None, "Only these rows (default: all).")
flags.DEFINE_multi_string("extra_flag", [], "A flag added to every row's run.")

# Row name -> (label, train_mnist_gan.py flags).
ROWS = {
    "non_saturating": ("non-saturating", ["--model=gan", "--loss=non_saturating"]),
    "minimax": ("minimax", ["--model=gan", "--loss=minimax"]),
    "non_saturating_sn": (
        "non-saturating + spectral norm",
        ["--model=gan", "--loss=non_saturating", "--spectral_norm"],
    ),
    "least_squares": ("LSGAN", ["--model=gan", "--loss=least_squares"]),
    "hinge_sn": (
        "hinge + spectral norm",
        ["--model=gan", "--loss=hinge", "--spectral_norm"],
    ),
    "wasserstein": ("WGAN (clipping)", ["--model=gan", "--loss=wasserstein"]),
    "wasserstein_gp": ("WGAN-GP", ["--model=gan", "--loss=wasserstein_gp"]),
    "acgan": ("AC-GAN (non-saturating)", ["--model=acgan", "--loss=non_saturating"]),
}
COLUMNS = (
    ("FID ↓", "fid"),
    ("KID ↓", "kid"),
    ("IS ↑", "inception_score"),
    ("classes covered", "classes_covered"),
    ("judge confident", "judge_confident_share"),
    ("classes ≥ real diversity", "diversity"),
)


def run_row(name: str) -> dict:
    """Trains (or resumes) one row; returns its preset's metadata."""
    flags = [
        *ROWS[name][1],
        f"--epochs={FLAGS.epochs}",
        f"--steps_per_epoch={FLAGS.steps_per_epoch}",
        f"--batch_size={FLAGS.batch_size}",
        f"--num_samples={FLAGS.num_samples}",
        f"--diversity_per_class={FLAGS.diversity_per_class}",
        f"--title={ROWS[name][0]}",
        *FLAGS.extra_flag,
    ]
    return table_runs.run_row(
        FLAGS.runs_dir, name, "train_mnist_gan", flags, FLAGS.data_dir
    )


def table(records: dict, image_folder: str = "") -> str:
    """The markdown table; each row links its grid in `image_folder`."""
    header = ["loss"] + [c for c, _ in COLUMNS] + ["wall time (s)"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, metadata in records.items():
        metrics = metadata["metrics"]
        cells = [f"[{ROWS[name][0]}]({image_folder}{name}.png)"]
        for _, key in COLUMNS:
            value = metrics[key]["value"]
            cells.append(f"{value:.3g}" if isinstance(value, float) else str(value))
        cells.append(f"{metadata['wall_time_s']:.0f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv):
    del argv
    names = table_runs.check_rows(FLAGS.rows, ROWS)
    records = {name: run_row(name) for name in names}
    first = next(iter(records.values()))
    summary = {
        "command": table_runs.command("gan_equal_budget"),
        "steps": first["steps"],
        "batch_size": first["batch_size"],
        "backend": first.get("backend"),
        "hardware": first.get("hardware"),
        "protocols": {key: first["metrics"][key]["protocol"] for _, key in COLUMNS},
        "rows": {
            name: {
                "label": ROWS[name][0],
                "flags": ROWS[name][1],
                "critic_updates": record["critic_updates"],
                "wall_time_s": record["wall_time_s"],
                "metrics": {key: record["metrics"][key] for _, key in COLUMNS},
            }
            for name, record in records.items()
        },
    }
    table_runs.write_table(
        FLAGS.output,
        FLAGS.runs_dir,
        "samples.png",
        summary,
        lambda folder: table(records, folder),
    )


if __name__ == "__main__":
    app.run(main)

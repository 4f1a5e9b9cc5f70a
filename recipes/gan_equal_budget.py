"""The GAN family's equal-budget table on MNIST.

    python recipes/gan_equal_budget.py --output docs/experiments/gan_equal_budget

Trains each row with `train_mnist_gan.py`: the same networks, batch size and
generator steps, only the loss and regulariser differ (the Wasserstein rows
run their reference 5 critic updates per generator update, which the wall
time shows). Each row's run is kept under `--runs_dir` (a rerun resumes or
skips finished rows); the table (`table.md`, `table.json`) and a sample grid
per row go to `--output`. The README's GAN table is this table.
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
    preset = Path(FLAGS.runs_dir) / name
    metadata_file = preset / "metadata.json"
    if not metadata_file.is_file():
        command = [
            sys.executable,
            str(RECIPES / "train_mnist_gan.py"),
            *ROWS[name][1],
            f"--output={preset}",
            f"--backup_dir={Path(FLAGS.runs_dir) / (name + '_backup')}",
            f"--epochs={FLAGS.epochs}",
            f"--steps_per_epoch={FLAGS.steps_per_epoch}",
            f"--batch_size={FLAGS.batch_size}",
            f"--num_samples={FLAGS.num_samples}",
            f"--diversity_per_class={FLAGS.diversity_per_class}",
            f"--title={ROWS[name][0]}",
            *([f"--data_dir={FLAGS.data_dir}"] if FLAGS.data_dir else []),
            *FLAGS.extra_flag,
        ]
        print(" ".join(command), flush=True)
        subprocess.run(command, check=True)
    return json.loads(metadata_file.read_text())


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
    names = FLAGS.rows or list(ROWS)
    unknown = sorted(set(names) - set(ROWS))
    if unknown:
        raise app.UsageError(f"Unknown rows {unknown}. Valid rows: {list(ROWS)}")
    records = {name: run_row(name) for name in names}
    output = Path(FLAGS.output)
    output.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copyfile(
            Path(FLAGS.runs_dir) / name / "samples.png", output / f"{name}.png"
        )
    first = next(iter(records.values()))
    summary = {
        "command": " ".join(["python", "recipes/gan_equal_budget.py", *sys.argv[1:]]),
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
    atomic_write_text(output / "table.json", json.dumps(summary, indent=2) + "\n")
    atomic_write_text(output / "table.md", table(records) + "\n")
    print("For the README:\n" + table(records, f"{FLAGS.output}/"))


if __name__ == "__main__":
    app.run(main)

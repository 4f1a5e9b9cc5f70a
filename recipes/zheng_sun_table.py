"""Zheng & Sun (2019)'s comparison on MNIST and CIFAR-10: class-conditional
samples of the label-relevant/irrelevant VAE against cVAE-GAN, CVAE and CGAN.

    python recipes/zheng_sun_table.py --output docs/experiments/zheng_sun_mnist
    python recipes/zheng_sun_table.py --dataset cifar10 \
        --vae_flag=--filters=32,64,128 --gan_flag=--generator_filters=128,64,32 \
        --gan_flag=--critic_filters=32,64,128

Trains each row with its recipe (`train_mnist_conditional_vae.py` for the
autoencoders, `train_mnist_gan.py` for CGAN) for the same steps and batch
size on `--dataset` (MNIST's 60,000 train digits, or CIFAR-10's subset
minus its 500 held-out images), and measures them alike with the dataset's
independent judge (`mnist_classifier`, `cifar10_classifier`;
`generator_measures.py`): its Inception Score, the intra-class diversity of
Zheng & Sun (mean MS-SSIM of random same-class pairs of samples, lower is
more diverse; the classes whose samples are at least as diverse as the real
test images), the share of samples read as the class asked for, and FID on
the judge's features. Each row's preset and run are kept under `--runs_dir`
(a rerun resumes or skips the finished rows); the table (`table.md`,
`table.json`) and each row's sample grid go to `--output`.
"""

import labelled_datasets  # recipes/ is on sys.path when run as a script
import numpy as np
import table_runs
from absl import app, flags

FLAGS = flags.FLAGS
labelled_datasets.define_dataset_flag()
flags.DEFINE_string(
    "output", None, "Table folder (default: docs/experiments/zheng_sun_<dataset>)."
)
flags.DEFINE_string(
    "runs_dir", None, "Each row's preset and run (default: runs/zheng_sun_<dataset>)."
)
flags.DEFINE_string(
    "data_dir", None, "Folder with mnist/ or cifar10_subset/ (default: auto)."
)
flags.DEFINE_integer("epochs", 10, "Epochs of `steps_per_epoch` steps.")
flags.DEFINE_integer("steps_per_epoch", 500, "Training steps per epoch.")
flags.DEFINE_integer("batch_size", 64, "Batch size.")
flags.DEFINE_integer("num_samples", 10000, "Samples measured per row.")
flags.DEFINE_integer("diversity_per_class", 500, "Samples per class for diversity.")
flags.DEFINE_list("rows", None, "Only these rows (default: all).")
flags.DEFINE_multi_string("vae_flag", [], "A flag added to every autoencoder row.")
flags.DEFINE_multi_string("gan_flag", [], "A flag added to the CGAN row.")

VAE_RECIPE, GAN_RECIPE = "train_mnist_conditional_vae", "train_mnist_gan"
# Row name -> (label, recipe, its flags). The label-split VAE runs as the
# `mnist_lrlivae` preset was trained; CGAN as `mnist_cgan`.
ROWS = {
    "lrlivae": (
        "label-relevant/irrelevant VAE",
        VAE_RECIPE,
        [
            "--model=lrlivae",
            "--adversarial_weight=10",
            "--pixel_discriminator",
            "--pixel_adversarial_weight=100",
        ],
    ),
    "cvaegan": ("cVAE-GAN (naive)", VAE_RECIPE, ["--model=cvaegan"]),
    "cvae": ("CVAE", VAE_RECIPE, ["--model=cvae"]),
    "cgan": ("CGAN", GAN_RECIPE, ["--model=cgan", "--ema_decay=0.999"]),
}


def run_row(name: str) -> dict:
    """Trains (or resumes) one row; returns its preset's metadata."""
    label, recipe, row_flags = ROWS[name]
    flags = [
        *row_flags,
        f"--dataset={FLAGS.dataset}",
        f"--epochs={FLAGS.epochs}",
        f"--steps_per_epoch={FLAGS.steps_per_epoch}",
        f"--batch_size={FLAGS.batch_size}",
        f"--num_samples={FLAGS.num_samples}",
        f"--diversity_per_class={FLAGS.diversity_per_class}",
        f"--title={label}",
        *(FLAGS.gan_flag if recipe == GAN_RECIPE else FLAGS.vae_flag),
    ]
    return table_runs.run_row(FLAGS.runs_dir, name, recipe, flags, FLAGS.data_dir)


def mean_ms_ssim(per_class: dict) -> float | None:
    """The mean over classes of the same-class MS-SSIM (None: no class had two)."""
    values = [v for v in per_class.values() if v is not None]
    return float(np.mean(values)) if values else None


def row_measures(metadata: dict) -> dict:
    metrics = metadata["metrics"]
    diversity = metrics["diversity"]
    return {
        "inception_score": metrics["inception_score"]["value"],
        "inception_score_real": metrics["inception_score"]["real_test"],
        "ms_ssim": mean_ms_ssim(diversity["generated"]),
        "ms_ssim_real": mean_ms_ssim(diversity["real_test"]),
        "classes_as_diverse_as_real": diversity["value"],
        "class_accuracy": metrics["class_accuracy"]["value"],
        "fid": metrics["fid"]["value"],
    }


def table(records: dict, image_folder: str = "") -> str:
    header = [
        "model",
        "IS ↑",
        "intra-class MS-SSIM ↓",
        "classes ≥ real diversity",
        "read as asked ↑",
        "FID ↓",
        "wall time (s)",
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, metadata in records.items():
        m = row_measures(metadata)
        cells = [
            f"[{ROWS[name][0]}]({image_folder}{name}.png)",
            table_runs.number(m["inception_score"], ".2f"),
            table_runs.number(m["ms_ssim"], ".3f"),
            str(m["classes_as_diverse_as_real"]),
            table_runs.number(m["class_accuracy"], ".1%"),
            table_runs.number(m["fid"], ".1f"),
            f"{metadata['wall_time_s']:.0f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    first = row_measures(next(iter(records.values())))
    real_is = table_runs.number(first["inception_score_real"], ".2f")
    real_ms_ssim = table_runs.number(first["ms_ssim_real"], ".3f")
    real = "real test digits" if FLAGS.dataset == "mnist" else "real held-out images"
    metrics = next(iter(records.values()))["metrics"]
    classes = len(metrics["class_accuracy"]["per_class"])
    lines.append(f"| {real} | {real_is} | {real_ms_ssim} | {classes} | | 0 | |")
    return "\n".join(lines)


def main(argv):
    del argv
    FLAGS.output = FLAGS.output or f"docs/experiments/zheng_sun_{FLAGS.dataset}"
    FLAGS.runs_dir = FLAGS.runs_dir or f"runs/zheng_sun_{FLAGS.dataset}"
    names = table_runs.check_rows(FLAGS.rows, ROWS)
    records = {name: run_row(name) for name in names}
    first = next(iter(records.values()))
    summary = {
        "command": table_runs.command("zheng_sun_table"),
        "dataset": FLAGS.dataset,
        "steps": first["steps"],
        "batch_size": first["batch_size"],
        "protocols": {
            key: first["metrics"][key]["protocol"]
            for key in ("inception_score", "diversity", "class_accuracy", "fid")
        },
        "rows": {
            name: {
                "label": ROWS[name][0],
                "recipe": f"recipes/{ROWS[name][1]}.py",
                "flags": ROWS[name][2],
                "steps": record["steps"],
                "backend": record.get("backend"),
                "wall_time_s": record["wall_time_s"],
                "measures": row_measures(record),
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

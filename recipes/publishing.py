"""What the recipes share: their flag header, their record, their preset.

Every training recipe defines the same flags (`define_training_flags`),
records its run in the same metadata skeleton (`training_metadata`) and
publishes the same way (`publish`: the preset, its figures, its model card).
Each recipe keeps only what is its own: its model, its measurements and its
card's text.

Recipes import this module (recipes/ is on sys.path when one runs as a
script); the library itself defines no flags and knows nothing of recipes.
The functions below read the flags they define (`FLAGS.output`,
`FLAGS.seed`, ...), so a recipe calls them after `app.run` parsed them.
"""

from __future__ import annotations

import json
import os
import platform
import shlex
import sys
import time
from pathlib import Path

import keras
import numpy as np
from absl import flags
from checkpoints import ResumableBackup

import keras_latent
from keras_latent import datasets
from keras_latent.images import save_image_grid
from keras_latent.utils.files import atomic_write_text

REPO_ROOT = Path(__file__).resolve().parents[1]
FLAGS = flags.FLAGS
# The flags that the functions below define belong to the recipe that calls
# them, as if it defined them itself: `--help` lists a script's own flags.
flags.disclaim_key_flags()


# The ten CelebA attributes the conditional CelebA presets condition on
# (those of Latent Constraints' evaluation).
CELEBA_CONDITIONING_ATTRIBUTES = [
    "Bald",
    "Black_Hair",
    "Blond_Hair",
    "Brown_Hair",
    "Eyeglasses",
    "Male",
    "No_Beard",
    "Smiling",
    "Wearing_Hat",
    "Young",
]


# The flag header.


def define_training_flags(
    name: str | None,
    data: str,
    *,
    epochs: int | None,
    batch_size: int,
    terse: bool = False,
) -> flags.FlagValues:
    """Defines the flags every training recipe has; returns absl's `FLAGS`.

    `--data_dir`, `--data_note`, `--output`, `--backup_dir`, `--epochs`,
    `--batch_size`, `--seed` and `--max_train_minutes`.

    Args:
        name: the preset the recipe publishes: `--output` defaults to
            `zoo/<name>` and `--backup_dir` to `runs/<name>`. `None`:
            `--output` is required and `--backup_dir` defaults to
            `runs/<output name>`, which the recipe resolves.
        data: what `--data_dir` holds, for its help text.
        epochs: the default of `--epochs`, or `None` for a recipe that
            defines `--epochs` itself, with its own help text.
        batch_size: the default of `--batch_size`.
        terse: whether `--output` and `--backup_dir` have the shorter help
            texts of the classifier recipes. Defaults to `False`.
    """
    flags.DEFINE_string("data_dir", None, f"Folder with {data} (default: auto).")
    flags.DEFINE_string(
        "output",
        name and f"zoo/{name}",
        "Preset directory." if terse else "Preset directory to write.",
        required=name is None,
    )
    if name is None:
        backup_help = "Checkpoints (default: runs/<output name>)."
    else:
        backup_help = "Resume from." if terse else "Checkpoints to resume from."
    flags.DEFINE_string("backup_dir", name and f"runs/{name}", backup_help)
    if epochs is not None:
        flags.DEFINE_integer("epochs", epochs, "Training epochs.")
    flags.DEFINE_integer("batch_size", batch_size, "Batch size.")
    flags.DEFINE_integer("seed", 0, "Random seed.")
    flags.DEFINE_string(
        "data_note",
        None,
        "What happened to the data on its way, for the metadata (e.g. "
        "'re-encoded as JPEG quality 90 to travel to the GPU machine').",
    )
    flags.DEFINE_float(
        "max_train_minutes",
        None,
        "Stop at the first epoch end after this many minutes of training; the "
        "metadata then records the epochs actually run.",
    )
    return flags.FLAGS


def define_sanity_figure_flags(judge: str | None) -> None:
    """Defines `--judge` and `--num_samples` of the sanity figure.

    Args:
        judge: the default classifier preset, or `None` for a recipe that
            picks its `--dataset`'s judge (`labelled_images().judge`).
    """
    flags.DEFINE_string(
        "judge",
        judge,
        "Classifier preset for the sanity figure"
        + (" (default: the dataset's)." if judge is None else "."),
    )
    flags.DEFINE_integer("num_samples", 10000, "Samples judged for the sanity figure.")


def define_card_only_flag() -> None:
    """Defines `--card_only`, for a recipe that can rewrite its card alone."""
    flags.DEFINE_bool(
        "card_only", False, "Only rewrite the card of --output from its metadata.json."
    )


# The record of a run.


class Stopwatch:
    def __init__(self):
        self.start = time.time()

    def seconds(self) -> float:
        return round(time.time() - self.start, 1)


def command_line() -> str:
    """The command that ran this recipe, relative to the repository root."""
    script = Path(sys.argv[0]).resolve()
    try:
        script = script.relative_to(REPO_ROOT)
    except ValueError:
        pass
    return shlex.join(["python", str(script), *sys.argv[1:]])


def hardware() -> str:
    """The CPU, and the GPU the backend trains on if it has one."""
    cpu = f"{os.cpu_count()}-core {platform.machine()} CPU"
    gpu = _gpu_name()
    return f"{gpu} GPU, {cpu}" if gpu else cpu


def _gpu_name() -> str | None:
    backend = keras.backend.backend()
    if backend == "torch":
        import torch

        return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    if backend == "jax":
        import jax

        gpus = [d for d in jax.devices() if d.platform == "gpu"]
        return gpus[0].device_kind if gpus else None
    if backend == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        if gpus:
            details = tf.config.experimental.get_device_details(gpus[0])
            return details.get("device_name", "a")
    return None


def data_source(relative: str, data_dir: str | None) -> str:
    """Where a recipe read `relative` from, as its metadata records it.

    `shared/data/<relative>` for the project's shared data folder (found by
    the default search or named explicitly), else the full path, so a rerun
    on other data does not claim the shared data.
    """
    root = Path(data_dir).expanduser() if data_dir else datasets.default_data_dir()
    if root is None:
        return relative
    root = root.resolve()
    if root.parts[-2:] == ("shared", "data"):
        return f"shared/data/{relative}"
    return str(root / relative)


def read_from(description: str, relative: str) -> str:
    """`"<description> from <where --data_dir's relative path is>"`.

    Followed by `--data_note` when a run gave one.
    """
    text = f"{description} from {data_source(relative, FLAGS.data_dir)}"
    return f"{text} ({FLAGS.data_note})" if FLAGS.data_note else text


def fit(model, *data, **options):
    """`model.fit` for `--epochs` epochs, resuming from `--backup_dir`.

    Returns `(history, run)`: the `History`, and the keyword arguments of
    `training_metadata` that describe the run: `wall_time_s` (the training
    time of every run that built this fit, see `ResumableBackup`) and, for a
    resumed run, `resumed` and `epochs_done_before_resume`. `data` and
    `options` (`batch_size`, `shuffle`, ...) go to `fit`.
    """
    backup = ResumableBackup(FLAGS.backup_dir)
    callbacks = [backup]
    if FLAGS.max_train_minutes is not None:
        callbacks.append(TimeBudget(60 * FLAGS.max_train_minutes))
    history = model.fit(
        *data, epochs=FLAGS.epochs, verbose=2, callbacks=callbacks, **options
    )
    if history.epoch and history.epoch[-1] + 1 < FLAGS.epochs:
        # Stopped by the time budget: everything after records what ran.
        print(f"Time budget reached: {history.epoch[-1] + 1} of {FLAGS.epochs} epochs.")
        FLAGS.epochs = history.epoch[-1] + 1
    return history, {"wall_time_s": backup.seconds(), **backup.resume_fields()}


class TimeBudget(keras.callbacks.Callback):
    """Stops `fit` at the first epoch end after `seconds` of training."""

    def __init__(self, seconds: float):
        super().__init__()
        self.seconds = seconds

    def on_train_begin(self, logs=None):
        self.start = time.time()

    def on_epoch_end(self, epoch, logs=None):
        if time.time() - self.start > self.seconds:
            self.model.stop_training = True


def mnist_floats():
    """`(x_train, y_train, x_test, y_test)` of MNIST in `--data_dir`.

    Images are float32 in [0, 1], labels the integer digits.
    """
    x_train, y_train = datasets.mnist_arrays("train", data_dir=FLAGS.data_dir)
    x_test, y_test = datasets.mnist_arrays("test", data_dir=FLAGS.data_dir)
    return (
        x_train.astype("float32") / 255.0,
        y_train,
        x_test.astype("float32") / 255.0,
        y_test,
    )


def mnist_provenance(num_train: int, num_test: int, report_note: str = "") -> dict:
    """The `data` and `split` of metadata for a recipe on all of MNIST's train split.

    Args:
        num_train: train images.
        num_test: test images the recipe reports on.
        report_note: what follows the test split in `split["report"]`.
            Defaults to `""`.
    """
    return {
        "data": read_from(f"MNIST train ({num_train:,} images)", "mnist/mnist.npz"),
        "split": {
            "train": f"train (all {num_train:,})",
            "report": f"test ({num_test:,}){report_note}",
        },
    }


def top1_accuracy(model, x, y, images: str, label: str) -> dict:
    """A classifier's top-1 accuracy on `(x, y)`, as a metric of the metadata.

    Prints it as `"<label> accuracy: ..."`; `images` names the images in the
    protocol.
    """
    accuracy = float((model.predict_proba(x).argmax(-1) == y).mean())
    print(f"{label} accuracy: {accuracy:.4f}")
    return {
        "value": round(accuracy, 4),
        "protocol": f"top-1 accuracy on the {len(x):,} {images} images",
    }


def epoch_steps(num_examples: int) -> int:
    """Optimizer steps of `--epochs` epochs over `num_examples` in batches.

    All epochs, also when a resumed fit ran only the last ones.
    """
    return FLAGS.epochs * int(np.ceil(num_examples / FLAGS.batch_size))


def training_batches(load):
    """`load`'s train split in shuffled `--batch_size` batches (seed `--seed`).

    `load` is a `keras_latent.datasets` loader, e.g. `datasets.load_mnist`.
    """
    return load(
        "train",
        data_dir=FLAGS.data_dir,
        batch_size=FLAGS.batch_size,
        shuffle=True,
        seed=FLAGS.seed,
    )


def final_logs(history) -> dict:
    """The last epoch's training logs, rounded to 4 places."""
    return {k: round(float(v[-1]), 4) for k, v in history.history.items()}


# The order of the keys of a training recipe's metadata.json, as the
# published presets have them.
_METADATA_ORDER = (
    "recipe",
    "command",
    "data",
    "split",
    "base_preset",
    "judge",
    "epochs",
    "batch_size",
    "steps",
    "critic_updates",
    "wall_time_s",
    "resumed",
    "epochs_done_before_resume",
    "reused_fit",
    "hardware",
    "attribute_critic_best_epoch_logs",
    "final_train_logs",
    "history",
    "metrics",
)


def training_metadata(
    recipe: str,
    *,
    data: str,
    split: dict,
    steps: int,
    wall_time_s: float,
    metrics: dict,
    history=None,
    full_history: bool = False,
    **fields,
) -> dict:
    """The metadata skeleton of a training recipe, with the recipe's own fields.

    Args:
        recipe: the script's name, e.g. `"train_mnist_vae"`.
        data: what the recipe trained on, and from where (`read_from`).
        split: `{"train": ..., "report": ...}`: what it trained and reported on.
        steps: optimizer steps of the whole training (`epoch_steps`).
        wall_time_s: seconds of training (`Stopwatch.seconds`).
        metrics: name -> `{"value": ..., "protocol": ...}`.
        history: the `History` of `fit`, or `None`: its last epoch's logs are
            recorded as `final_train_logs`. Defaults to `None`.
        full_history: whether to record every epoch's logs too, as `history`.
            Defaults to `False`.
        **fields: `base_preset`, `judge`, `critic_updates`, `reused_fit`,
            `attribute_critic_best_epoch_logs`, `resumed` or
            `epochs_done_before_resume`, for the recipes that have them.
    """
    record = {
        "recipe": f"recipes/{recipe}.py",
        "command": command_line(),
        "data": data,
        "split": split,
        "epochs": FLAGS.epochs,
        "batch_size": FLAGS.batch_size,
        "steps": steps,
        "wall_time_s": wall_time_s,
        "hardware": hardware(),
        "metrics": metrics,
        **fields,
    }
    if history is not None:
        record["final_train_logs"] = final_logs(history)
    if full_history:
        record["history"] = {
            k: [round(float(x), 4) for x in v] for k, v in history.history.items()
        }
    unknown = set(record) - set(_METADATA_ORDER)
    if unknown:
        raise TypeError(f"training_metadata() got unknown fields {sorted(unknown)}")
    return {key: record[key] for key in _METADATA_ORDER if key in record}


def finish_metadata(preset_dir, updates: dict) -> dict:
    """Merges `updates` into the preset's metadata.json and returns it."""
    path = Path(preset_dir) / "metadata.json"
    metadata = json.loads(path.read_text())
    metadata.update(updates)
    atomic_write_text(path, json.dumps(metadata, indent=2) + "\n")
    return metadata


# The sanity figure of class-conditional generators.


def confident_class_shares(probabilities, threshold: float = 0.9) -> dict:
    """The sanity figure for class-conditional data (until issue 3's toolkit).

    For each class: the share of all samples the judge assigns to it, and the
    share of samples it assigns to it with confidence above `threshold`.
    """
    probabilities = np.asarray(probabilities)
    predicted = probabilities.argmax(axis=-1)
    confident = probabilities.max(axis=-1) > threshold
    count = len(predicted)
    per_class = {}
    for k in range(probabilities.shape[-1]):
        is_k = predicted == k
        per_class[str(k)] = {
            "predicted_share": round(float(is_k.sum() / count), 4),
            "confident_share": round(float((is_k & confident).sum() / count), 4),
        }
    return {
        "confident_share": round(float(confident.mean()), 4),
        "per_class": per_class,
    }


def shares_table(generated: dict, real: dict) -> str:
    """Markdown table of `confident_class_shares` for samples next to real data."""
    lines = [
        "| class | samples: share labelled | samples: share labelled, p > 0.9 "
        "| real test: share labelled | real test: share labelled, p > 0.9 |",
        "|---|---|---|---|---|",
    ]
    for k in generated["per_class"]:
        g, r = generated["per_class"][k], real["per_class"][k]
        lines.append(
            f"| {k} | {g['predicted_share']:.3f} | {g['confident_share']:.3f} "
            f"| {r['predicted_share']:.3f} | {r['confident_share']:.3f} |"
        )
    lines.append(
        f"| all | 1.000 | {generated['confident_share']:.3f} | 1.000 "
        f"| {real['confident_share']:.3f} |"
    )
    return "\n".join(lines)


def sanity_figure(model, x_test) -> dict:
    """`--judge` labels `--num_samples` samples of `model`, and `x_test`.

    Returns the metric `judge_confident_share` of the metadata: the
    `confident_class_shares` of the samples and of the real test images.
    """
    judge = keras_latent.from_preset(FLAGS.judge)
    samples = model.generate(FLAGS.num_samples, seed=FLAGS.seed)
    generated = confident_class_shares(judge.predict_proba(samples))
    real = confident_class_shares(judge.predict_proba(x_test))
    print(
        f"confident share: samples {generated['confident_share']}, "
        f"real {real['confident_share']}"
    )
    return {
        "samples": generated,
        "real_test": real,
        "protocol": f"{FLAGS.num_samples} samples (seed {FLAGS.seed}) and "
        f"the {len(x_test):,} test images labelled by the "
        f"'{FLAGS.judge}' preset; "
        "share of all images assigned to each class, and with p > 0.9",
    }


def sanity_figure_text(record: dict) -> str:
    """The card's paragraph and table of a `sanity_figure` record."""
    return (
        f"Sanity figure: the independent `{FLAGS.judge}` labels "
        f"{FLAGS.num_samples} samples:\n\n"
        + shares_table(record["samples"], record["real_test"])
    )


# The published preset.


def write_card(preset_dir, title: str, body: str, metadata: dict) -> None:
    """Writes the preset's model card, `README.md`."""
    preset_dir = Path(preset_dir)
    lines = [f"# {title}", "", body.strip(), "", "## How it was trained", ""]
    lines += [
        "```",
        metadata["command"],
        "```",
        "",
        f"- data: {metadata['data']}",
        f"- steps: {metadata['steps']} (epochs: {metadata.get('epochs')}, "
        f"batch size: {metadata.get('batch_size')})",
        f"- wall time: {metadata['wall_time_s']} s on {metadata['hardware']}, "
        f"backend {metadata['backend']}",
        f"- trainable parameters: {metadata['parameter_count']:,}",
        *(
            [
                f"- the actor-critic fit was reused from an identical earlier "
                f"run ({metadata['reused_fit']['wall_time_s']} s of training); "
                "the wall time above covers this run only"
            ]
            if metadata.get("reused_fit")
            else []
        ),
        *([f"- note: {metadata['run_note']}"] if metadata.get("run_note") else []),
        *(
            [
                "- resumed after epoch "
                f"{metadata['epochs_done_before_resume']} of an interrupted "
                "run; the wall time covers every run"
            ]
            if metadata.get("resumed")
            else []
        ),
        "",
        "All numbers are in `metadata.json`, each with its protocol.",
    ]
    atomic_write_text(preset_dir / "README.md", "\n".join(lines) + "\n")


def write_output_card(title: str, body: str) -> None:
    """Writes the card of the preset in `--output`, from its metadata.json."""
    metadata = keras_latent.load_preset_metadata(FLAGS.output)
    write_card(FLAGS.output, title, body, metadata)


def save_grid(images, name: str, scale: int = 1) -> None:
    """Saves `images` in 8 rows as `--output`/`name`, upscaled `scale` times."""
    save_image_grid(images, f"{FLAGS.output}/{name}", rows=8, scale=scale)


def publish(
    model,
    metadata: dict,
    title: str | None = None,
    body: str = "",
    *,
    samples: bool = False,
    reconstructions=None,
    scale: int = 1,
    weights_dtype: str = "float32",
) -> None:
    """Writes the recipe's preset to `--output`: the model, figures and card.

    Args:
        model: the trained model.
        metadata: the recipe's record (`training_metadata`), merged into the
            one the library writes (backend, versions, parameter count).
        title: the card's title, or `None` for a recipe that writes its card
            itself (from the saved preset, as its `--card_only` does).
            Defaults to `None`.
        body: the card's text above "How it was trained". Defaults to `""`.
        samples: whether to save `samples.png`, 64 samples (seed `--seed`).
            Defaults to `False`.
        reconstructions: `(images, their reconstructions)`, or `None`: saves
            `reconstructions.png`, 32 of each. Defaults to `None`.
        scale: how many times the figures are upscaled. Defaults to `1`.
        weights_dtype: how the weights are stored. Defaults to `"float32"`.
    """
    model.save_to_preset(FLAGS.output, metadata=metadata, weights_dtype=weights_dtype)
    if samples:
        save_grid(model.generate(64, seed=FLAGS.seed), "samples.png", scale)
    if reconstructions is not None:
        images, recon = reconstructions
        grid = np.concatenate([images[:32], recon[:32]])
        save_grid(grid, "reconstructions.png", scale)
    if title is not None:
        write_output_card(title, body)

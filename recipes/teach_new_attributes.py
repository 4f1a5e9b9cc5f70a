"""Teaches a Latent Constraints preset new attributes from labelled images.

The VAE stays frozen. A new attribute critic learns the attributes from the
encoder's latents of labelled images, and `transform(method="optimize")` can
use them by name at once. With `--actor_epochs` > 0, `fit_actor` then trains
a fresh actor and realism critic conditioned on the preset's attributes plus
the new ones, so the new attributes are amortised too (one forward pass).

    # CelebA attributes outside the preset's 10 (labels from ../shared/data):
    python recipes/teach_new_attributes.py \
        --output runs/celeba_lc_new_attributes \
        --attributes Wearing_Lipstick,Wavy_Hair
    # Your own images: a folder and a CSV with a `filename` column and one
    # 0/1 column per attribute (no independent judge: the report then gives
    # the critics' own verdicts only):
    python recipes/teach_new_attributes.py --images my_faces/ \
        --labels_csv my_faces/labels.csv --attributes glasses_on_head \
        --actor_attributes glasses_on_head --output my_preset

Measured on the val images (CelebA val, or `--val_fraction` of the folder):
how many of the images annotated without an attribute the judge calls
present before and after each edit, and the pixel MSE and zMSE of the edit
to the image's reconstruction. For CelebA, the amortised actor is also
measured with the LC Table 1 protocol (judge on samples conditioned on the
test partition's label vectors). The result is written to `--output` as a
preset (the new critics, and the new actor if trained) whose
`metadata.json` holds every number with its protocol, plus `edits.png`.
"""

import os
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import lc_steps  # noqa: E402  (recipes/ is on sys.path when run as a script)
import numpy as np  # noqa: E402
import publishing  # noqa: E402
from absl import app, flags, logging  # noqa: E402

import keras_latent  # noqa: E402
from keras_latent import datasets, metrics  # noqa: E402
from keras_latent.images import save_image_grid  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_string(
    "preset", "celeba_latent_constraints", "Latent Constraints preset to extend."
)
flags.DEFINE_string("output", None, "Preset directory to write.", required=True)
flags.DEFINE_list(
    "attributes", ["Wearing_Lipstick", "Wavy_Hair"], "Attributes to teach."
)
flags.DEFINE_string("data_dir", None, "Folder with the datasets (default: auto).")
flags.DEFINE_string(
    "images", None, "A folder of your own images (instead of CelebA's train split)."
)
flags.DEFINE_string("labels_csv", None, "The labels CSV of --images.")
flags.DEFINE_float(
    "val_fraction", 0.1, "Share of --images held out for the report (seeded)."
)
flags.DEFINE_string(
    "judge", "celeba_attribute_classifier", "Independent judge preset ('' for none)."
)
flags.DEFINE_list("critic_units", ["512", "512"], "Widths of the new critic.")
flags.DEFINE_integer("critic_epochs", 20, "Epochs of the new attribute critic.")
flags.DEFINE_integer(
    "actor_epochs",
    20,
    "Epochs of fit_actor over the training latents; 0 leaves the actor alone.",
)
flags.DEFINE_list(
    "actor_attributes",
    [],
    "Conditioning attributes of the new actor (default: the preset's, then "
    "--attributes); the label source must have every one.",
)
flags.DEFINE_string(
    "backup_dir", None, "Checkpoints of fit_actor (default: runs/<output name>_actor)."
)
flags.DEFINE_integer("batch_size", 128, "Batch size of fit_actor.")
flags.DEFINE_float("learning_rate", 3e-4, "Adam learning rate of fit_actor.")
flags.DEFINE_integer("num_edits", 100, "Val images edited per attribute.")
lc_steps.define_optimize_steps_flag()
flags.DEFINE_integer("seed", 0, "Random seed.")
flags.DEFINE_enum(
    "weights_dtype", "float16", ["float16", "float32"], "Storage of the weights."
)


class LabelSource:
    """Train and val images with labels by name, from CelebA or a folder."""

    def __init__(self):
        if FLAGS.images:
            if not FLAGS.labels_csv:
                raise app.UsageError("--images needs --labels_csv.")
            x, y, names = datasets.image_folder_arrays(FLAGS.images, FLAGS.labels_csv)
            order = np.random.default_rng(FLAGS.seed).permutation(len(x))
            num_val = max(1, int(round(FLAGS.val_fraction * len(x))))
            self.x = {"val": x[order[:num_val]], "train": x[order[num_val:]]}
            self.y = {"val": y[order[:num_val]], "train": y[order[num_val:]]}
            self.columns = names
            self.description = (
                f"{FLAGS.images} with {FLAGS.labels_csv}: {len(x) - num_val} train, "
                f"{num_val} val (seed {FLAGS.seed})"
            )
        else:
            self.x, self.y = {}, {}
            self.columns = datasets.celeba_attribute_names(FLAGS.data_dir)
            for split in ("train", "val"):
                x, y, _ = datasets.celeba_arrays(split, None, data_dir=FLAGS.data_dir)
                self.x[split], self.y[split] = x, y
            source = publishing.data_source("celeba64", FLAGS.data_dir)
            self.description = (
                f"CelebA 64x64 ({source}): train split "
                f"({len(self.x['train']):,} images) for training, val split "
                f"({len(self.x['val']):,}) for every report"
            )

    def images(self, split):
        return self.x[split].astype("float32") / 255.0

    def labels(self, split, names, flag):
        missing = [n for n in names if n not in self.columns]
        if missing:
            raise app.UsageError(
                f"{flag}: the labels have no column {missing}. Columns: "
                f"{', '.join(self.columns)}. (Pass --actor_epochs 0 to teach "
                "the attributes without retraining the actor.)\n"
            )
        return self.y[split][:, [self.columns.index(n) for n in names]].astype(
            "float32"
        )


def judge_present(judge, images, name):
    """Share of images the judge calls `name` present, or None without one."""
    if judge is None or name not in judge.class_names:
        return None
    p = judge.predict_proba(images)[:, judge.class_names.index(name)]
    return round(float(np.mean(p > 0.5)), 4)


def edit_report(model, judge, x_val, y_val, names, method):
    """Adds each attribute to val images annotated without it."""
    report = {}
    for i, name in enumerate(names):
        rows = np.where(y_val[:, i] == 0)[0][: FLAGS.num_edits]
        x = x_val[rows]
        edited, z_edit = model.transform(
            x,
            {name: 1},
            method=method,
            return_latents=True,
            **lc_steps.transform_options(method, FLAGS.optimize_steps),
        )
        z0 = model.encode_posteriors(x)["z_mean"]
        report[name] = {
            "images": int(len(rows)),
            "judged_present_before": judge_present(judge, x, name),
            "judged_present_after": judge_present(judge, edited, name),
            "critic_satisfied_after": round(
                float(np.mean(model.satisfies(edited, {name: 1})[name])), 4
            ),
            "pixel_mse_to_reconstruction": round(
                float(np.mean((edited - model.reconstruct(x)) ** 2)), 5
            ),
            "zmse_to_reconstruction": round(
                metrics.latent_mse(z0, z_edit, model.latent_std), 4
            ),
        }
    return report


def table1(model, judge, names):
    """LC Table 1 protocol for the amortised actor (CelebA labels only)."""
    if FLAGS.images or judge is None:
        return None
    labels = datasets.celeba_label_vectors("test", names, FLAGS.data_dir)
    labels = labels.astype("float32")
    z, z_new, images = lc_steps.conditional_samples(model, labels, FLAGS.seed)
    columns = [judge.class_names.index(n) for n in names]
    probabilities = judge.predict_proba(images)[:, columns]
    scores = metrics.attribute_scores(probabilities, labels, attribute_names=names)
    scores["zmse"] = metrics.latent_mse(z, z_new, model.latent_std)
    return lc_steps.rounded(scores)


def edits_figure(model, x_val, y_val, names, path):
    """Rows: val faces; columns: image, reconstruction, then per attribute
    the optimisation edit (and the actor edit when the actor knows it)."""
    rows = np.where(y_val.sum(axis=1) == 0)[0][:8]
    if len(rows) == 0:
        return []
    x = x_val[rows]
    columns, titles = [x, model.reconstruct(x)], ["image", "reconstruction"]
    for name in names:
        columns.append(
            model.transform(
                x,
                {name: 1},
                method="optimize",
                steps=FLAGS.optimize_steps,
            )
        )
        titles.append(f"{name} (optimize)")
        if name in model.attribute_names:
            columns.append(model.transform(x, {name: 1}, method="actor"))
            titles.append(f"{name} (actor)")
    grid = np.stack(columns, axis=1).reshape((-1,) + x.shape[1:])
    save_image_grid(grid, path, rows=len(x))
    return titles


def protocol() -> str:
    """The protocol of the metadata's numbers."""
    return (
        "val images annotated without the attribute (first "
        f"{FLAGS.num_edits} per attribute) edited to have it; "
        "judged_present: share the judge calls present "
        "(threshold 0.5); critic_satisfied_after: the model's own "
        "critics; pixel MSE and zMSE to the reconstruction "
        "(posterior mean). table1: the judge on samples of the "
        "new actor conditioned on the CelebA test partition's "
        "label vectors (images held back), z ~ N(0, I), numpy "
        f"seed {FLAGS.seed}."
    )


def fit_actor(model, posteriors, labels, names):
    """Trains a new actor and realism critic on `names`.

    Returns `(History, steps, the fit's ResumableBackup)`.
    """
    backup = publishing.ResumableBackup(
        FLAGS.backup_dir or f"runs/{Path(FLAGS.output).name}_actor"
    )
    history = model.fit_actor(
        posteriors,
        labels,
        attribute_names=names,
        epochs=FLAGS.actor_epochs,
        batch_size=FLAGS.batch_size,
        optimizer=lc_steps.actor_critic_optimizers(),
        shuffle=True,
        verbose=2,
        callbacks=[backup],
    )
    steps = FLAGS.actor_epochs * int(np.ceil(len(labels) / FLAGS.batch_size))
    return history, steps, backup


def main(argv):
    del argv
    keras.utils.set_random_seed(FLAGS.seed)
    clock = publishing.Stopwatch()
    names = list(FLAGS.attributes)
    model = keras_latent.from_preset(FLAGS.preset)
    judge = keras_latent.from_preset(FLAGS.judge) if FLAGS.judge else None
    data = LabelSource()
    x_train, x_val = data.images("train"), data.images("val")
    y_train = data.labels("train", names, "--attributes")
    y_val = data.labels("val", names, "--attributes")
    logging.info("Encoding %d train and %d val images", len(x_train), len(x_val))
    actor_names = None
    if FLAGS.actor_epochs > 0:
        actor_names = list(FLAGS.actor_attributes) or (
            model.attribute_names + [n for n in names if n not in model.attribute_names]
        )
        # Checked before any training, so a missing column costs nothing.
        y_actor = data.labels("train", actor_names, "--actor_attributes")
    posteriors = model.encode_posteriors(x_train)
    val_posteriors = model.encode_posteriors(x_val)

    critic_history = lc_steps.fit_attribute_critic(
        model,
        posteriors,
        y_train,
        names,
        FLAGS.critic_units,
        FLAGS.critic_epochs,
        validation_data=(val_posteriors, y_val),
    )
    report = {
        "critic_best_epoch_logs": lc_steps.best_epoch_logs(critic_history),
        "optimize_edits": edit_report(model, judge, x_val, y_val, names, "optimize"),
    }
    logging.info("Optimisation edits: %s", report["optimize_edits"])

    steps, backup = 0, None
    if FLAGS.actor_epochs > 0:
        history, steps, backup = fit_actor(model, posteriors, y_actor, actor_names)
        report["actor_final_train_logs"] = publishing.final_logs(history)
        amortised = [n for n in names if n in actor_names]
        report["actor_edits"] = edit_report(
            model, judge, x_val, y_val, amortised, "actor"
        )
        logging.info("Actor edits: %s", report["actor_edits"])
        report["table1"] = table1(model, judge, actor_names)

    Path(FLAGS.output).mkdir(parents=True, exist_ok=True)
    titles = edits_figure(model, x_val, y_val, names, f"{FLAGS.output}/edits.png")
    metadata = {
        "command": publishing.command_line(),
        "base_preset": FLAGS.preset,
        "judge": FLAGS.judge or None,
        "data": data.description,
        "new_attributes": names,
        "actor_attributes": actor_names,
        "actor_epochs": FLAGS.actor_epochs,
        "batch_size": FLAGS.batch_size,
        "learning_rate": FLAGS.learning_rate,
        "steps": steps,
        # With the actor's fit in interrupted earlier runs, when it resumed.
        "wall_time_s": round(
            clock.seconds() + (backup.earlier_seconds if backup else 0.0), 1
        ),
        **(backup.resume_fields() if backup else {}),
        "hardware": publishing.hardware(),
        "edits_png_columns": titles,
        "metrics": {"new_attributes": {"value": report, "protocol": protocol()}},
    }
    publishing.publish(model, metadata, weights_dtype=FLAGS.weights_dtype)
    logging.info("Wrote %s", FLAGS.output)


if __name__ == "__main__":
    app.run(main)

"""Trains a Latent Constraints preset on a frozen VAE preset and measures it.

    # The built-in presets (the README's commands):
    python recipes/train_latent_constraints.py --dataset celeba \
        --output zoo/celeba_latent_constraints --epochs 30 --distance_weight 0.01 \
        --actor_attribute_weight 1
    python recipes/train_latent_constraints.py --dataset mnist \
        --output zoo/mnist_latent_constraints --epochs 6 \
        --critic_units 256,256,256,256 --actor_units 256,256,256,256 \
        --attribute_critic_units 256,256 --attribute_critic_epochs 5 \
        --distance_weight 0.01 --ablation_distance_weight 0,0.1
    # Only rewrite a preset's model card from its metadata.json:
    python recipes/train_latent_constraints.py --dataset celeba \
        --output zoo/celeba_latent_constraints --card_only

Steps: encode the training set once with the frozen VAE (posterior means and
σ), set σ̄_z and the label marginals, train the attribute critic D_attr(z)
on the conditioning attributes, then the realism critic and actor with
`fit`. `--ablation_distance_weight` trains one more actor-critic pair for
each λ_dist it lists, for the card's comparison (they are not published).

Measured with LC Table 1's protocol (docs/models.md, "Metrics and their
protocol"): the independent judge preset classifies images generated for the
label vectors of the evaluation partition (CelebA: the official test
partition's annotations, whose images are held back; MNIST: the test labels),
next to the judge on real images (CelebA val; MNIST test), and zMSE. CelebA
also reports actor and optimisation edits of val faces, and attributes taught
after training.
"""

import collections
import json
import os
import types
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import lc_steps  # noqa: E402  (recipes/ is on sys.path when run as a script)
import numpy as np  # noqa: E402
import publishing  # noqa: E402
from absl import app, flags, logging  # noqa: E402

import keras_latent  # noqa: E402
from keras_latent import datasets, metrics, presets  # noqa: E402
from keras_latent.images import save_image_grid  # noqa: E402
from keras_latent.models import LatentConstraints  # noqa: E402
from keras_latent.utils.files import atomic_write_text  # noqa: E402
from keras_latent.utils.inputs import predict_in_batches  # noqa: E402

CELEBA_ATTRIBUTES = publishing.CELEBA_CONDITIONING_ATTRIBUTES
DEFAULTS = {
    "celeba": {"base": "celeba_vae", "judge": "celeba_attribute_classifier"},
    "mnist": {"base": "mnist_vae", "judge": "mnist_classifier"},
}

FLAGS = publishing.define_training_flags(
    None, "the datasets", epochs=None, batch_size=128
)
flags.DEFINE_integer("epochs", 20, "Actor-critic epochs over the training latents.")
flags.DEFINE_enum("dataset", "celeba", ["celeba", "mnist"], "Which preset to train.")
flags.DEFINE_string("base", None, "Frozen VAE preset (default: per dataset).")
flags.DEFINE_string("judge", None, "Independent judge preset (default: per dataset).")
flags.DEFINE_list("attributes", CELEBA_ATTRIBUTES, "CelebA conditioning attributes.")
flags.DEFINE_list(
    "new_attributes",
    ["Wearing_Lipstick", "Wavy_Hair"],
    "CelebA attributes taught after training with fit_attribute_critic.",
)
flags.DEFINE_list("critic_units", ["512"] * 4, "Hidden widths of D(z, y).")
flags.DEFINE_list("actor_units", ["512"] * 4, "Hidden widths of G(z, y).")
flags.DEFINE_list("attribute_critic_units", ["512", "512"], "Widths of D_attr.")
flags.DEFINE_integer("attribute_critic_epochs", 20, "Epochs of D_attr.")
flags.DEFINE_integer("critic_steps", 10, "Critic updates per actor update.")
flags.DEFINE_float(
    "distance_weight",
    0.1,
    "λ_dist of the model written to --output (the paper's 0.1; the built-in "
    "presets use 0.01, see the README's commands).",
)
flags.DEFINE_list(
    "ablation_distance_weight",
    [],
    "Also train and report an actor-critic pair for each of these λ_dist values.",
)
flags.DEFINE_float(
    "actor_posterior_fraction",
    0.0,
    "Share of the actor's training inputs drawn from q(z|x) (paired with other "
    "labels) rather than p(z): it then learns edits as well as generation.",
)
flags.DEFINE_float(
    "actor_attribute_weight",
    0.0,
    "Weight of the attribute critics' cross-entropy in the actor's loss.",
)
flags.DEFINE_float("learning_rate", 3e-4, "Adam learning rate of both players.")
flags.DEFINE_integer("num_edits", 390, "Val faces edited for the edit figures.")
flags.DEFINE_integer(
    "num_optimize_edits", 100, "Val faces edited by optimisation (0 skips them)."
)
lc_steps.define_optimize_steps_flag()
flags.DEFINE_enum(
    "weights_dtype",
    "float16",
    ["float16", "float32"],
    "Storage of the preset's weights (metrics use the float32 weights in memory).",
)
publishing.define_card_only_flag()

# Images are floats in [0, 1]; `real` are the judge's real images (CelebA
# val, MNIST test), `eval_labels` the label vectors samples are generated for.
Data = collections.namedtuple("Data", "x_train y_train x_real y_real eval_labels names")


def load_data() -> Data:
    """The recipe's arrays, as float32."""
    if FLAGS.dataset == "celeba":
        names = list(FLAGS.attributes)
        x, y, _ = datasets.celeba_arrays("train", names, data_dir=FLAGS.data_dir)
        xv, yv, _ = datasets.celeba_arrays("val", names, data_dir=FLAGS.data_dir)
        eval_labels = datasets.celeba_label_vectors("test", names, FLAGS.data_dir)
        arrays = x / 255.0, y, xv / 255.0, yv, eval_labels.astype("float32")
    else:
        names = [str(d) for d in range(10)]
        x, y = datasets.mnist_arrays("train", data_dir=FLAGS.data_dir)
        xt, yt = datasets.mnist_arrays("test", data_dir=FLAGS.data_dir)
        eye = np.eye(10, dtype="float32")
        arrays = x / 255.0, eye[y], xt / 255.0, eye[yt], eye[yt]
    x_train, y_train, x_real, y_real, eval_labels = arrays
    return Data(
        x_train.astype("float32"),
        y_train.astype("float32"),
        x_real.astype("float32"),
        y_real,
        eval_labels,
        names,
    )


class Judge:
    """The independent judge preset, read in the conditioning attributes."""

    def __init__(self, name, names):
        self.model = keras_latent.from_preset(name)
        self.names = names
        self.columns = (
            list(range(10))
            if FLAGS.dataset == "mnist"
            else [self.model.class_names.index(n) for n in names]
        )

    def probabilities(self, images):
        return self.model.predict_proba(images)[:, self.columns]

    def present(self, images, name):
        """The judge's probability of `name`, any attribute it knows."""
        column = self.model.class_names.index(name)
        return self.model.predict_proba(images)[:, column]

    def scores(self, images, labels):
        probabilities = self.probabilities(images)
        if FLAGS.dataset == "mnist":
            accuracy = float(np.mean(probabilities.argmax(1) == labels.argmax(1)))
            return {"accuracy": round(accuracy, 4)}
        scores = metrics.attribute_scores(
            probabilities, labels, attribute_names=self.names
        )
        return lc_steps.rounded(scores)


def build_model(base, names, distance_weight, attribute_critics=()):
    return LatentConstraints(
        vae=base,
        attribute_names=names,
        label_type="categorical" if FLAGS.dataset == "mnist" else "multi_label",
        critic_units=[int(u) for u in FLAGS.critic_units],
        actor_units=[int(u) for u in FLAGS.actor_units],
        critic_steps=FLAGS.critic_steps,
        distance_weight=distance_weight,
        actor_posterior_fraction=FLAGS.actor_posterior_fraction,
        actor_attribute_weight=FLAGS.actor_attribute_weight,
        attribute_critics=attribute_critics,
        seed=FLAGS.seed,
    )


def train(model, posteriors, y_train, backup_dir):
    """Fits the actor-critic pair, or reloads it if this exact fit finished.

    `BackupAndRestore` resumes an interrupted fit but deletes its backup when
    the fit completes. The finished weights and history are kept beside it,
    under a fingerprint of the model and training settings, so rerunning the
    same command after an interruption later on (an ablation, the edits)
    does not train a finished pair again.
    """
    finished = Path(backup_dir.rstrip("/") + "_finished")
    fingerprint = {
        "model": keras.saving.serialize_keras_object(model),
        "epochs": FLAGS.epochs,
        "batch_size": FLAGS.batch_size,
        "learning_rate": FLAGS.learning_rate,
        "seed": FLAGS.seed,
        "examples": int(len(y_train)),
    }
    fingerprint = json.loads(json.dumps(fingerprint, sort_keys=True, default=str))
    record = finished / "fit.json"
    if record.is_file() and json.loads(record.read_text())["fingerprint"] == (
        fingerprint
    ):
        logging.info("Reusing the finished fit in %s", finished)
        model.load_weights(finished / presets.WEIGHTS_FILE)
        saved = json.loads(record.read_text())
        return types.SimpleNamespace(
            history=saved["history"],
            wall_time_s=saved.get("wall_time_s"),
            reused_from=str(finished),
            backup=None,
        )
    model.compile(optimizer=lc_steps.actor_critic_optimizers())
    backup = publishing.ResumableBackup(backup_dir)
    history = model.fit(
        posteriors,
        y_train,
        epochs=FLAGS.epochs,
        batch_size=FLAGS.batch_size,
        shuffle=True,
        verbose=2,
        callbacks=[backup],
    )
    model.save_to_preset(finished, weights_dtype="float32")
    logs = {k: [float(x) for x in v] for k, v in history.history.items()}
    wall = backup.seconds()
    atomic_write_text(
        record,
        json.dumps({"fingerprint": fingerprint, "history": logs, "wall_time_s": wall}),
    )
    history.wall_time_s, history.reused_from, history.backup = wall, None, backup
    return history


def table1(model, judge, eval_labels):
    z, z_new, images = lc_steps.conditional_samples(model, eval_labels, FLAGS.seed)
    prior_images = predict_in_batches(model.decode, z, 512)
    return {
        "actor": judge.scores(images, eval_labels),
        "prior_without_actor": judge.scores(prior_images, eval_labels),
        "zmse": round(metrics.latent_mse(z, z_new, model.latent_std), 4),
    }


def table1_results(model, judge, data, posteriors):
    """LC Table 1 of the model, and of one more pair per ablation λ_dist."""
    results = {
        "real": judge.scores(data.x_real, data.y_real),
        f"lambda_dist={FLAGS.distance_weight:g}": table1(
            model, judge, data.eval_labels
        ),
    }
    for index, weight in enumerate(float(w) for w in FLAGS.ablation_distance_weight):
        # The trained attribute critics too: an actor with
        # `--actor_attribute_weight` learns from them.
        ablation = build_model(
            model.vae, data.names, weight, model.attribute_critic_specs
        )
        for mine, trained in zip(
            ablation.attribute_critic_networks, model.attribute_critic_networks
        ):
            mine.set_weights(trained.get_weights())
        ablation.compute_statistics(posteriors, data.y_train)
        suffix = "_ablation" if index == 0 else f"_ablation{index + 1}"
        train(ablation, posteriors, data.y_train, backup_dir() + suffix)
        results[f"lambda_dist={weight:g}"] = table1(ablation, judge, data.eval_labels)
    print(results)
    return results


def edit_report(model, judge, data, method, count):
    """Flips each attribute of val faces; judge success and identity."""
    x = data.x_real[:count]
    recon = model.reconstruct(x)
    z0 = model.encode_posteriors(x)["z_mean"]
    report, pixel, latent = {}, [], []
    for i, name in enumerate(data.names):
        target = 1 - data.y_real[:count, i]
        edited = np.empty_like(x)
        z_edit = np.empty_like(z0)
        for value in (0, 1):
            rows = np.where(target == value)[0]
            if len(rows) == 0:
                continue
            edited[rows], z_edit[rows] = model.transform(
                x[rows],
                {name: value},
                method=method,
                return_latents=True,
                **lc_steps.transform_options(method, FLAGS.optimize_steps),
            )
        p = judge.probabilities(edited)[:, i]
        success = float(np.mean((p > 0.5) == (target == 1)))
        pixel.append(float(np.mean((edited - recon) ** 2)))
        latent.append(metrics.latent_mse(z0, z_edit, model.latent_std))
        report[name] = {"flip_success": round(success, 4)}
    report["mean_flip_success"] = round(
        float(np.mean([v["flip_success"] for v in report.values()])), 4
    )
    report["pixel_mse_to_reconstruction"] = round(float(np.mean(pixel)), 5)
    report["zmse_to_reconstruction"] = round(float(np.mean(latent)), 4)
    return report


def edit_reports(model, judge, data) -> dict:
    """Actor and optimisation edits of val faces (CelebA only, else `{}`)."""
    if FLAGS.dataset != "celeba":
        return {}
    edits = {"actor": edit_report(model, judge, data, "actor", FLAGS.num_edits)}
    if FLAGS.num_optimize_edits:
        edits["optimize"] = edit_report(
            model, judge, data, "optimize", FLAGS.num_optimize_edits
        )
    print(edits)
    return edits


def new_attribute_report(model, judge, x_train, x_val, count):
    """Teaches attributes outside the conditioning set; optimisation edits."""
    names = list(FLAGS.new_attributes)
    _, y_new, _ = datasets.celeba_arrays("train", names, data_dir=FLAGS.data_dir)
    _, yv_new, _ = datasets.celeba_arrays("val", names, data_dir=FLAGS.data_dir)
    history = lc_steps.fit_attribute_critic(
        model,
        model.encode_posteriors(x_train),
        y_new,
        names,
        FLAGS.attribute_critic_units,
        FLAGS.attribute_critic_epochs,
        validation_data=(model.encode_posteriors(x_val), yv_new),
    )
    report = {"critic_val_accuracy": lc_steps.best_epoch_logs(history)["val_accuracy"]}
    for i, name in enumerate(names):
        rows = np.where(yv_new[:, i] == 0)[0][:count]
        edited = model.transform(
            x_val[rows],
            {name: 1},
            method="optimize",
            steps=FLAGS.optimize_steps,
        )
        p = judge.present(edited, name)
        before = judge.present(x_val[rows], name)
        report[name] = {
            "images": int(len(rows)),
            "judged_present_before": round(float(np.mean(before > 0.5)), 4),
            "judged_present_after": round(float(np.mean(p > 0.5)), 4),
        }
    return report, names


def add_new_attributes(model, judge, data, metadata):
    """Teaches `--new_attributes` to the published model; publishes it again.

    Its metadata gains the report (`new_attribute_report`), with its protocol.
    """
    report, new_names = new_attribute_report(
        model, judge, data.x_train, data.x_real, FLAGS.num_optimize_edits
    )
    metadata["metrics"]["new_attributes"] = {
        "value": report,
        "protocol": "fit_attribute_critic on the train split's labels of "
        f"{new_names} (encoder latents, VAE frozen), then "
        "transform(method='optimize') of val faces annotated without the "
        "attribute (first "
        f"{FLAGS.num_optimize_edits}); share the judge calls present",
    }
    publishing.publish(model, metadata, weights_dtype=FLAGS.weights_dtype)


def edited_attributes(names):
    """The attributes of the card's edit figure (at most eight faces wide)."""
    return names if FLAGS.dataset == "mnist" else names[:8]


def figures(model, x_val, names):
    out = FLAGS.output
    rows = []
    for name in names:
        rows.append(model.generate({name: 1}, num_samples=8, seed=FLAGS.seed))
    scale = 2 if FLAGS.dataset == "mnist" else 1
    save_image_grid(
        np.concatenate(rows), f"{out}/samples.png", rows=len(names), scale=scale
    )
    x = x_val[:8]
    columns = [x, model.reconstruct(x)]
    for name in edited_attributes(names):
        columns.append(
            model.transform(
                x,
                {name: 1},
                **lc_steps.transform_options("optimize", FLAGS.optimize_steps),
            )
        )
    grid = np.stack(columns, axis=1).reshape((-1,) + x.shape[1:])
    save_image_grid(grid, f"{out}/edits.png", rows=len(x), scale=scale)


def backup_dir() -> str:
    return FLAGS.backup_dir or f"runs/{os.path.basename(FLAGS.output)}"


def main(argv):
    del argv
    if FLAGS.card_only:
        # The preset's own λ_dist and attributes, not this invocation's flags.
        return write_card(keras_latent.from_preset(FLAGS.output, load_weights=False))
    keras.utils.set_random_seed(FLAGS.seed)
    settings = DEFAULTS[FLAGS.dataset]
    base_name = FLAGS.base or settings["base"]
    judge_name = FLAGS.judge or settings["judge"]
    data = load_data()
    judge = Judge(judge_name, data.names)

    clock = publishing.Stopwatch()
    model = build_model(
        keras_latent.from_preset(base_name), data.names, FLAGS.distance_weight
    )
    posteriors = model.encode_posteriors(data.x_train)
    model.compute_statistics(posteriors, data.y_train)
    critic_history = lc_steps.fit_attribute_critic(
        model,
        posteriors,
        data.y_train,
        data.names,
        FLAGS.attribute_critic_units,
        FLAGS.attribute_critic_epochs,
        label_type=model.label_type,
        validation_data=(model.encode_posteriors(data.x_real), data.y_real),
    )
    history = train(model, posteriors, data.y_train, backup_dir())
    wall, resumed = clock.seconds(), {}
    if history.backup is not None:
        # An interrupted fit's earlier runs trained too: count their time.
        wall = round(wall + history.backup.earlier_seconds, 1)
        resumed = history.backup.resume_fields()
    reused_fit = None
    if history.reused_from:
        # The clock saw only the reload; the fit's own time is in its record
        # (None for records written before it was kept).
        reused_fit = {"path": history.reused_from, "wall_time_s": history.wall_time_s}

    results = table1_results(model, judge, data, posteriors)
    edits = edit_reports(model, judge, data)
    steps = publishing.epoch_steps(len(data.x_train))
    packed = "celeba64" if FLAGS.dataset == "celeba" else "mnist/mnist.npz"
    description = f"{FLAGS.dataset} train split ({len(data.x_train):,} images)"
    metadata = publishing.training_metadata(
        "train_latent_constraints",
        data=publishing.read_from(description, packed)
        + f", encoded by the frozen '{base_name}' preset",
        split=splits(data),
        base_preset=base_name,
        judge=judge_name,
        steps=steps,
        critic_updates=steps * FLAGS.critic_steps,
        wall_time_s=wall,
        reused_fit=reused_fit,
        **resumed,
        attribute_critic_best_epoch_logs=lc_steps.best_epoch_logs(critic_history),
        history=history,
        metrics=measured(results, edits, judge_name, data),
    )
    publishing.publish(model, metadata, weights_dtype=FLAGS.weights_dtype)
    if FLAGS.dataset == "celeba" and FLAGS.new_attributes:
        add_new_attributes(model, judge, data, metadata)
    figures(model, data.x_real, data.names)
    write_card(model)


def splits(data) -> dict:
    """The metadata's `split`: train, the judge's real images, the labels."""
    if FLAGS.dataset == "mnist":
        report, conditioning = f"test ({len(data.x_real):,})", "MNIST test labels"
    else:
        report = f"val ({len(data.x_real):,} images)"
        conditioning = "the official CelebA test partition (annotations only)"
    return {"train": "train", "report": report, "conditioning": conditioning}


def measured(results, edits, judge_name, data) -> dict:
    """The metadata's `metrics`: LC Table 1, and the edits if any."""
    split = splits(data)
    measurements = {
        "table1": {
            "value": results,
            "protocol": f"judge '{judge_name}' (independent, pixel space, "
            f"threshold 0.5) on {len(data.eval_labels)} images generated by the "
            f"actor for the {split['conditioning']} (z ~ N(0, I), numpy seed "
            f"{FLAGS.seed}); 'prior_without_actor' decodes the same z without "
            "the actor; 'real' is the judge on the real "
            f"{split['report']} images. zMSE: mean over samples and dims of "
            "((z' - z) / sigma_bar_z)^2.",
        }
    }
    if edits:
        measurements["edits"] = {
            "value": edits,
            "protocol": "val faces (actor: first "
            f"{FLAGS.num_edits}; optimize: first {FLAGS.num_optimize_edits}); "
            "each conditioning attribute set to the opposite of the face's "
            "annotation, all else kept; flip_success: the judge agrees with "
            "the target; identity: pixel MSE and zMSE between the edit and the "
            "reconstruction (posterior mean) of the same face",
        }
    return measurements


def _table_rows(results, names):
    lines = [
        "| images | accuracy | precision | recall | F1 | zMSE |",
        "|---|---|---|---|---|---|",
    ]
    for key, value in results.items():
        rows = (
            [("real", value)]
            if key == "real"
            else [
                (f"actor, {key}", value["actor"]),
                (f"prior without actor, {key}", value["prior_without_actor"]),
            ]
        )
        for label, scores in rows:
            zmse = value["zmse"] if label.startswith("actor") else ""
            lines.append(
                f"| {label} | {scores['accuracy']:.3f} | "
                + " | ".join(
                    f"{scores[m]:.3f}" if m in scores else "–"
                    for m in ("precision", "recall", "f1")
                )
                + f" | {zmse} |"
            )
    return "\n".join(lines)


def _per_attribute_table(results, names, distance_weight):
    """CelebA: per attribute, the published actor's scores, else `""`."""
    if FLAGS.dataset != "celeba":
        return ""
    # The preset's own λ_dist picks the published actor's row.
    per = results[f"lambda_dist={distance_weight:g}"]["actor"]["per_attribute"]
    real = results["real"]["per_attribute"]
    return (
        "\n| attribute | generated acc | real val acc | generated F1 | real F1 |"
        "\n|---|---|---|---|---|\n"
        + "\n".join(
            f"| {n} | {per[n]['accuracy']:.3f} | {real[n]['accuracy']:.3f} | "
            f"{per[n]['f1']:.3f} | {real[n]['f1']:.3f} |"
            for n in names
        )
    )


def _edits_text(metrics_record):
    """The card's edits section, or `""` without edits."""
    edits = metrics_record.get("edits", {}).get("value", {})
    if not edits:
        return ""
    rows = [
        "| method | mean flip success | pixel MSE to reconstruction "
        "| zMSE to reconstruction |",
        "|---|---|---|---|",
    ]
    for method, report in edits.items():
        rows.append(
            f"| {method} | {report['mean_flip_success']:.3f} | "
            f"{report['pixel_mse_to_reconstruction']:.5f} | "
            f"{report['zmse_to_reconstruction']:.3f} |"
        )
    text = "\n## Edits of val faces\n\n" + "\n".join(rows)
    new = metrics_record.get("new_attributes", {}).get("value")
    if new:
        text += (
            "\n\nAttributes taught after training (`fit_attribute_critic` on "
            "the train labels; the VAE and actor untouched), applied by "
            '`transform(method="optimize")` to val faces without them:\n\n'
            "| attribute | judged present before | after |\n|---|---|---|\n"
            + "\n".join(
                f"| {n} | {v['judged_present_before']:.3f} | "
                f"{v['judged_present_after']:.3f} |"
                for n, v in new.items()
                if isinstance(v, dict)
            )
        )
    return text


def _actor_training_text(model) -> str:
    """What the actor's training adds to the paper's, for the card, or `""`."""
    extras = []
    if model.actor_attribute_weight:
        extras.append(
            "against the attribute critics' reading of its outputs (weight "
            f"{model.actor_attribute_weight:g})"
        )
    if model.actor_posterior_fraction:
        extras.append(
            f"on posterior samples for {model.actor_posterior_fraction:.0%} of "
            "its inputs"
        )
    return " The actor is also trained " + " and ".join(extras) + "." if extras else ""


def write_card(model):
    """Writes the card of `--output` from its metadata.json and `model`.

    `model` gives the attributes and λ_dist: the trained model's, or the
    preset's own config for `--card_only`.
    """
    metadata = keras_latent.load_preset_metadata(FLAGS.output)
    base, names = metadata["base_preset"], model.attribute_names
    results = metadata["metrics"]["table1"]["value"]
    title = os.path.basename(os.path.normpath(FLAGS.output))
    celeba = FLAGS.dataset == "celeba"
    example = (
        'faces = model.generate({"Smiling": 1, "Eyeglasses": 1}, num_samples=16)\n'
        'edited = model.transform(my_faces, {"Smiling": 1})  # floats in [0, 1]'
        if celeba
        else 'sevens = model.generate({"7": 1}, num_samples=16)\n'
        'as_threes = model.transform(my_digits, {"3": 1})'
    )
    row_kind = "class"
    if celeba:
        row_kind = "attribute (set to 1; the others drawn from the training marginals)"
    body = f"""
Latent Constraints (Engel, Hoffman & Roberts 2017) on the frozen `{base}`
preset: a realism critic D(z, y), an actor G(z, y) (gated residual) and
attribute critics D_attr(z), all MLPs in the VAE's latent space, conditioned on
{len(names)} {"attributes" if celeba else "digit classes"}.{_actor_training_text(model)}

```python
model = keras_latent.from_preset("{title}")
{example}
```

One row per {row_kind}: {", ".join(names)}.

![samples](samples.png)

Edits by `transform`'s default, the optimisation of latents (columns: the
image, its reconstruction, then with
{", ".join(edited_attributes(names))} set to 1):

![edits](edits.png)

## LC Table 1 protocol

The independent judge `{metadata["judge"]}` classifies images generated for the label
vectors of {metadata["split"]["conditioning"]}, next to the same judge on the
real {metadata["split"]["report"]} images. "prior without actor" decodes the
same z ~ N(0, I) without the actor's move: what the actor adds.

{_table_rows(results, names)}
{_per_attribute_table(results, names, model.distance_weight)}
{_edits_text(metadata["metrics"])}
"""
    publishing.write_card(FLAGS.output, title, body, metadata)


if __name__ == "__main__":
    app.run(main)

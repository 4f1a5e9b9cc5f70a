"""Trains a Latent Constraints preset on a frozen VAE preset and measures it.

    # The built-in presets (the README's commands):
    python recipes/train_latent_constraints.py --dataset celeba \
        --output zoo/celeba_latent_constraints --epochs 30 --distance_weight 0.01 \
        --ablation_distance_weight 0,0.1
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

Measured (SPEC §2, LC Table 1 protocol): the independent judge preset
classifies images generated for the label vectors of the evaluation
partition (CelebA: the official test partition's annotations, whose images
are held back; MNIST: the test labels), next to the judge on real images
(CelebA val; MNIST test), and zMSE. CelebA also reports actor and
optimisation edits of val faces, and attributes taught after training.
"""

import json
import os
import types
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import publishing  # noqa: E402  (recipes/ is on sys.path when run as a script)
from absl import app, flags, logging  # noqa: E402

import keras_latent  # noqa: E402
from keras_latent import datasets, metrics, presets  # noqa: E402
from keras_latent.images import save_image_grid  # noqa: E402
from keras_latent.models import LatentConstraints  # noqa: E402
from keras_latent.utils.inputs import predict_in_batches  # noqa: E402

CELEBA_ATTRIBUTES = [
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
DEFAULTS = {
    "celeba": {"base": "celeba_vae", "judge": "celeba_attribute_classifier"},
    "mnist": {"base": "mnist_vae", "judge": "mnist_classifier"},
}

FLAGS = flags.FLAGS
flags.DEFINE_enum("dataset", "celeba", ["celeba", "mnist"], "Which preset to train.")
flags.DEFINE_string("data_dir", None, "Folder with the datasets (default: auto).")
flags.DEFINE_string("base", None, "Frozen VAE preset (default: per dataset).")
flags.DEFINE_string("judge", None, "Independent judge preset (default: per dataset).")
flags.DEFINE_string("output", None, "Preset directory to write.", required=True)
flags.DEFINE_string("backup_dir", None, "Checkpoints (default: runs/<output name>).")
flags.DEFINE_list("attributes", CELEBA_ATTRIBUTES, "CelebA conditioning attributes.")
flags.DEFINE_list(
    "new_attributes",
    ["Wearing_Lipstick", "Wavy_Hair"],
    "CelebA attributes taught after training with fit_attribute_critic.",
)
flags.DEFINE_integer("epochs", 20, "Actor-critic epochs over the training latents.")
flags.DEFINE_integer("batch_size", 128, "Batch size.")
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
flags.DEFINE_float("learning_rate", 3e-4, "Adam learning rate of both players.")
flags.DEFINE_integer("num_edits", 390, "Val faces edited for the edit figures.")
flags.DEFINE_integer("num_optimize_edits", 100, "Val faces edited by optimisation.")
flags.DEFINE_integer(
    "optimize_steps", 300, "Adam steps of each transform(method='optimize')."
)
flags.DEFINE_integer("seed", 0, "Random seed.")
flags.DEFINE_enum(
    "weights_dtype",
    "float16",
    ["float16", "float32"],
    "Storage of the preset's weights (metrics use the float32 weights in memory).",
)
flags.DEFINE_bool(
    "card_only", False, "Only rewrite the card of --output from its metadata.json."
)


def load_data():
    """`(x_train, y_train, x_real, y_real, eval_labels, names)`, floats in [0,1]."""
    if FLAGS.dataset == "celeba":
        names = list(FLAGS.attributes)
        x, y, _ = datasets.celeba_arrays("train", names, data_dir=FLAGS.data_dir)
        xv, yv, _ = datasets.celeba_arrays("val", names, data_dir=FLAGS.data_dir)
        eval_labels = datasets.celeba_label_vectors("test", names, FLAGS.data_dir)
        return x / 255.0, y, xv / 255.0, yv, eval_labels.astype("float32"), names
    names = [str(d) for d in range(10)]
    x, y = datasets.mnist_arrays("train", data_dir=FLAGS.data_dir)
    xt, yt = datasets.mnist_arrays("test", data_dir=FLAGS.data_dir)
    eye = np.eye(10, dtype="float32")
    return x / 255.0, eye[y], xt / 255.0, eye[yt], eye[yt], names


def build_model(base, names, distance_weight):
    return LatentConstraints(
        vae=base,
        attribute_names=names,
        label_type="categorical" if FLAGS.dataset == "mnist" else "multi_label",
        critic_units=[int(u) for u in FLAGS.critic_units],
        actor_units=[int(u) for u in FLAGS.actor_units],
        critic_steps=FLAGS.critic_steps,
        distance_weight=distance_weight,
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
        )
    optimizers = {
        p: keras.optimizers.Adam(FLAGS.learning_rate, beta_1=0.0, beta_2=0.9)
        for p in ("critic", "actor")
    }
    model.compile(optimizer=optimizers)
    clock = publishing.Stopwatch()
    history = model.fit(
        posteriors,
        y_train,
        epochs=FLAGS.epochs,
        batch_size=FLAGS.batch_size,
        shuffle=True,
        verbose=2,
        callbacks=[keras.callbacks.BackupAndRestore(backup_dir)],
    )
    model.save_to_preset(finished, weights_dtype="float32")
    logs = {k: [float(x) for x in v] for k, v in history.history.items()}
    wall = clock.seconds()
    record.write_text(
        json.dumps({"fingerprint": fingerprint, "history": logs, "wall_time_s": wall})
    )
    history.wall_time_s, history.reused_from = wall, None
    return history


def judge_columns(judge, names):
    if FLAGS.dataset == "mnist":
        return list(range(10))
    return [judge.class_names.index(n) for n in names]


def conditional_samples(model, labels, seed):
    """Actor outputs for prior samples: `(z, z', images)`."""
    z = np.random.default_rng(seed).standard_normal(
        (len(labels), model.latent_dim), dtype="float32"
    )
    z_new = predict_in_batches(model.apply_actor, (z, labels.astype("float32")), 512)
    return z, z_new, predict_in_batches(model.decode, z_new, 512)


def judged_scores(judge, columns, images, labels, names):
    probabilities = judge.predict_proba(images)[:, columns]
    if FLAGS.dataset == "mnist":
        accuracy = float(np.mean(probabilities.argmax(1) == labels.argmax(1)))
        return {"accuracy": round(accuracy, 4)}
    scores = metrics.attribute_scores(probabilities, labels, attribute_names=names)
    return publishing.rounded(scores)


def table1(model, judge, columns, eval_labels, names):
    z, z_new, images = conditional_samples(model, eval_labels, FLAGS.seed)
    prior_images = predict_in_batches(model.decode, z, 512)
    return {
        "actor": judged_scores(judge, columns, images, eval_labels, names),
        "prior_without_actor": judged_scores(
            judge, columns, prior_images, eval_labels, names
        ),
        "zmse": round(metrics.latent_mse(z, z_new, model.latent_std), 4),
    }


def edit_report(model, judge, columns, x_val, y_val, names, method, count):
    """Flips each attribute of val faces; judge success and identity."""
    x = x_val[:count]
    recon = model.reconstruct(x)
    z0 = model.encode_posteriors(x)["z_mean"]
    report, pixel, latent = {}, [], []
    for i, name in enumerate(names):
        target = 1 - y_val[:count, i]
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
                **publishing.transform_options(method, FLAGS.optimize_steps),
            )
        p = judge.predict_proba(edited)[:, columns[i]]
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


def new_attribute_report(model, judge, x_train, x_val, count):
    """Teaches attributes outside the conditioning set; optimisation edits."""
    names = list(FLAGS.new_attributes)
    _, y_new, _ = datasets.celeba_arrays("train", names, data_dir=FLAGS.data_dir)
    _, yv_new, _ = datasets.celeba_arrays("val", names, data_dir=FLAGS.data_dir)
    posteriors = model.encode_posteriors(x_train)
    history = model.fit_attribute_critic(
        posteriors,
        y_new,
        names,
        hidden_units=[int(u) for u in FLAGS.attribute_critic_units],
        epochs=FLAGS.attribute_critic_epochs,
        validation_data=(model.encode_posteriors(x_val), yv_new),
        verbose=2,
    )
    report = {"critic_val_accuracy": best_epoch_logs(history)["val_accuracy"]}
    for i, name in enumerate(names):
        rows = np.where(yv_new[:, i] == 0)[0][:count]
        edited = model.transform(
            x_val[rows],
            {name: 1},
            method="optimize",
            steps=FLAGS.optimize_steps,
        )
        p = judge.predict_proba(edited)[:, judge.class_names.index(name)]
        before = judge.predict_proba(x_val[rows])[:, judge.class_names.index(name)]
        report[name] = {
            "images": int(len(rows)),
            "judged_present_before": round(float(np.mean(before > 0.5)), 4),
            "judged_present_after": round(float(np.mean(p > 0.5)), 4),
        }
    return report, names


def best_epoch_logs(history) -> dict:
    """Logs of the epoch EarlyStopping kept (the lowest validation loss)."""
    best = int(np.argmin(history.history["val_loss"]))
    logs = {k: round(float(v[best]), 4) for k, v in history.history.items()}
    return {"epoch": best + 1, **logs}


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
    edit_names = names if FLAGS.dataset == "mnist" else names[:8]
    for name in edit_names:
        columns.append(model.transform(x, {name: 1}))
    grid = np.stack(columns, axis=1).reshape((-1,) + x.shape[1:])
    save_image_grid(grid, f"{out}/edits.png", rows=len(x), scale=scale)
    return edit_names


def rewrite_card():
    metadata = keras_latent.load_preset_metadata(FLAGS.output)
    model = keras_latent.from_preset(FLAGS.output, load_weights=False)
    names = model.attribute_names
    edit_names = names if FLAGS.dataset == "mnist" else names[:8]
    values = metadata["metrics"]
    write_card(
        metadata,
        values["table1"]["value"],
        values.get("edits", {}).get("value", {}),
        edit_names,
        metadata["base_preset"],
        metadata["judge"],
        names,
        # The preset's own λ_dist, not this invocation's flag default.
        model.distance_weight,
    )


def main(argv):
    del argv
    if FLAGS.card_only:
        return rewrite_card()
    keras.utils.set_random_seed(FLAGS.seed)
    settings = DEFAULTS[FLAGS.dataset]
    base_name = FLAGS.base or settings["base"]
    judge_name = FLAGS.judge or settings["judge"]
    backup_dir = FLAGS.backup_dir or f"runs/{os.path.basename(FLAGS.output)}"
    x_train, y_train, x_real, y_real, eval_labels, names = load_data()
    x_train = x_train.astype("float32")
    x_real = x_real.astype("float32")
    y_train = y_train.astype("float32")
    judge = keras_latent.from_preset(judge_name)
    columns = judge_columns(judge, names)

    clock = publishing.Stopwatch()
    model = build_model(
        keras_latent.from_preset(base_name), names, FLAGS.distance_weight
    )
    posteriors = model.encode_posteriors(x_train)
    model.compute_statistics(posteriors, y_train)
    critic_history = model.fit_attribute_critic(
        posteriors,
        y_train,
        names,
        label_type=model.label_type,
        hidden_units=[int(u) for u in FLAGS.attribute_critic_units],
        epochs=FLAGS.attribute_critic_epochs,
        validation_data=(model.encode_posteriors(x_real), y_real),
        verbose=2,
    )
    history = train(model, posteriors, y_train, backup_dir)
    wall = clock.seconds()
    reused_fit = None
    if history.reused_from:
        # The clock saw only the reload; the fit's own time is in its record
        # (None for records written before it was kept).
        reused_fit = {"path": history.reused_from, "wall_time_s": history.wall_time_s}

    results = {
        "real": judged_scores(judge, columns, x_real, y_real, names),
        f"lambda_dist={FLAGS.distance_weight:g}": table1(
            model, judge, columns, eval_labels, names
        ),
    }
    for index, weight in enumerate(float(w) for w in FLAGS.ablation_distance_weight):
        ablation = build_model(model.vae, names, weight)
        ablation.compute_statistics(posteriors, y_train)
        suffix = "_ablation" if index == 0 else f"_ablation{index + 1}"
        train(ablation, posteriors, y_train, backup_dir + suffix)
        results[f"lambda_dist={weight:g}"] = table1(
            ablation, judge, columns, eval_labels, names
        )
    print(results)

    edits = {}
    if FLAGS.dataset == "celeba":
        edits["actor"] = edit_report(
            model, judge, columns, x_real, y_real, names, "actor", FLAGS.num_edits
        )
        edits["optimize"] = edit_report(
            model,
            judge,
            columns,
            x_real,
            y_real,
            names,
            "optimize",
            FLAGS.num_optimize_edits,
        )
        print(edits)

    steps = FLAGS.epochs * int(np.ceil(len(x_train) / FLAGS.batch_size))
    split = "the official CelebA test partition (annotations only)"
    if FLAGS.dataset == "mnist":
        split = "MNIST test labels"
    real_split = (
        f"val ({len(x_real):,} images)"
        if FLAGS.dataset == "celeba"
        else f"test ({len(x_real):,})"
    )
    packed = "celeba64" if FLAGS.dataset == "celeba" else "mnist/mnist.npz"
    metadata = {
        "recipe": "recipes/train_latent_constraints.py",
        "command": publishing.command_line(),
        "data": f"{FLAGS.dataset} train split ({len(x_train):,} images) from "
        f"{publishing.data_source(packed, FLAGS.data_dir)}, encoded by the "
        f"frozen '{base_name}' preset",
        "split": {"train": "train", "report": real_split, "conditioning": split},
        "base_preset": base_name,
        "judge": judge_name,
        "epochs": FLAGS.epochs,
        "batch_size": FLAGS.batch_size,
        "steps": steps,
        "critic_updates": steps * FLAGS.critic_steps,
        "wall_time_s": wall,
        "reused_fit": reused_fit,
        "hardware": publishing.hardware(),
        "attribute_critic_best_epoch_logs": best_epoch_logs(critic_history),
        "final_train_logs": {
            k: round(float(v[-1]), 4) for k, v in history.history.items()
        },
        "metrics": {
            "table1": {
                "value": results,
                "protocol": f"judge '{judge_name}' (independent, pixel space, "
                f"threshold 0.5) on {len(eval_labels)} images generated by the "
                f"actor for the {split} (z ~ N(0, I), numpy seed {FLAGS.seed}); "
                "'prior_without_actor' decodes the same z without the actor; "
                f"'real' is the judge on the real {real_split} images. zMSE: "
                "mean over samples and dims of ((z' - z) / sigma_bar_z)^2.",
            }
        },
    }
    if edits:
        metadata["metrics"]["edits"] = {
            "value": edits,
            "protocol": "val faces (actor: first "
            f"{FLAGS.num_edits}; optimize: first {FLAGS.num_optimize_edits}); "
            "each conditioning attribute set to the opposite of the face's "
            "annotation, all else kept; flip_success: the judge agrees with "
            "the target; identity: pixel MSE and zMSE between the edit and the "
            "reconstruction (posterior mean) of the same face",
        }
    model.save_to_preset(
        FLAGS.output, metadata=metadata, weights_dtype=FLAGS.weights_dtype
    )
    if FLAGS.dataset == "celeba" and FLAGS.new_attributes:
        report, new_names = new_attribute_report(
            model, judge, x_train, x_real, FLAGS.num_optimize_edits
        )
        metadata["metrics"]["new_attributes"] = {
            "value": report,
            "protocol": "fit_attribute_critic on the train split's labels of "
            f"{new_names} (encoder latents, VAE frozen), then "
            "transform(method='optimize') of val faces annotated without the "
            "attribute (first "
            f"{FLAGS.num_optimize_edits}); share the judge calls present",
        }
        model.save_to_preset(
            FLAGS.output, metadata=metadata, weights_dtype=FLAGS.weights_dtype
        )
    edit_names = figures(model, x_real, names)
    metadata = keras_latent.load_preset_metadata(FLAGS.output)
    write_card(
        metadata,
        results,
        edits,
        edit_names,
        base_name,
        judge_name,
        names,
        model.distance_weight,
    )


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


def write_card(
    metadata,
    results,
    edits,
    edit_names,
    base_name,
    judge_name,
    names,
    distance_weight,
):
    title = os.path.basename(os.path.normpath(FLAGS.output))
    per_attribute = ""
    if FLAGS.dataset == "celeba":
        # Per attribute, the published actor's scores (λ_dist of the preset).
        key = f"lambda_dist={distance_weight:g}"
        per = results[key]["actor"]["per_attribute"]
        real = results["real"]["per_attribute"]
        per_attribute = (
            "\n| attribute | generated acc | real val acc | generated F1 | real F1 |"
            "\n|---|---|---|---|---|\n"
            + "\n".join(
                f"| {n} | {per[n]['accuracy']:.3f} | {real[n]['accuracy']:.3f} | "
                f"{per[n]['f1']:.3f} | {real[n]['f1']:.3f} |"
                for n in names
            )
        )
    edit_text = ""
    if edits:
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
        edit_text = "\n## Edits of val faces\n\n" + "\n".join(rows)
        new = metadata["metrics"].get("new_attributes", {}).get("value")
        if new:
            edit_text += (
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
    example = (
        'faces = model.generate({"Smiling": 1, "Eyeglasses": 1}, num_samples=16)\n'
        'edited = model.transform(my_faces, {"Smiling": 1})  # floats in [0, 1]'
        if FLAGS.dataset == "celeba"
        else 'sevens = model.generate({"7": 1}, num_samples=16)\n'
        'as_threes = model.transform(my_digits, {"3": 1})'
    )
    row_kind = "class"
    if FLAGS.dataset == "celeba":
        row_kind = "attribute (set to 1; the others drawn from the training marginals)"
    body = f"""
Latent Constraints (Engel, Hoffman & Roberts 2017) on the frozen `{base_name}`
preset: a realism critic D(z, y), an actor G(z, y) (gated residual) and
attribute critics D_attr(z), all MLPs in the VAE's latent space, conditioned on
{len(names)} {"attributes" if FLAGS.dataset == "celeba" else "digit classes"}.

```python
model = keras_latent.from_preset("{title}")
{example}
```

One row per {row_kind}: {", ".join(names)}.

![samples](samples.png)

Edits by the actor (columns: the image, its reconstruction, then with
{", ".join(edit_names)} set to 1):

![edits](edits.png)

## LC Table 1 protocol

The independent judge `{judge_name}` classifies images generated for the label
vectors of {metadata["split"]["conditioning"]}, next to the same judge on the
real {metadata["split"]["report"]} images. "prior without actor" decodes the
same z ~ N(0, I) without the actor's move: what the actor adds.

{_table_rows(results, names)}
{per_attribute}
{edit_text}
"""
    publishing.write_card(FLAGS.output, title, body, metadata)


if __name__ == "__main__":
    app.run(main)

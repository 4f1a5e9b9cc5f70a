"""One measured change to a CelebA Latent Constraints model: its edits and samples.

    # The published preset's default edit and the optimisation with options:
    python recipes/latent_constraints_experiments.py --name optimize_default \
        --method optimize --faces 100
    python recipes/latent_constraints_experiments.py --name attribute_weight3 \
        --method optimize --option attribute_weight=3 --option threshold=0.9
    # The conditional samples (LC Table 1 protocol) of a model trained elsewhere:
    python recipes/latent_constraints_experiments.py --name posterior_actor \
        --preset runs/experiments/posterior_actor --samples 19962 --faces 0

Writes `docs/experiments/celeba_lc_<name>.json`: the command, the preset,
and what was measured with the independent judge (`celeba_attribute_classifier`)
on the val split, each with its protocol:

- `edits`: the first `--faces` val faces; for each of the model's
  conditioning attributes every face is asked for the opposite of its own
  annotation (the others kept), with `transform(method=--method, **options)`;
  the flip rate is the share the judge reads as the target, identity the
  pixel MSE between the edit and the model's reconstruction of the face;
  `seconds_per_face` the median wall time of editing one face (one
  attribute) on this machine.
- `samples`: `generate`-style conditional samples (the actor on z ~ N(0, I))
  for the first `--samples` label vectors of the official CelebA test
  partition, judged attribute by attribute, next to the judge on the real
  val faces: the gap the issue's target is stated in.
"""

import inspect
import json
import os
import statistics
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "jax")

import lc_steps  # noqa: E402  (recipes/ is on sys.path when run as a script)
import numpy as np  # noqa: E402
import publishing  # noqa: E402
from absl import app, flags  # noqa: E402
from editing_measures import edits_to_the_opposite  # noqa: E402

import keras_latent  # noqa: E402
from keras_latent import datasets, metrics  # noqa: E402
from keras_latent.models.latent_constraints import (  # noqa: E402
    OPTIMIZE_OPTIONS,
    optimize_latents,
)
from keras_latent.utils.files import atomic_write_text  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_string("name", None, "Experiment name (the output file's suffix).")
flags.DEFINE_string("preset", "celeba_latent_constraints", "Model under test.")
flags.DEFINE_string("judge", "celeba_attribute_classifier", "Independent judge.")
flags.DEFINE_string("data_dir", None, "Shared data folder (else KERAS_LATENT_DATA).")
flags.DEFINE_enum("method", "optimize", ["actor", "optimize"], "transform's method.")
flags.DEFINE_multi_string("option", [], "transform option name=value (repeatable).")
flags.DEFINE_integer("faces", 100, "Val faces edited (0 skips the edits).")
flags.DEFINE_integer("timed_faces", 5, "Single-face edits timed for seconds/face.")
flags.DEFINE_integer("samples", 0, "Test-partition label vectors sampled (0 skips).")
flags.DEFINE_integer("seed", 0, "Seed of the prior samples.")
flags.DEFINE_string("output_dir", "docs/experiments", "Where the JSON goes.")
flags.DEFINE_string("note", "", "What changed, in words, for the record.")
flags.DEFINE_bool(
    "summary_only",
    False,
    "Only rewrite docs/experiments/celeba_latent_constraints.md from the JSONs.",
)

SUMMARY = "celeba_latent_constraints.md"


def transform_options() -> dict:
    """`--option name=value` flags as transform keyword arguments."""
    options = {}
    for item in FLAGS.option:
        name, sep, value = item.partition("=")
        if not sep:
            raise app.UsageError(f"--option must be name=value. Received: {item!r}")
        options[name] = int(value) if name == "steps" else float(value)
    return options


def effective_options(model, options: dict) -> dict | None:
    """The optimisation's settings this run used: its defaults, then `options`."""
    if FLAGS.method != "optimize":
        return None
    defaults = {
        name: parameter.default
        for name, parameter in inspect.signature(optimize_latents).parameters.items()
        if name in OPTIMIZE_OPTIONS
    }
    defaults["distance_weight"] = model.distance_weight
    return {**defaults, **options}


def edit_flips(model, judge, faces, labels, names, options) -> dict:
    """Per attribute: each face asked for the opposite of its label, judged."""
    recon = model.reconstruct(faces)
    per, pixel, start = {}, [], time.perf_counter()
    for i, name in enumerate(names):
        target = 1 - labels[:, i]
        edited = edits_to_the_opposite(
            model, faces, target, name, method=FLAGS.method, **options
        )
        p = judge.predict_proba(edited)[:, judge.class_names.index(name)]
        mse = np.mean((edited - recon) ** 2, axis=(1, 2, 3))
        pixel.append(float(np.mean(mse)))
        per[name] = {
            "flip_rate": round(float(np.mean((p > 0.5) == (target == 1))), 4),
            "identity_mse": round(pixel[-1], 5),
            "asked_on": int(np.sum(target == 1)),
        }
    seconds = time.perf_counter() - start
    return {
        "flip_rate": round(float(np.mean([v["flip_rate"] for v in per.values()])), 4),
        "identity_mse": round(float(np.mean(pixel)), 5),
        "batched_seconds_per_edit": round(seconds / (len(faces) * len(names)), 4),
        "per_attribute": per,
    }


def judge_ceiling(judge, x_val, y_val, labels, names) -> dict:
    """The flip rate a perfect editor would get from this judge.

    For each attribute, the judge's recall on real val faces that have it
    (for the edits that ask for it) and its specificity on those that lack
    it (for the edits that remove it), weighted by how many edits ask each
    way: an edit indistinguishable from a real face with the target value
    is read correctly this often.
    """
    probabilities = judge.predict_proba(x_val)
    per = {}
    for i, name in enumerate(names):
        read = probabilities[:, judge.class_names.index(name)] > 0.5
        has = y_val[:, i] == 1
        recall = float(np.mean(read[has])) if has.any() else float("nan")
        specificity = float(np.mean(~read[~has])) if (~has).any() else float("nan")
        asked_on = float(np.mean(labels[:, i] == 0))
        per[name] = round(asked_on * recall + (1 - asked_on) * specificity, 4)
    return {"mean": round(float(np.mean(list(per.values()))), 4), **per}


def seconds_per_face(model, faces, labels, names, options) -> float:
    """Median wall seconds of one face's edit of one attribute (warm)."""
    times = []
    model.transform(faces[:1], {names[0]: 1}, method=FLAGS.method, **options)
    for index in range(FLAGS.timed_faces):
        name = names[index % len(names)]
        value = 1 - labels[index, names.index(name)]
        start = time.perf_counter()
        model.transform(
            faces[index : index + 1], {name: value}, method=FLAGS.method, **options
        )
        times.append(time.perf_counter() - start)
    return round(statistics.median(times), 3)


def sample_scores(model, judge, names, x_val, y_val) -> dict:
    """LC Table 1 on the first `--samples` test-partition label vectors."""
    labels = datasets.celeba_label_vectors("test", names, FLAGS.data_dir)
    labels = labels[: FLAGS.samples].astype("float32")
    _, _, images = lc_steps.conditional_samples(model, labels, FLAGS.seed)
    columns = [judge.class_names.index(n) for n in names]
    generated = metrics.attribute_scores(
        judge.predict_proba(images)[:, columns], labels, attribute_names=names
    )
    real = metrics.attribute_scores(
        judge.predict_proba(x_val)[:, columns], y_val, attribute_names=names
    )
    return {
        "generated_accuracy": round(float(generated["accuracy"]), 4),
        "real_accuracy": round(float(real["accuracy"]), 4),
        "gap_points": round(100 * float(real["accuracy"] - generated["accuracy"]), 2),
        "per_attribute": {
            n: {
                "generated": round(float(generated["per_attribute"][n]["accuracy"]), 4),
                "real": round(float(real["per_attribute"][n]["accuracy"]), 4),
            }
            for n in names
        },
    }


def summary_tables(records: dict) -> str:
    """The experiments' edit and sample tables, one row per JSON record."""
    edit_rows, sample_rows = [], []
    for name, record in sorted(records.items()):
        edits, samples = record.get("edits"), record.get("samples")
        if edits:
            options = ", ".join(f"{k}={v:g}" for k, v in edits["options"].items())
            edit_rows.append(
                f"| {name} | {edits['method']} | {options or '–'} | "
                f"{edits['flip_rate']:.3f} | {edits['identity_mse']:.4f} | "
                f"{edits['seconds_per_face']:.2f} | {record['note']} |"
            )
        if samples:
            sample_rows.append(
                f"| {name} | {samples['generated_accuracy']:.4f} | "
                f"{samples['real_accuracy']:.4f} | {samples['gap_points']:.2f} | "
                f"{record['note']} |"
            )
    return (
        "## Edits (first 100 val faces, each attribute to the opposite)\n\n"
        "| experiment | method | options | flip rate | identity MSE "
        "| s/face | change |\n|---|---|---|---|---|---|---|\n"
        + "\n".join(edit_rows)
        + "\n\n## Conditional samples (LC Table 1 protocol)\n\n"
        "| experiment | generated accuracy | real val accuracy | gap (points) "
        "| change |\n|---|---|---|---|---|\n" + "\n".join(sample_rows) + "\n"
    )


def write_summary() -> str:
    """Rewrites the summary page from every `celeba_lc_*.json` record."""
    records = {}
    for entry in sorted(os.listdir(FLAGS.output_dir)):
        if entry.startswith("celeba_lc_") and entry.endswith(".json"):
            with open(os.path.join(FLAGS.output_dir, entry)) as f:
                record = json.load(f)
            if "edits" in record or "samples" in record:
                records[entry[len("celeba_lc_") : -len(".json")]] = record
    path = os.path.join(FLAGS.output_dir, SUMMARY)
    atomic_write_text(
        path,
        "# Latent Constraints on CelebA: one change at a time\n\n"
        "Written by `python recipes/latent_constraints_experiments.py "
        "--summary_only` from the `celeba_lc_<experiment>.json` records beside "
        "it (each holds its command, its protocol and per-attribute numbers). "
        "Judge: `celeba_attribute_classifier` on the val split. s/face is the "
        "wall time of one face's edit on the shared 2-core CPU, with whatever "
        "ran beside it; the records before the search was compiled (the "
        "threshold rows and attribute_weight10) timed the eager search.\n\n"
        + summary_tables(records),
    )
    return path


def main(argv):
    del argv
    if FLAGS.summary_only:
        print("wrote", write_summary())
        return
    if not FLAGS.name:
        raise app.UsageError("--name is required (the output file's suffix).")
    options = transform_options()
    model = keras_latent.from_preset(FLAGS.preset)
    judge = keras_latent.from_preset(FLAGS.judge)
    names = list(model.attribute_names)
    x_val, y_val, _ = datasets.celeba_arrays("val", names, data_dir=FLAGS.data_dir)
    x_val = (x_val / 255.0).astype("float32")
    record = {
        "command": publishing.command_line(),
        "preset": FLAGS.preset,
        "judge": FLAGS.judge,
        "note": FLAGS.note,
        "backend": os.environ["KERAS_BACKEND"],
        "hardware": publishing.hardware(),
    }
    if FLAGS.faces:
        faces, labels = x_val[: FLAGS.faces], y_val[: FLAGS.faces]
        record["edits"] = {
            "method": FLAGS.method,
            "options": options,
            "effective_options": effective_options(model, options),
            **edit_flips(model, judge, faces, labels, names, options),
            "seconds_per_face": seconds_per_face(model, faces, labels, names, options),
            "judge_ceiling": judge_ceiling(judge, x_val, y_val, labels, names),
            "protocol": f"the first {len(faces)} val faces; each conditioning "
            "attribute set to the opposite of the face's annotation, the others "
            "kept; flip_rate: the judge reads the target (threshold 0.5); "
            "identity_mse: pixel MSE of the edit to the model's reconstruction; "
            "seconds_per_face: median wall time of one face's edit of one "
            f"attribute over {FLAGS.timed_faces} faces, after one warm-up; "
            "judge_ceiling: per attribute, the judge's recall on real val faces "
            "with it and specificity on those without, weighted by the edits "
            "asking each way (a perfect editor's flip rate)",
        }
        print(
            json.dumps(
                {k: v for k, v in record["edits"].items() if k != "per_attribute"}
            )
        )
        print({n: v["flip_rate"] for n, v in record["edits"]["per_attribute"].items()})
    if FLAGS.samples:
        record["samples"] = {
            **sample_scores(model, judge, names, x_val, y_val),
            "protocol": "the actor on z ~ N(0, I) (NumPy seed "
            f"{FLAGS.seed}) for the first {FLAGS.samples} label vectors of the "
            "official CelebA test partition, judged (threshold 0.5) against "
            f"them; real: the judge on the {len(x_val)} val faces",
        }
        print(
            json.dumps(
                {k: v for k, v in record["samples"].items() if k != "per_attribute"}
            )
        )
    os.makedirs(FLAGS.output_dir, exist_ok=True)
    path = os.path.join(FLAGS.output_dir, f"celeba_lc_{FLAGS.name}.json")
    atomic_write_text(path, json.dumps(record, indent=1) + "\n")
    print("wrote", path, "and", write_summary(), file=sys.stderr)


if __name__ == "__main__":
    app.run(main)

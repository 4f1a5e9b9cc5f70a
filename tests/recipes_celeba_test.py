"""Smoke tests of the CelebA recipes and of the Latent Constraints recipes.

Each recipe runs as a subprocess on the current backend, on the tiny fake
datasets of `packed_data`, with its own flags shrunk to seconds. The runs chain
as the zoo's do: the presets of the VAE and judge recipes are the base and the
judge of the CelebA Latent Constraints run, whose preset `teach_new_attributes`
extends. The tests load what each recipe published in this process.
"""

from __future__ import annotations

import gzip
import json
import math
from pathlib import Path

import keras
import numpy as np
import pytest
from PIL import Image

import keras_latent
from keras_latent.datasets import CELEBA_ATTRIBUTE_NAMES
from keras_latent.models import (
    ACGAN,
    CVAE,
    CVAEGAN,
    VAE,
    IFcVAEGAN,
    ImageClassifier,
    LatentConstraints,
)
from tests import recipe_runner
from tests.packed_data import write_celeba, write_mnist
from tests.recipe_runner import SMOKE_MARKS, recipe_environment
from tests.test_case import assert_same_weights

pytestmark = SMOKE_MARKS
REPO = Path(__file__).resolve().parents[1]
PRESET_FILES = ("config.json", "model.weights.h5", "metadata.json")
# The image folder has as many train and val images as the CelebA fixture, and
# the test partition as many rows as the recipes' figures have images: eager
# JAX compiles every op once per shape, and the runs share their compilations.
NUM_TRAIN, NUM_VAL, NUM_TEST = 128, 16, 8
NUM_MNIST_TRAIN, NUM_MNIST_TEST = 128, 64
CONDITIONING = ["Smiling", "Male"]
TAUGHT_BY_LC = ["Wearing_Lipstick"]
TAUGHT = ["Bangs", "Eyeglasses"]


@pytest.fixture(scope="module")
def run_recipe(tmp_path_factory):
    """`run_recipe(script, *args)` runs `recipes/<script>.py` from the repo root."""
    env = recipe_environment(tmp_path_factory.mktemp("recipes"))

    # Where the recipes write by default (the outputs here are all "preset").
    guarded = ["zoo", "runs/celeba_vae", "runs/celeba_attribute_classifier"]
    guarded += ["runs/preset", "runs/preset_actor"]

    def run(script, *args):
        return recipe_runner.run_recipe(script, *args, env=env, guarded=guarded)

    return run


def assert_preset(path, model_class, files=()):
    for name in (*PRESET_FILES, *files):
        assert (path / name).is_file(), f"{path} has no {name}"
    model = keras_latent.from_preset(path)
    assert type(model) is model_class
    metadata = keras_latent.load_preset_metadata(path)
    assert metadata["backend"] == keras.backend.backend()
    return model, metadata


def assert_images(images, shape):
    assert images.shape == shape and images.dtype == np.float32
    assert images.min() >= 0.0 and images.max() <= 1.0


def assert_command(metadata, script, *flags):
    command = metadata["command"]
    assert command.startswith(f"python recipes/{script}.py "), command
    for flag in flags:
        assert flag in command, (flag, command)


def assert_data_source(metadata, data_dir, count):
    # The data actually read, not a description of the shared data.
    assert str(Path(data_dir).resolve()) in metadata["data"], metadata["data"]
    assert f"{count:,}" in metadata["data"], metadata["data"]


def grid_shape(rows, columns, tile, scale=1):
    """`save_image_grid`'s PNG size: 2-pixel borders around every tile."""
    return (scale * (rows * (tile + 2) + 2), scale * (columns * (tile + 2) + 2))


def png_shape(path):
    return np.asarray(Image.open(path)).shape[:2]


def write_celeba_annotations(root):
    """The official annotation files, with a few rows per partition.

    The recipes condition on the test partition's label vectors, whose images
    the packed data holds back; only these files carry them.
    """
    rng = np.random.default_rng(1)
    folder = root / "celeba64" / "annotations"
    folder.mkdir(parents=True)
    partitions = np.repeat([0, 1, 2], [5, 3, NUM_TEST])
    files = [f"{i + 1:06d}.jpg" for i in range(len(partitions))]
    values = rng.choice([-1, 1], (len(files), len(CELEBA_ATTRIBUTE_NAMES)))
    rows = [f"{f} " + " ".join(f"{v:2d}" for v in row) for f, row in zip(files, values)]
    with gzip.open(folder / "list_attr_celeba.txt.gz", "wt") as f:
        f.write(f"{len(files)}\n{' '.join(CELEBA_ATTRIBUTE_NAMES)}\n")
        f.write("\n".join(rows) + "\n")
    with gzip.open(folder / "list_eval_partition.txt.gz", "wt") as f:
        f.writelines(f"{name} {p}\n" for name, p in zip(files, partitions))


def write_image_folder(root):
    """Odd-sized RGB images and a labels CSV, as a user would bring them."""
    rng = np.random.default_rng(2)
    root.mkdir()
    lines = ["filename,glasses_on_head"]
    for i in range(NUM_TRAIN + NUM_VAL):
        pixels = rng.integers(0, 256, (70, 90, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(root / f"face_{i}.png")
        lines.append(f"face_{i}.png,{i % 2}")
    (root / "labels.csv").write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    write_celeba(root, num_train=NUM_TRAIN, num_val=NUM_VAL)
    write_mnist(root, num_train=NUM_MNIST_TRAIN, num_test=NUM_MNIST_TEST)
    write_celeba_annotations(root)
    return root


def train_on_celeba(run_recipe, data_dir, out, script, *args):
    """Runs a CelebA training recipe for one epoch into `out/preset`."""
    run_recipe(
        script,
        *("--data_dir", data_dir, "--output", out / "preset"),
        *("--backup_dir", out / "backup", "--epochs", 1, "--batch_size", 64),
        *args,
    )
    return out


@pytest.fixture(scope="module")
def celeba_vae(run_recipe, data_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("celeba_vae")
    args = ("--latent_dim", 8, "--filters", "4,8", "--limit", NUM_TRAIN // 2)
    return train_on_celeba(run_recipe, data_dir, out, "train_celeba_vae", *args)


@pytest.fixture(scope="module")
def celeba_judge(run_recipe, data_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("celeba_judge")
    script = "train_celeba_attribute_classifier"
    train_on_celeba(run_recipe, data_dir, out, script, "--filters", "4,8")
    return out / "preset"


def celeba_lc_args(data_dir, base, judge, backup_dir):
    """`train_latent_constraints` on CelebA, all but --output."""
    return [
        *("--dataset", "celeba", "--data_dir", data_dir),
        *("--base", base, "--judge", judge, "--backup_dir", backup_dir),
        *("--attributes", ",".join(CONDITIONING)),
        *("--new_attributes", ",".join(TAUGHT_BY_LC)),
        *("--epochs", 1, "--batch_size", 64, "--critic_steps", 2),
        *("--critic_units", "16,16", "--actor_units", "16"),
        *("--attribute_critic_units", 16, "--attribute_critic_epochs", 1),
        # One face per edit: every edit has the same shape.
        *("--num_edits", 1, "--num_optimize_edits", 1, "--optimize_steps", 5),
        *("--distance_weight", 0.01, "--ablation_distance_weight", 0),
    ]


@pytest.fixture(scope="module")
def celeba_lc(run_recipe, data_dir, celeba_vae, celeba_judge, tmp_path_factory):
    out = tmp_path_factory.mktemp("celeba_lc")
    args = celeba_lc_args(data_dir, celeba_vae / "preset", celeba_judge, out / "backup")
    run_recipe("train_latent_constraints", *args, "--output", out / "preset")
    return out


def test_celeba_vae_recipe(celeba_vae, data_dir):
    preset = celeba_vae / "preset"
    vae, metadata = assert_preset(
        preset, VAE, files=("README.md", "samples.png", "reconstructions.png")
    )
    assert (vae.latent_dim, tuple(vae.filters)) == (8, (4, 8))
    assert vae.decoder_sigma == pytest.approx(0.1)
    assert_images(vae.generate(3, seed=0), (3, 64, 64, 3))

    assert_command(metadata, "train_celeba_vae", "--latent_dim 8", "--filters 4,8")
    assert_data_source(metadata, data_dir, NUM_TRAIN // 2)
    # --limit images, doubled with flips, in batches of 64.
    assert (metadata["epochs"], metadata["steps"]) == (1, 2)
    assert {"loss", "kl", "val_loss"} <= set(metadata["final_train_logs"])
    metrics = {k: v["value"] for k, v in metadata["metrics"].items()}
    assert set(metrics) == {
        "val_elbo_nats",
        "val_bits_per_dim",
        "val_reconstruction_mse",
    }
    assert metrics["val_bits_per_dim"] == pytest.approx(
        -metrics["val_elbo_nats"] / (64 * 64 * 3 * math.log(2)), abs=2e-3
    )
    # Measured on val, with the weights the preset publishes.
    with np.load(data_dir / "celeba64" / "val.npz") as z:
        x_val = z["images"].astype("float32") / 255.0
    mse = float(np.mean((vae.reconstruct(x_val) - x_val) ** 2))
    assert mse == pytest.approx(metrics["val_reconstruction_mse"], abs=2e-5)

    assert png_shape(preset / "samples.png") == grid_shape(8, 8, 64)
    # The 16 val images, then their reconstructions, in eight rows.
    assert png_shape(preset / "reconstructions.png") == grid_shape(8, 4, 64)
    card = (preset / "README.md").read_text()
    assert metadata["command"] in card
    assert f"{metrics['val_reconstruction_mse']:.5f}" in card
    # Kept until the preset is written, so a failure there loses no training.
    assert (celeba_vae / "backup" / "trained.weights.h5").is_file()


def test_celeba_attribute_classifier_recipe(celeba_judge, data_dir):
    judge, metadata = assert_preset(celeba_judge, ImageClassifier, ["README.md"])
    assert judge.class_names == list(CELEBA_ATTRIBUTE_NAMES)
    assert judge.multi_label
    assert tuple(judge.filters) == (4, 8)
    assert_command(metadata, "train_celeba_attribute_classifier", "--epochs 1")
    assert_data_source(metadata, data_dir, NUM_TRAIN)
    assert (metadata["epochs"], metadata["steps"]) == (1, NUM_TRAIN // 64)

    splits = {}
    for split in ("train", "val"):
        with np.load(data_dir / "celeba64" / f"{split}.npz") as z:
            splits[split] = (z["images"].astype("float32") / 255.0, z["attributes"])
    x_val, a_val = splits["val"]
    probabilities = judge.predict_proba(x_val)
    assert probabilities.shape == (NUM_VAL, 40)
    metrics = metadata["metrics"]
    majority = splits["train"][1].mean(axis=0) > 0.5
    assert metrics["val_majority_baseline"]["value"] == pytest.approx(
        float((a_val == majority).mean()), abs=1e-4
    )
    # Measured on val with the published weights (a tie at p = 0.5 may flip).
    accuracy = float(((probabilities > 0.5) == a_val).mean())
    assert metrics["val_mean_accuracy"]["value"] == pytest.approx(accuracy, abs=2e-3)
    assert 0.0 <= metrics["val_mean_f1"]["value"] <= 1.0
    per_attribute = metrics["val_per_attribute"]["values"]
    assert list(per_attribute) == list(CELEBA_ATTRIBUTE_NAMES)
    card = (celeba_judge / "README.md").read_text()
    assert "| Smiling |" in card and metadata["command"] in card


def test_latent_constraints_recipe_on_celeba(
    celeba_lc, celeba_vae, celeba_judge, data_dir
):
    preset = celeba_lc / "preset"
    model, metadata = assert_preset(
        preset, LatentConstraints, files=("README.md", "samples.png", "edits.png")
    )
    assert model.attribute_names == CONDITIONING
    assert model.label_type == "multi_label"
    assert model.distance_weight == pytest.approx(0.01)
    # The base is the VAE recipe's preset.
    assert model.latent_dim == 8
    faces = model.generate({"Smiling": 1, "Male": 0}, num_samples=3, seed=0)
    assert_images(faces, (3, 64, 64, 3))
    # The critic taught after training was published with the preset.
    assert set(TAUGHT_BY_LC) <= set(model.known_attributes)
    verdict = model.satisfies(faces, {"Wearing_Lipstick": 1})
    assert verdict["Wearing_Lipstick"].shape == (3,)

    assert_command(metadata, "train_latent_constraints", "--dataset celeba")
    assert_data_source(metadata, data_dir, NUM_TRAIN)
    assert metadata["base_preset"] == str(celeba_vae / "preset")
    assert metadata["judge"] == str(celeba_judge)
    steps = NUM_TRAIN // 64
    assert (metadata["steps"], metadata["critic_updates"]) == (steps, 2 * steps)
    assert metadata["reused_fit"] is None
    assert "val_loss" in metadata["attribute_critic_best_epoch_logs"]
    table1 = metadata["metrics"]["table1"]
    assert set(table1["value"]) == {"real", "lambda_dist=0.01", "lambda_dist=0"}
    actor = table1["value"]["lambda_dist=0.01"]["actor"]
    assert list(actor["per_attribute"]) == CONDITIONING
    # Conditioned on every label vector of the held-back test partition.
    assert f"on {NUM_TEST} images generated" in table1["protocol"]
    edits = metadata["metrics"]["edits"]["value"]
    assert set(edits) == {"actor", "optimize"}
    for report in edits.values():
        assert set(CONDITIONING) <= set(report)
        assert 0.0 <= report["mean_flip_success"] <= 1.0
    new = metadata["metrics"]["new_attributes"]["value"]
    assert new["Wearing_Lipstick"]["images"] == 1

    assert png_shape(preset / "samples.png") == grid_shape(2, 8, 64)
    # Columns: the face, its reconstruction, then one edit per attribute.
    assert png_shape(preset / "edits.png") == grid_shape(8, 4, 64)
    card = (preset / "README.md").read_text()
    assert metadata["command"] in card and "| Wearing_Lipstick |" in card
    # Finished fits are kept, so a rerun after an interruption reuses them.
    for suffix in ("", "_ablation"):
        assert (celeba_lc / f"backup{suffix}_finished" / "fit.json").is_file()


def test_latent_constraints_experiments_record_one_change(
    run_recipe, celeba_lc, celeba_judge, data_dir, tmp_path
):
    out = tmp_path / "experiments"
    common = [
        *("--preset", celeba_lc / "preset", "--judge", celeba_judge),
        *("--data_dir", data_dir, "--output_dir", out, "--faces", 2),
        *("--timed_faces", 1, "--samples", 4),
    ]
    run_recipe(
        "latent_constraints_experiments",
        *common,
        *("--name", "steps3", "--option", "steps=3", "--note", "three steps"),
    )
    run_recipe(
        "latent_constraints_experiments",
        *common,
        "--name",
        "actor",
        "--method",
        "actor",
    )
    record = json.loads((out / "celeba_lc_steps3.json").read_text())
    assert "--option steps=3" in record["command"]
    edits = record["edits"]
    assert edits["options"] == {"steps": 3}
    # The settings the run used: the optimisation's defaults, then the option.
    assert edits["effective_options"]["steps"] == 3
    assert edits["effective_options"]["threshold"] == 0.99
    assert set(edits["per_attribute"]) == set(CONDITIONING)
    assert 0.0 <= edits["flip_rate"] <= 1.0 and edits["seconds_per_face"] > 0
    assert 0.0 <= edits["judge_ceiling"]["mean"] <= 1.0
    samples = record["samples"]
    assert "first 4 label vectors" in samples["protocol"]
    gap = 100 * (samples["real_accuracy"] - samples["generated_accuracy"])
    assert samples["gap_points"] == pytest.approx(gap, abs=0.02)
    actor = json.loads((out / "celeba_lc_actor.json").read_text())
    assert actor["edits"]["effective_options"] is None
    # The summary page has a row per record, written from the JSONs.
    summary = (out / "celeba_latent_constraints.md").read_text()
    assert (
        "| steps3 | optimize | steps=3 |" in summary and "| actor | actor |" in summary
    )
    with pytest.raises(AssertionError, match="must be name=value"):
        run_recipe(
            "latent_constraints_experiments",
            *common,
            "--name",
            "bad",
            "--option",
            "steps",
        )


@pytest.mark.slow
def test_latent_constraints_rerun_reuses_the_finished_fit(
    run_recipe, data_dir, celeba_lc, celeba_vae, celeba_judge
):
    # A rerun after an interruption later in the recipe (an ablation, the
    # edits) reloads the finished actor-critic pair instead of training it.
    args = celeba_lc_args(
        data_dir, celeba_vae / "preset", celeba_judge, celeba_lc / "backup"
    )
    run_recipe("train_latent_constraints", *args, "--output", celeba_lc / "rerun")
    metadata = keras_latent.load_preset_metadata(celeba_lc / "rerun")
    assert metadata["reused_fit"]["path"] == str(celeba_lc / "backup_finished")
    first = keras_latent.from_preset(celeba_lc / "preset")
    again = keras_latent.from_preset(celeba_lc / "rerun")
    for network in ("actor", "critic"):
        assert_same_weights(getattr(first, network), getattr(again, network))
    card = (celeba_lc / "rerun" / "README.md").read_text()
    assert "fit was reused from an identical earlier run" in card


def test_latent_constraints_recipe_on_mnist(run_recipe, data_dir, tmp_path):
    # An untrained base and judge are all the recipe needs.
    VAE(
        image_shape=(28, 28, 1), latent_dim=4, hidden_units=(16,), seed=0
    ).save_to_preset(tmp_path / "vae")
    ImageClassifier(filters=(4,), dense_units=8).save_to_preset(tmp_path / "judge")
    preset = tmp_path / "preset"
    run_recipe(
        "train_latent_constraints",
        *("--dataset", "mnist", "--data_dir", data_dir),
        *("--base", tmp_path / "vae", "--judge", tmp_path / "judge"),
        *("--output", preset, "--backup_dir", tmp_path / "backup"),
        *("--epochs", 1, "--batch_size", 64, "--critic_steps", 2),
        *("--critic_units", 16, "--actor_units", 16),
        *("--attribute_critic_units", 16, "--attribute_critic_epochs", 1),
    )
    model, metadata = assert_preset(
        preset, LatentConstraints, files=("README.md", "samples.png", "edits.png")
    )
    assert model.attribute_names == [str(d) for d in range(10)]
    assert model.label_type == "categorical"
    assert_images(model.generate({"7": 1}, num_samples=2, seed=0), (2, 28, 28, 1))

    assert_command(metadata, "train_latent_constraints", "--dataset mnist")
    assert_data_source(metadata, data_dir, NUM_MNIST_TRAIN)
    assert metadata["base_preset"] == str(tmp_path / "vae")
    assert metadata["split"]["conditioning"] == "MNIST test labels"
    assert (metadata["steps"], metadata["critic_updates"]) == (2, 4)
    table1 = metadata["metrics"]["table1"]
    assert set(table1["value"]) == {"real", "lambda_dist=0.1"}
    assert 0.0 <= table1["value"]["real"]["accuracy"] <= 1.0
    assert f"on {NUM_MNIST_TEST} images generated" in table1["protocol"]
    # Edits and taught attributes are measured on CelebA only.
    assert set(metadata["metrics"]) == {"table1"}
    # Ten rows of eight samples; eight digits, each with all ten edits; at 2x.
    assert png_shape(preset / "samples.png") == grid_shape(10, 8, 28, 2)
    assert png_shape(preset / "edits.png") == grid_shape(8, 12, 28, 2)


def test_teach_new_attributes_from_celeba_labels(
    run_recipe, data_dir, celeba_lc, celeba_judge, tmp_path
):
    out = tmp_path / "preset"
    run_recipe(
        "teach_new_attributes",
        *("--preset", celeba_lc / "preset", "--judge", celeba_judge),
        *("--data_dir", data_dir, "--output", out, "--backup_dir", tmp_path / "bk"),
        *("--attributes", ",".join(TAUGHT), "--critic_units", 16),
        *("--critic_epochs", 1, "--actor_epochs", 1, "--batch_size", 64),
        *("--num_edits", 1, "--optimize_steps", 5, "--weights_dtype", "float32"),
    )
    model, metadata = assert_preset(out, LatentConstraints, ["edits.png"])
    # By default the new actor knows the preset's attributes and the new ones.
    assert model.attribute_names == CONDITIONING + TAUGHT
    assert set(TAUGHT + TAUGHT_BY_LC) <= set(model.known_attributes)
    faces = model.generate({"Bangs": 1, "Smiling": 0}, num_samples=2, seed=0)
    assert_images(faces, (2, 64, 64, 3))

    assert_command(metadata, "teach_new_attributes", "--actor_epochs 1")
    assert_data_source(metadata, data_dir, NUM_TRAIN)
    assert metadata["base_preset"] == str(celeba_lc / "preset")
    assert metadata["judge"] == str(celeba_judge)
    assert metadata["new_attributes"] == TAUGHT
    assert metadata["actor_attributes"] == CONDITIONING + TAUGHT
    assert metadata["steps"] == NUM_TRAIN // 64
    report = metadata["metrics"]["new_attributes"]["value"]
    assert "val_loss" in report["critic_best_epoch_logs"]
    for key in ("optimize_edits", "actor_edits"):
        assert set(report[key]) == set(TAUGHT)
        for edit in report[key].values():
            assert edit["images"] == 1
            assert edit["judged_present_after"] in (0.0, 1.0)
    # LC Table 1 of the new actor, on the held-back test partition's labels.
    table1 = report["table1"]
    assert list(table1["per_attribute"]) == CONDITIONING + TAUGHT
    assert all(v["support"] <= NUM_TEST for v in table1["per_attribute"].values())
    assert table1["zmse"] >= 0.0
    titles = metadata["edits_png_columns"]
    assert titles[:2] == ["image", "reconstruction"]
    assert "Bangs (optimize)" in titles and "Bangs (actor)" in titles


def test_teach_new_attributes_from_an_image_folder(run_recipe, celeba_lc, tmp_path):
    write_image_folder(tmp_path / "faces")
    out = tmp_path / "preset"
    run_recipe(
        "teach_new_attributes",
        *("--preset", celeba_lc / "preset", "--judge", ""),
        *("--images", tmp_path / "faces"),
        *("--labels_csv", tmp_path / "faces" / "labels.csv"),
        *("--val_fraction", NUM_VAL / (NUM_TRAIN + NUM_VAL)),
        *("--attributes", "glasses_on_head", "--critic_units", 16),
        *("--actor_attributes", "glasses_on_head", "--actor_epochs", 1),
        *("--critic_epochs", 1, "--batch_size", 64, "--num_edits", 1),
        *("--optimize_steps", 5, "--output", out, "--backup_dir", tmp_path / "bk"),
    )
    model, metadata = assert_preset(out, LatentConstraints, ["edits.png"])
    assert model.attribute_names == ["glasses_on_head"]
    faces = model.generate({"glasses_on_head": 1}, num_samples=2, seed=0)
    assert_images(faces, (2, 64, 64, 3))

    assert metadata["judge"] is None
    assert f"{NUM_TRAIN} train, {NUM_VAL} val" in metadata["data"]
    assert metadata["steps"] == NUM_TRAIN // 64
    report = metadata["metrics"]["new_attributes"]["value"]
    for key in ("optimize_edits", "actor_edits"):
        edit = report[key]["glasses_on_head"]
        # Without a judge only the model's own critics give a verdict.
        assert edit["judged_present_before"] is None
        assert edit["critic_satisfied_after"] in (0.0, 1.0)
    assert report["table1"] is None


def test_celeba_acgan_recipe(run_recipe, celeba_judge, data_dir, tmp_path):
    out = train_on_celeba(
        run_recipe,
        data_dir,
        tmp_path,
        "train_celeba_acgan",
        *("--steps_per_epoch", 2, "--latent_dim", 8),
        *("--generator_filters", "8,4,4,4", "--critic_filters", "4,4,4,8"),
        *("--judge", celeba_judge, "--num_samples", NUM_TEST),
        *("--attributes", ",".join(CONDITIONING)),
    )
    model, metadata = assert_preset(
        out / "preset", ACGAN, files=("samples.png", "README.md")
    )
    assert_data_source(metadata, data_dir, NUM_TRAIN)
    assert metadata["steps"] == 2 and metadata["critic_updates"] == 2
    record = metadata["metrics"]["attribute_accuracy"]
    assert 0.0 <= record["value"] <= 1.0 and 0.0 <= record["real_val"] <= 1.0
    assert record["gap_points"] == pytest.approx(
        100 * (record["real_val"] - record["value"]), abs=0.02
    )
    assert sorted(record["per_attribute"]) == sorted(CONDITIONING)
    assert f"{NUM_TEST} samples" in record["protocol"]
    assert model.attribute_names == CONDITIONING
    assert model.label_type == "multi_label" and model.ema_decay == 0.999
    assert_images(model.generate({"Smiling": 1}, num_samples=2, seed=0), (2, 64, 64, 3))
    # One tile per test label vector, in 8 rows.
    assert png_shape(out / "preset" / "samples.png") == grid_shape(8, 1, 64)


IFCVAEGAN_TINY = (
    *("--steps_per_epoch", 2, "--latent_dim", 8),
    *("--filters", "4,8", "--critic_filters", "4,8"),
    *("--attributes", ",".join(CONDITIONING)),
)


def test_celeba_ifcvaegan_recipe(run_recipe, celeba_judge, data_dir, tmp_path):
    out = train_on_celeba(
        run_recipe,
        data_dir,
        tmp_path,
        "train_celeba_ifcvaegan",
        *IFCVAEGAN_TINY,
        *("--judge", celeba_judge, "--edit_faces", NUM_VAL, "--alpha", 0.5),
    )
    model, metadata = assert_preset(
        out / "preset", IFcVAEGAN, files=("edits.png", "README.md")
    )
    assert_data_source(metadata, data_dir, NUM_TRAIN)
    assert metadata["steps"] == 2 and model.attribute_names == CONDITIONING
    # The reference code's scale: per pixel position and z dimension, batch 64.
    assert model.reconstruction_weight == pytest.approx(64 / 4096)
    assert model.kl_weight == pytest.approx(0.5 * 64 / 8)
    assert model.adversarial_weight == pytest.approx(0.1 * 64)
    assert model.information_factorization and not model.label_reconstruction
    metrics = metadata["metrics"]
    table = metrics["creswell_table_1"]["value"]
    _, labels, _ = keras_latent.datasets.celeba_arrays("val", ["Smiling"], data_dir)
    assert table["support"] == int(labels.sum())
    for key in ("mse", "class0", "class1"):
        assert table[key] is None or 0.0 <= table[key] <= 1.0
    assert sorted(metrics["flip_rate"]["per_attribute"]) == sorted(CONDITIONING)
    assert 0.0 <= metrics["flip_rate"]["value"] <= 1.0
    assert metrics["identity_mse"]["value"] >= 0.0
    assert f"first {NUM_VAL}" in metrics["creswell_table_1"]["protocol"]
    # 8 val faces a row: the face, its reconstruction, one edit per attribute.
    columns = 2 + len(CONDITIONING)
    assert png_shape(out / "preset" / "edits.png") == grid_shape(8, columns, 64)
    assert "Class0" in (out / "preset" / "README.md").read_text()


def test_creswell_table_trains_each_row_once(
    run_recipe, celeba_judge, data_dir, tmp_path
):
    flags = [
        *("--runs_dir", tmp_path / "runs", "--output", tmp_path / "table"),
        *("--rows", "no_aux_label_reconstruction,no_aux", "--epochs", 1),
        *("--steps_per_epoch", 2, "--data_dir", data_dir),
        *(f"--extra_flag={flag}" for flag in IFCVAEGAN_TINY[2:]),
        f"--extra_flag=--judge={celeba_judge}",
        f"--extra_flag=--edit_faces={NUM_VAL}",
    ]
    run_recipe("creswell_table", *flags)
    table = (tmp_path / "table" / "table.md").read_text().splitlines()
    assert len(table) == 2 + 2 and "without L_aux, with L̂_class" in table[2]
    summary = json.loads((tmp_path / "table" / "table.json").read_text())
    assert summary["rows"]["no_aux"]["flags"] == ["--model=cvaegan"]
    assert summary["rows"]["no_aux"]["paper"]["class1"] == 0.813
    assert type(keras_latent.from_preset(tmp_path / "runs" / "no_aux")) is CVAEGAN
    ablation = keras_latent.from_preset(
        tmp_path / "runs" / "no_aux_label_reconstruction"
    )
    assert not ablation.information_factorization and ablation.label_reconstruction
    for row in ("no_aux", "no_aux_label_reconstruction"):
        assert (tmp_path / "table" / f"{row}.png").is_file()
    # A rerun finds every row's preset and trains nothing.
    stamp = (tmp_path / "runs" / "no_aux" / "metadata.json").stat().st_mtime_ns
    run_recipe("creswell_table", *flags)
    assert (tmp_path / "runs" / "no_aux" / "metadata.json").stat().st_mtime_ns == stamp


def test_celeba_cvae_baseline_and_the_side_by_side_table(
    run_recipe, celeba_judge, data_dir, tmp_path
):
    out = train_on_celeba(
        run_recipe,
        data_dir,
        tmp_path,
        "train_celeba_ifcvaegan",
        *IFCVAEGAN_TINY[:2],
        *("--model", "cvae", "--latent_dim", 8, "--filters", "4,8"),
        *("--attributes", ",".join(CONDITIONING), "--learning_rate", 0.01),
        *("--judge", celeba_judge, "--edit_faces", NUM_VAL),
    )
    model, metadata = assert_preset(out / "preset", CVAE, files=("edits.png",))
    assert model.attribute_names == CONDITIONING and model.latent_dim == 8
    assert metadata["final_train_logs"]["loss"] > 0
    assert 0.0 <= metadata["metrics"]["flip_rate"]["value"] <= 1.0
    assert "Adam(0.01)" in (out / "preset" / "README.md").read_text()
    # The side-by-side table edits the same val faces with each editor found.
    table_dir = tmp_path / "side_by_side"
    run_recipe(
        "editing_side_by_side",
        *("--data_dir", data_dir, "--judge", celeba_judge, "--faces", 8),
        *("--output", table_dir, f"--editor=cvae={out / 'preset'}"),
        f"--editor=gone={tmp_path / 'no_such_preset'}",
    )
    summary = json.loads((table_dir / "table.json").read_text())
    assert list(summary["rows"]) == ["cvae"] and "first 8" in summary["faces"]
    edits = summary["rows"]["cvae"]["edits"]
    assert edits["num_images"] == 8 and sorted(edits["per_attribute"]) == sorted(
        CONDITIONING
    )
    lines = (table_dir / "table.md").read_text().splitlines()
    assert len(lines) == 3 and all(name in lines[0] for name in CONDITIONING)
    columns = 2 + len(CONDITIONING)
    assert png_shape(table_dir / "cvae.png") == grid_shape(8, columns, 64)

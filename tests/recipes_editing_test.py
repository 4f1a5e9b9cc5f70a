"""Smoke tests of the class-editing recipe, `train_mnist_conditional_vae.py`,
run as a script on tiny stand-in MNIST and CIFAR-10 data."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest
from PIL import Image

import keras_latent
from keras_latent.models import CVAE, CVAEGAN, LabelRelevantIrrelevantVAE
from tests.packed_data import write_cifar10, write_mnist
from tests.recipe_runner import SMOKE_MARKS, recipe_environment, run_recipe
from tests.recipes_mnist_test import check_images, check_published

pytestmark = SMOKE_MARKS
RECIPE = "train_mnist_conditional_vae"
CLASSES = {"lrlivae": LabelRelevantIrrelevantVAE, "cvae": CVAE, "cvaegan": CVAEGAN}
NUM_TEST = 128
DIGITS = [str(d) for d in range(10)]
TINY = [
    "--epochs=2",
    "--steps_per_epoch=2",
    "--batch_size=16",
    "--filters=4,8",
    "--relevant_dim=4",
    "--irrelevant_dim=4",
    "--latent_dim=4",
    "--num_samples=40",
    "--diversity_per_class=4",
    "--swap_digits=20",
]
# 28×28 tiles with 2-pixel borders, upscaled twice: 8 rows of 10 samples
# (a column per digit), and 8 rows of a test digit and its 10 edits.
SAMPLES_SIZE = (2 * (10 * 30 + 2), 2 * (8 * 30 + 2))
SWAPS_SIZE = (2 * (11 * 30 + 2), 2 * (8 * 30 + 2))


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    write_mnist(root, num_train=256, num_test=NUM_TEST)
    return root


@pytest.fixture(scope="module")
def recipe_env(tmp_path_factory):
    return recipe_environment(tmp_path_factory.mktemp("recipes"))


def check_share(record):
    assert 0.0 <= record["value"] <= 1.0 and record["protocol"]


def check_measures(metrics, classes=DIGITS, num_test=NUM_TEST):
    for name in ("class_accuracy", "swap_accuracy", "judge_confident_share"):
        check_share(metrics[name])
        assert 0.0 <= metrics[name]["real_test"] <= 1.0, name
    assert sorted(metrics["class_accuracy"]["per_class"]) == sorted(classes)
    swap = metrics["swap_accuracy"]
    assert set(swap["per_class"]) <= set(classes)
    assert 0.0 <= swap["still_source_share"] <= 1.0 - swap["value"] + 1e-6
    assert "20 test images" in swap["protocol"] and "180 edits" in swap["protocol"]
    identity = metrics["identity"]
    for key in ("value", "same_class", "real_test"):
        assert 0.0 <= identity[key] <= 1.0, key
    assert identity["protocol"]
    reconstruction = metrics["reconstruction_mse"]
    assert 0.0 <= reconstruction["value"] <= 1.0
    assert f"{num_test:,} real test images" in reconstruction["protocol"]
    check_share({**reconstruction, "value": reconstruction["judged_as_digit"]})
    assert 0 <= metrics["diversity"]["value"] <= 10 and metrics["diversity"]["protocol"]
    assert 1 <= metrics["classes_covered"]["value"] <= 10
    assert metrics["fid"]["value"] >= 0.0 and metrics["kid"]["protocol"]
    assert metrics["inception_score"]["value"] >= 1.0 - 1e-6


def check_figure(path, size):
    with Image.open(path) as grid:
        assert grid.format == "PNG" and grid.size == size


# The label-split VAE runs with the pixel discriminator and the loss-weight
# flags, as mnist_lrlivae was trained.
EXTRA = {
    "lrlivae": [
        "--pixel_discriminator",
        "--pixel_adversarial_weight=50",
        "--adversarial_weight=10",
        "--reconstruction_weight=5",
        "--beta=2",
        "--likelihood_weight=0.2",
        "--min_variance=0.01",
    ]
}


@pytest.mark.parametrize("model", list(CLASSES))
def test_train_mnist_conditional_vae(recipe_env, data_dir, tmp_path, model):
    output = tmp_path / f"mnist_{model}"
    flags = [
        *EXTRA.get(model, []),
        "--data_dir",
        data_dir,
        "--output",
        output,
        "--backup_dir",
        tmp_path / "backup",
        "--model",
        model,
        *TINY,
    ]
    run_recipe(RECIPE, *flags, env=recipe_env)
    metadata = check_published(output, RECIPE, f"mnist_{model}", flags)
    assert metadata["epochs"] == 2 and metadata["steps"] == 4
    assert all(len(v) == 2 for v in metadata["history"].values())
    assert metadata["final_train_logs"]["loss"] == metadata["history"]["loss"][-1]
    check_measures(metadata["metrics"])
    check_figure(output / "samples.png", SAMPLES_SIZE)
    check_figure(output / "swaps.png", SWAPS_SIZE)
    card = (output / "README.md").read_text()
    assert "![swaps](swaps.png)" in card and "swap accuracy" in card

    loaded = keras_latent.from_preset(output)
    assert type(loaded) is CLASSES[model]
    if model == "lrlivae":
        config = loaded.get_config()
        assert config["pixel_discriminator"] and "pixel discriminator" in card
        assert (config["pixel_adversarial_weight"], config["beta"]) == (50.0, 2.0)
        assert config["reconstruction_weight"] == 5.0
        assert (config["likelihood_weight"], config["min_variance"]) == (0.2, 0.01)
    check_images(loaded.generate({"3": 1}, num_samples=4, seed=0), 4)
    with np.load(data_dir / "mnist" / "mnist.npz") as z:
        digits = z["x_test"][:4, ..., None].astype("float32") / 255.0
    check_images(loaded.transform(digits, {"5": 1}), 4)
    # Label marginals of the training digits, not the uniform default.
    prior = keras.ops.convert_to_numpy(loaded.label_prior)
    assert prior.sum() == pytest.approx(1.0, abs=1e-2)
    assert not np.allclose(prior, 0.1)


def test_time_budget_is_recorded(recipe_env, data_dir, tmp_path):
    output = tmp_path / "mnist_budget"
    flags = [
        "--data_dir",
        data_dir,
        "--output",
        output,
        "--backup_dir",
        tmp_path / "backup",
        "--model=cvae",
        *TINY,
        "--epochs=5",  # the budget of 0 minutes stops it after the first
        "--max_train_minutes=0",
    ]
    run_recipe(RECIPE, *flags, env=recipe_env)
    metadata = check_published(output, RECIPE, "mnist_budget", flags)
    assert metadata["epochs"] == 1 and metadata["steps"] == 2
    assert len(metadata["history"]["loss"]) == 1
    assert "epochs: 1," in (output / "README.md").read_text()


def test_zheng_sun_table_runs_each_recipe_once(recipe_env, tmp_path):
    """The table on CIFAR-10: both recipes train on its split, judged by
    `cifar10_classifier`; a rerun trains nothing."""
    data_dir = write_cifar10(tmp_path / "data", num_train=800)
    output = tmp_path / "table"
    flags = [
        "--dataset=cifar10",
        f"--output={output}",
        f"--runs_dir={tmp_path / 'runs'}",
        f"--data_dir={data_dir}",
        "--epochs=1",
        "--steps_per_epoch=2",
        "--batch_size=16",
        "--num_samples=40",
        "--diversity_per_class=4",
        "--rows=cvae,cgan",
        "--vae_flag=--filters=4,8",
        "--vae_flag=--latent_dim=4",
        "--vae_flag=--swap_digits=20",
        "--gan_flag=--generator_filters=8,4",
        "--gan_flag=--critic_filters=4,8",
    ]
    run_recipe("zheng_sun_table", *flags, env=recipe_env)
    summary = json.loads((output / "table.json").read_text())
    assert list(summary["rows"]) == ["cvae", "cgan"] and summary["dataset"] == "cifar10"
    assert summary["rows"]["cgan"]["recipe"] == "recipes/train_mnist_gan.py"
    assert "cifar10_classifier" in summary["protocols"]["class_accuracy"]
    for row in summary["rows"].values():
        assert row["steps"] == 2
        measures = row["measures"]
        assert measures["inception_score"] >= 1.0 - 1e-6
        assert 0 <= measures["classes_as_diverse_as_real"] <= 10
        assert 0.0 <= measures["class_accuracy"] <= 1.0
    cgan = keras_latent.from_preset(tmp_path / "runs" / "cgan")
    assert cgan.image_shape == (32, 32, 3) and "truck" in cgan.attribute_names
    card = (tmp_path / "runs" / "cgan" / "README.md").read_text()
    assert '"cat"' in card and "real test images" in card
    table = (output / "table.md").read_text().splitlines()
    # Header, rule, two rows and the real images' reference row.
    assert len(table) == 5 and "CGAN" in table[3]
    assert "real held-out images" in table[4] and "| 10 |" in table[4]
    assert all((output / f"{row}.png").is_file() for row in ("cvae", "cgan"))
    stamp = (tmp_path / "runs" / "cgan" / "metadata.json").stat().st_mtime_ns
    run_recipe("zheng_sun_table", *flags, env=recipe_env)
    assert (tmp_path / "runs" / "cgan" / "metadata.json").stat().st_mtime_ns == stamp


def test_cifar10_label_split_vae(recipe_env, tmp_path):
    """`--dataset cifar10`: 32×32 colour images, class names, CIFAR-10's judge,
    the held-out split (the last 50 images of each class) for the measures."""
    data_dir = write_cifar10(tmp_path / "data", num_train=800)
    with np.load(data_dir / "cifar10_subset" / "cifar10_train_subset5k.npz") as z:
        labels = z["y"]
    output = tmp_path / "cifar10_lrlivae"
    flags = [
        "--dataset=cifar10",
        "--data_dir",
        data_dir,
        "--output",
        output,
        "--backup_dir",
        tmp_path / "backup",
        "--model=lrlivae",
        "--pixel_discriminator",
        *TINY,
    ]
    run_recipe(RECIPE, *flags, env=recipe_env)
    metadata = check_published(output, RECIPE, "cifar10_lrlivae", flags)
    loaded = keras_latent.from_preset(output)
    names = list(loaded.attribute_names)
    assert names[3] == "cat" and len(names) == 10
    check_measures(metadata["metrics"], classes=names, num_test=500)
    assert "cifar10_classifier" in metadata["metrics"]["class_accuracy"]["protocol"]
    assert "cifar10_subset" in metadata["data"]
    assert f"({len(labels) - 500:,})" in metadata["split"]["train"]
    # 32×32 tiles with 2-pixel borders, not upscaled.
    check_figure(output / "samples.png", (10 * 34 + 2, 8 * 34 + 2))
    check_figure(output / "swaps.png", (11 * 34 + 2, 8 * 34 + 2))
    card = (output / "README.md").read_text()
    assert '"cat"' in card and "(N, 32, 32, 3)" in card
    assert "test digit" not in card and "per digit" not in card
    assert loaded.image_shape == (32, 32, 3)
    samples = loaded.generate({"ship": 1}, num_samples=3, seed=0)
    assert samples.shape == (3, 32, 32, 3) and samples.dtype == np.float32

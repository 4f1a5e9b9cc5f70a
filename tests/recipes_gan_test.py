"""Smoke tests of the GAN family's recipes: `train_mnist_gan.py` and the
equal-budget table, run as scripts on tiny stand-in MNIST data."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

import keras_latent
from keras_latent.models import ACGAN, GAN
from tests.packed_data import write_mnist
from tests.recipe_runner import SMOKE_MARKS, recipe_environment, run_recipe
from tests.recipes_mnist_test import check_grid, check_images, check_published

pytestmark = SMOKE_MARKS
TINY = [
    "--epochs=2",
    "--steps_per_epoch=2",
    "--batch_size=16",
    "--generator_filters=8,4",
    "--critic_filters=4,8",
    "--latent_dim=8",
    "--num_samples=40",
    "--diversity_per_class=4",
]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    write_mnist(root, num_train=256, num_test=128)
    return root


@pytest.fixture(scope="module")
def recipe_env(tmp_path_factory):
    return recipe_environment(tmp_path_factory.mktemp("recipes"))


def check_measures(metrics, conditional):
    for name in ("judge_confident_share", "classes_covered", "diversity", "fid"):
        assert metrics[name]["protocol"], name
    assert 0.0 <= metrics["judge_confident_share"]["value"] <= 1.0
    assert 1 <= metrics["classes_covered"]["value"] <= 10
    assert 0 <= metrics["diversity"]["value"] <= 10
    assert metrics["fid"]["value"] >= 0.0 and metrics["kid"]["protocol"]
    assert metrics["inception_score"]["value"] >= 1.0 - 1e-6
    assert ("class_accuracy" in metrics) == conditional
    if conditional:
        per_class = metrics["class_accuracy"]["per_class"]
        assert sorted(per_class) == [str(d) for d in range(10)]


@pytest.mark.parametrize("model", ["gan", "acgan"])
def test_train_mnist_gan(recipe_env, data_dir, tmp_path, model):
    output = tmp_path / f"mnist_{model}"
    flags = [
        "--data_dir",
        data_dir,
        "--output",
        output,
        "--backup_dir",
        tmp_path / "backup",
        "--model",
        model,
        *TINY,
        *(["--ema_decay=0.9", "--spectral_norm"] if model == "gan" else []),
    ]
    run_recipe("train_mnist_gan", *flags, env=recipe_env)
    metadata = check_published(output, "train_mnist_gan", f"mnist_{model}", flags)
    assert metadata["steps"] == 4 and metadata["critic_updates"] == 4
    check_measures(metadata["metrics"], conditional=model == "acgan")
    if model == "gan":
        check_grid(output / "samples.png")
    else:  # ten columns, one per digit asked for
        assert (output / "samples.png").is_file()
    loaded = keras_latent.from_preset(output)
    assert type(loaded) is (GAN if model == "gan" else ACGAN)
    if model == "gan":
        assert loaded.ema_decay == 0.9 and loaded.spectral_norm
        check_images(loaded.generate(4, seed=0), 4)
    else:
        check_images(loaded.generate({"3": 1}, num_samples=4, seed=0), 4)
        # Label marginals of the training digits, not the uniform default.
        prior = keras.ops.convert_to_numpy(loaded.label_prior)
        assert prior.sum() == pytest.approx(1.0, abs=1e-3)
        assert not np.allclose(prior, 0.1)


def test_equal_budget_table(recipe_env, data_dir, tmp_path):
    output = tmp_path / "table"
    flags = [
        f"--output={output}",
        f"--runs_dir={tmp_path / 'runs'}",
        f"--data_dir={data_dir}",
        "--epochs=1",
        "--steps_per_epoch=2",
        "--batch_size=16",
        "--num_samples=40",
        "--diversity_per_class=4",
        "--rows=minimax,wasserstein",
        "--extra_flag=--generator_filters=8,4",
        "--extra_flag=--critic_filters=4,8",
    ]
    run_recipe("gan_equal_budget", *flags, env=recipe_env)
    summary = json.loads((output / "table.json").read_text())
    assert list(summary["rows"]) == ["minimax", "wasserstein"]
    assert summary["rows"]["wasserstein"]["critic_updates"] == 5 * 2
    assert summary["rows"]["minimax"]["critic_updates"] == 2
    table = (output / "table.md").read_text().splitlines()
    assert len(table) == 4 and "FID" in table[0]
    assert "WGAN (clipping)" in table[3]
    for row in ("minimax", "wasserstein"):
        assert (output / f"{row}.png").is_file()
    # A rerun skips the finished rows.
    run_recipe("gan_equal_budget", *flags, env=recipe_env)
    assert json.loads((output / "table.json").read_text())["rows"] == summary["rows"]


def test_time_budget_and_data_note_are_recorded(recipe_env, data_dir, tmp_path):
    output = tmp_path / "mnist_budget"
    flags = [
        "--data_dir",
        data_dir,
        "--output",
        output,
        "--backup_dir",
        tmp_path / "backup",
        *TINY,
        "--epochs=5",  # the budget of 0 minutes stops it after the first
        "--max_train_minutes=0",
        "--data_note=copied unchanged",
    ]
    run_recipe("train_mnist_gan", *flags, env=recipe_env)
    metadata = check_published(output, "train_mnist_gan", "mnist_budget", flags)
    assert metadata["epochs"] == 1 and metadata["steps"] == 2
    assert len(metadata["history"]["generator_loss"]) == 1
    assert metadata["data"].endswith("(copied unchanged)")

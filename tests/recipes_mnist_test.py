"""Smoke tests for the MNIST and CIFAR-10 recipes and `evaluate_preset.py`.

Each recipe runs as a script, as a person runs it, on the tiny stand-in data of
`packed_data`, shrunk with its own flags. The tests then load what it published
and check the preset, its metadata and its card, so that a refactor of the
library or of `publishing.py` that breaks a recipe fails here and not in the
next multi-hour training run.
"""

from __future__ import annotations

import json
import math
import re
import shlex
import shutil
from pathlib import Path

import keras
import numpy as np
import pytest
from PIL import Image

import keras_latent
from keras_latent.models import VAE, WGANGP, ImageClassifier
from tests.packed_data import write_cifar10, write_mnist
from tests.recipe_runner import SMOKE_MARKS, recipe_environment, run_recipe

pytestmark = SMOKE_MARKS
ROOT = Path(__file__).resolve().parents[1]
NUM_MNIST_TRAIN, NUM_MNIST_TEST, NUM_CIFAR = 256, 128, 256
PRESET_FILES = ("config.json", "model.weights.h5", "metadata.json", "README.md")
# 64 samples in 8 rows of 28×28 tiles with 2-pixel borders, upscaled twice.
GRID_SIZE = (2 * (8 * 30 + 2), 2 * (8 * 30 + 2))


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    write_mnist(root, num_train=NUM_MNIST_TRAIN, num_test=NUM_MNIST_TEST)
    write_cifar10(root, num_train=NUM_CIFAR)
    return root


@pytest.fixture(scope="module")
def recipe_env(tmp_path_factory):
    return recipe_environment(tmp_path_factory.mktemp("recipes"))


def check_published(output, recipe, title, flags):
    """Checks the files and metadata every recipe publishes; returns metadata."""
    for name in PRESET_FILES:
        assert (output / name).is_file(), name
    metadata = keras_latent.load_preset_metadata(output)
    assert metadata["recipe"] == f"recipes/{recipe}.py"
    # Relative to the repository and with every flag, so that it reruns.
    assert metadata["command"] == shlex.join(
        ["python", f"recipes/{recipe}.py", *map(str, flags)]
    )
    assert metadata["backend"] == keras.backend.backend()
    assert metadata["wall_time_s"] >= 0 and metadata["hardware"]
    for key in ("data", "split"):
        assert metadata[key], key
    # The data actually read, not a description of the shared data.
    data_dir = Path(flags[flags.index("--data_dir") + 1]).resolve()
    assert str(data_dir) in metadata["data"], metadata["data"]
    card = (output / "README.md").read_text()
    assert card.startswith(f"# {title}\n")
    assert metadata["command"] in card and f"steps: {metadata['steps']}" in card
    return metadata


def check_images(images, count):
    images = keras.ops.convert_to_numpy(images)
    assert images.shape == (count, 28, 28, 1) and images.dtype == np.float32
    assert np.all(np.isfinite(images))
    assert images.min() >= 0.0 and images.max() <= 1.0


def check_grid(path):
    with Image.open(path) as grid:
        assert grid.format == "PNG" and grid.size == GRID_SIZE


def check_judge_shares(record, num_samples, judge):
    """The confident-share figure of the VAE and WGAN-GP recipes."""
    for who in ("samples", "real_test"):
        shares = record[who]
        assert set(shares["per_class"]) == {str(k) for k in range(10)}
        predicted = [c["predicted_share"] for c in shares["per_class"].values()]
        assert sum(predicted) == pytest.approx(1.0, abs=1e-3)
        confident = [c["confident_share"] for c in shares["per_class"].values()]
        assert 0.0 <= shares["confident_share"] <= 1.0
        assert sum(confident) == pytest.approx(shares["confident_share"], abs=1e-3)
    assert f"{num_samples} samples" in record["protocol"]
    assert f"'{judge}'" in record["protocol"]


def training_flags(data_dir, output, backup_dir, **extra):
    """A training recipe's command-line flags: data, output, backup, then `extra`."""
    flags = ["--data_dir", data_dir, "--output", output, "--backup_dir", backup_dir]
    for name, value in extra.items():
        flags += [f"--{name}", value]
    return flags


def mnist_test_arrays(data_dir):
    with np.load(data_dir / "mnist" / "mnist.npz") as z:
        return z["x_test"][..., None].astype("float32") / 255.0, z["y_test"]


def test_mnist_classifier(recipe_env, data_dir, tmp_path):
    output = tmp_path / "mnist_classifier"
    flags = training_flags(
        data_dir, output, tmp_path / "backup", epochs=1, batch_size=64
    )
    run_recipe(
        "train_mnist_classifier",
        *flags,
        env=recipe_env,
        guarded=["zoo/mnist_classifier", "runs/mnist_classifier"],
    )
    metadata = check_published(
        output, "train_mnist_classifier", "mnist_classifier", flags
    )
    assert metadata["epochs"] == 1 and metadata["batch_size"] == 64
    assert metadata["steps"] == math.ceil(NUM_MNIST_TRAIN / 64)
    assert f"({NUM_MNIST_TRAIN:,} images)" in metadata["data"]
    assert metadata["split"]["report"] == f"test ({NUM_MNIST_TEST:,})"
    # A finished run leaves nothing for the next one to resume from.
    assert not (tmp_path / "backup").exists()
    # Only a resumed run says so (the published presets' keys stay as they were).
    assert "resumed" not in metadata and "epochs_done_before_resume" not in metadata

    model = keras_latent.from_preset(output)
    assert type(model) is ImageClassifier
    x_test, y_test = mnist_test_arrays(data_dir)
    probabilities = model.predict_proba(x_test)
    assert probabilities.shape == (NUM_MNIST_TEST, 10)
    np.testing.assert_allclose(probabilities.sum(-1), 1.0, atol=1e-4)
    # The recorded accuracy is the published weights' own, on the test split.
    accuracy = float((probabilities.argmax(-1) == y_test).mean())
    recorded = metadata["metrics"]["test_accuracy"]
    assert recorded["value"] == pytest.approx(accuracy, abs=1.5 / NUM_MNIST_TEST)
    assert recorded["protocol"]


@pytest.fixture(scope="module")
def vae_run(recipe_env, data_dir, tmp_path_factory):
    """One run of the VAE recipe, shared with the evaluation test."""
    tmp_path = tmp_path_factory.mktemp("vae")
    output = tmp_path / "mnist_vae"
    flags = training_flags(
        data_dir,
        output,
        tmp_path / "backup",
        epochs=1,
        batch_size=64,
        latent_dim=4,
        num_samples=32,
    )
    run_recipe(
        "train_mnist_vae",
        *flags,
        env=recipe_env,
        guarded=["zoo/mnist_vae", "runs/mnist_vae"],
    )
    return output, flags


def test_mnist_vae(vae_run, data_dir):
    output, flags = vae_run
    metadata = check_published(output, "train_mnist_vae", "mnist_vae", flags)
    assert metadata["steps"] == math.ceil(NUM_MNIST_TRAIN / 64)
    assert {"loss", "reconstruction", "kl"} <= set(metadata["final_train_logs"])
    check_grid(output / "samples.png")
    check_grid(output / "reconstructions.png")

    model = keras_latent.from_preset(output)
    assert type(model) is VAE and model.latent_dim == 4
    check_images(model.generate(4, seed=0), 4)

    metrics = metadata["metrics"]
    # A Bernoulli ELBO is a log-likelihood bound: negative.
    assert math.isfinite(metrics["test_elbo_nats"]["value"])
    assert metrics["test_elbo_nats"]["value"] < 0
    x_test, _ = mnist_test_arrays(data_dir)
    mse = float(np.mean((model.reconstruct(x_test) - x_test) ** 2))
    assert metrics["test_reconstruction_mse"]["value"] == pytest.approx(
        mse, rel=1e-3, abs=1e-5
    )
    check_judge_shares(metrics["judge_confident_share"], 32, "mnist_classifier")


def test_mnist_wgan_gp(recipe_env, data_dir, tmp_path):
    output = tmp_path / "mnist_wgan_gp"
    flags = training_flags(
        data_dir,
        output,
        tmp_path / "backup",
        epochs=2,
        steps_per_epoch=2,
        batch_size=16,
        critic_steps=2,
        generator_filters="8,4",
        critic_filters="4,8",
        num_samples=16,
        diversity_per_class=4,
        model="wgan_gp",
    )
    run_recipe(
        "train_mnist_gan",
        *flags,
        env=recipe_env,
        guarded=["zoo/mnist_wgan_gp", "runs/mnist_wgan_gp"],
    )
    metadata = check_published(output, "train_mnist_gan", "mnist_wgan_gp", flags)
    check_grid(output / "samples.png")
    assert metadata["steps"] == 2 * 2 and metadata["critic_updates"] == 2 * 2 * 2
    history = metadata["history"]
    for name in ("wasserstein", "gradient_penalty"):
        assert len(history[name]) == 2 and all(map(math.isfinite, history[name]))
        assert metadata["final_train_logs"][name] == history[name][-1]
    # The GAN family's measures (recipes/generator_measures.py).
    record = metadata["metrics"]["judge_confident_share"]
    assert 0.0 <= record["value"] <= 1.0 and 0.0 <= record["real_test"] <= 1.0
    assert "16 samples" in record["protocol"]
    assert "'mnist_classifier'" in record["protocol"]
    assert 0 <= metadata["metrics"]["diversity"]["value"] <= 10

    model = keras_latent.from_preset(output)
    assert type(model) is WGANGP
    config = model.get_config()
    assert list(config["generator_filters"]) == [8, 4]
    assert list(config["critic_filters"]) == [4, 8]
    assert config["critic_steps"] == 2
    check_images(model.generate(4, seed=0), 4)


def cifar_held_out(data_dir, per_class):
    """The recipe's split: the last `per_class` images of each class."""
    with np.load(data_dir / "cifar10_subset" / "cifar10_train_subset5k.npz") as z:
        x, y = z["x"].astype("float32") / 255.0, z["y"].astype(np.int64)
    held_out = np.zeros(len(y), bool)
    for k in range(10):
        held_out[np.flatnonzero(y == k)[-per_class:]] = True
    return x[held_out], y[held_out], int((~held_out).sum())


def cifar_flags(data_dir, tmp_path, epochs):
    return training_flags(
        data_dir,
        tmp_path / "cifar10_classifier",
        tmp_path / "backup",
        epochs=epochs,
        batch_size=64,
        held_out_per_class=5,
    )


def check_cifar_preset(output, flags, data_dir, epochs):
    metadata = check_published(
        output, "train_cifar10_classifier", "cifar10_classifier", flags
    )
    x_val, y_val, num_train = cifar_held_out(data_dir, 5)
    assert metadata["epochs"] == epochs
    assert metadata["steps"] == epochs * math.ceil(num_train / 64)
    model = keras_latent.from_preset(output)
    assert type(model) is ImageClassifier
    probabilities = model.predict_proba(x_val)
    assert probabilities.shape == (len(y_val), 10)
    accuracy = float((probabilities.argmax(-1) == y_val).mean())
    recorded = metadata["metrics"]["held_out_accuracy"]["value"]
    assert recorded == pytest.approx(accuracy, abs=1.5 / len(y_val))
    return model


# The resume test below runs the same recipe end to end; this fresh run adds
# only the published network's own training, at 10-30 s a backend.
@pytest.mark.slow
def test_cifar10_classifier(recipe_env, data_dir, tmp_path):
    flags = cifar_flags(data_dir, tmp_path, epochs=1)
    run_recipe(
        "train_cifar10_classifier",
        *flags,
        env=recipe_env,
        guarded=["zoo/cifar10_classifier", "runs/cifar10_classifier"],
    )
    model = check_cifar_preset(tmp_path / "cifar10_classifier", flags, data_dir, 1)
    assert model.filters == (32, 64, 128)
    assert model.class_names[:2] == ["airplane", "automobile"]
    # Like BackupAndRestore: a finished run leaves no checkpoint behind.
    assert not (tmp_path / "backup").exists()


def test_cifar10_classifier_resumes_from_its_checkpoint(recipe_env, data_dir, tmp_path):
    # The checkpoint an interrupted run would leave after its first epoch, of
    # a model the recipe never builds itself: only a resumed run publishes it.
    backup = tmp_path / "backup"
    backup.mkdir()
    checkpointed = ImageClassifier(
        image_shape=(32, 32, 3),
        class_names=[str(k) for k in range(10)],
        filters=(4,),
        dense_units=8,
    )
    checkpointed.compile(
        optimizer=keras_latent.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    checkpointed.save(backup / "checkpoint_epoch1.keras")
    # As if the interrupted run had trained for 500 s.
    progress = {
        "epochs_done": 1,
        "checkpoint": "checkpoint_epoch1.keras",
        "elapsed_s": 500.0,
    }
    (backup / "progress.json").write_text(json.dumps(progress))
    # A crash after epoch 2's checkpoint, before progress.json named it (here
    # a truncated file): progress.json still names epoch 1's, which wins.
    (backup / "checkpoint_epoch2.keras").write_bytes(b"PK\x03\x04 truncated")

    flags = cifar_flags(data_dir, tmp_path, epochs=2)
    result = run_recipe(
        "train_cifar10_classifier",
        *flags,
        env=recipe_env,
        guarded=["zoo/cifar10_classifier", "runs/cifar10_classifier"],
    )
    assert "Resuming after epoch 1" in result.stdout
    # One `fit` of one epoch: only the second epoch ran.
    epoch_lines = re.findall(r"^\d+/\d+ - .*loss", result.stdout, re.MULTILINE)
    assert len(epoch_lines) == 1, result.stdout
    model = check_cifar_preset(tmp_path / "cifar10_classifier", flags, data_dir, 2)
    assert model.filters == (4,) and model.dense_units == 8
    assert not backup.exists()
    # The run records that it resumed, and the training time of both runs.
    metadata = keras_latent.load_preset_metadata(tmp_path / "cifar10_classifier")
    assert metadata["resumed"] is True and metadata["epochs_done_before_resume"] == 1
    assert metadata["wall_time_s"] >= 500.0
    card = (tmp_path / "cifar10_classifier" / "README.md").read_text()
    assert "resumed after epoch 1 of an interrupted run" in card


def test_evaluate_preset_records_the_report(recipe_env, vae_run, data_dir, tmp_path):
    # The recipe rewrites the preset in place: it gets a copy.
    preset = tmp_path / "mnist_vae"
    shutil.copytree(vae_run[0], preset)
    trained = json.loads((preset / "metadata.json").read_text())
    card = (preset / "README.md").read_text()
    heading = "## Measured with the evaluation toolkit"
    # A section left by an earlier evaluation is replaced, not repeated.
    (preset / "README.md").write_text(f"{card}\n{heading}\n\nstale table\n")

    flags = ["--preset", preset, "--num_samples", 32]
    # No --data: the reference split is inferred from the image shape and read
    # from $KERAS_LATENT_DATA, here the stand-in data.
    run_recipe(
        "evaluate_preset", *flags, env=recipe_env, data_env=data_dir, guarded=["zoo"]
    )

    metadata = json.loads((preset / "metadata.json").read_text())
    report = metadata.pop("evaluation")
    assert metadata == trained
    assert list(report["results"]) == ["fid", "kid", "is", "diversity"]
    assert math.isfinite(report["results"]["fid"])
    assert math.isfinite(report["results"]["kid"]["mean"])
    assert math.isfinite(report["results"]["is"]["mean"])
    protocol = report["protocol"]
    assert protocol["reference"] == "mnist:test"
    assert protocol["num_fake"] == 32 and protocol["num_real"] == NUM_MNIST_TEST
    assert protocol["judge"]["preset"] == "mnist_classifier"
    assert protocol["backend"] == keras.backend.backend()
    assert report["command"] == shlex.join(
        ["python", "recipes/evaluate_preset.py", *map(str, flags)]
    )
    assert report["wall_time_s"] >= 0

    new_card = (preset / "README.md").read_text()
    assert new_card.startswith(card.rstrip())
    assert new_card.count(heading) == 1 and "stale table" not in new_card
    assert report["command"] in new_card and "| FID |" in new_card


def test_evaluate_preset_starts_a_card_where_there_is_none(
    recipe_env, data_dir, tmp_path
):
    # A preset of one's own, saved with `save_to_preset`: no card.
    preset = tmp_path / "own_vae"
    VAE(image_shape=(28, 28, 1), latent_dim=2, hidden_units=(8,)).save_to_preset(preset)
    assert not (preset / "README.md").exists()
    flags = ["--preset", preset, "--num_samples", 16, "--metrics", "fid"]
    run_recipe(
        "evaluate_preset", *flags, env=recipe_env, data_env=data_dir, guarded=["zoo"]
    )
    metadata = keras_latent.load_preset_metadata(preset)
    assert list(metadata["evaluation"]["results"]) == ["fid"]
    card = (preset / "README.md").read_text()
    assert card.startswith("## Measured with the evaluation toolkit\n")
    assert "| FID |" in card

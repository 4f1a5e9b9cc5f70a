"""Fault injection: checkpoints, resumed runs and preset saves (issue 15).

Each test breaks a write the way a crash or `kill -9` does (a file cut
short, an exception between two writes, a failed rename) and checks that
nothing is lost: a run resumes from the last complete checkpoint, with a
warning when it had to fall back; a resumed run knows it resumed and its
total training time; a failed save leaves the old preset loading as before,
and no temporary folder behind.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np
import pytest

import keras_latent
from keras_latent import presets
from keras_latent.models import VAE, ImageClassifier
from keras_latent.utils import files
from keras_latent.utils.files import atomic_write_text

REPO = Path(__file__).resolve().parents[1]


def _recipe_module(name):
    # recipes/ is a folder of scripts, not a package: load the module by path.
    spec = importlib.util.spec_from_file_location(
        f"recipes_{name}", REPO / "recipes" / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ResumableBackup = _recipe_module("checkpoints").ResumableBackup
X = np.random.RandomState(0).rand(16, 8, 8, 1).astype("float32")
Y = np.arange(16) % 2
EPOCHS = 4


class Killed(Exception):
    """Stands for the process dying at this point."""


def classifier():
    model = ImageClassifier(
        image_shape=(8, 8, 1), class_names=["a", "b"], filters=(4,), dense_units=4
    )
    model.compile(
        optimizer=keras_latent.optimizers.Adam(1e-2),
        loss="sparse_categorical_crossentropy",
    )
    return model


def weights_of(model):
    return [np.array(keras.ops.convert_to_numpy(w)) for w in model.weights]


class KillAtEpoch(keras.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise Killed(f"killed at the start of epoch {epoch}")


class Snapshots(keras.callbacks.Callback):
    """The weights when training starts (after a restore) and after each epoch."""

    def __init__(self):
        super().__init__()
        self.at_start, self.after_epoch = None, {}

    def on_train_begin(self, logs=None):
        self.at_start = weights_of(self.model)

    def on_epoch_end(self, epoch, logs=None):
        self.after_epoch[epoch + 1] = weights_of(self.model)


def interrupted_run(backup_dir, model=None, kill_at=2):
    """Trains until the start of epoch `kill_at`; the weights after each epoch."""
    model = model or classifier()
    snapshots = Snapshots()
    callbacks = [ResumableBackup(backup_dir), snapshots, KillAtEpoch(kill_at)]
    with pytest.raises(Killed):
        model.fit(X, Y, epochs=EPOCHS, batch_size=8, verbose=0, callbacks=callbacks)
    return snapshots.after_epoch


def rerun(backup_dir, **options):
    """Reruns the same fit; `(its ResumableBackup, Snapshots, History)`."""
    model, snapshots = classifier(), Snapshots()
    backup = ResumableBackup(backup_dir, **options)
    history = model.fit(
        X, Y, epochs=EPOCHS, batch_size=8, verbose=0, callbacks=[backup, snapshots]
    )
    return backup, snapshots, history


def assert_same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


# Checkpoints.


@pytest.mark.parametrize("keep", [0.0, 0.5])
def test_truncated_newest_checkpoint_falls_back_to_the_previous_one(tmp_path, keep):
    backup_dir = tmp_path / "backup"
    after_epoch = interrupted_run(backup_dir)  # checkpoints after epochs 1 and 2
    newest = backup_dir / "latest.weights.h5"
    data = newest.read_bytes()
    newest.write_bytes(data[: int(len(data) * keep)])  # 0 bytes: a kill mid-write
    with pytest.warns(UserWarning, match="latest.weights.h5' is corrupt") as info:
        backup, snapshots, history = rerun(backup_dir)
    (message,) = [str(w.message) for w in info if "checkpoint" in str(w.message)]
    assert "resuming from the previous checkpoint" in message and "epoch 1" in message
    if keep == 0:
        assert "file signature not found" in message
    assert backup.resumed_after_epoch == 1
    assert_same(snapshots.at_start, after_epoch[1])
    assert len(history.history["loss"]) == EPOCHS - 1
    assert not backup_dir.exists()  # a finished fit leaves nothing to resume


def test_corrupt_newest_training_state_falls_back_to_the_previous_one(tmp_path):
    backup_dir = tmp_path / "backup"
    after_epoch = interrupted_run(backup_dir)
    (backup_dir / "training_metadata.json").write_text('{"epo')
    with pytest.warns(UserWarning, match="training_metadata.json' is corrupt"):
        backup, snapshots, _ = rerun(backup_dir)
    assert backup.resumed_after_epoch == 1
    assert_same(snapshots.at_start, after_epoch[1])


def kill_during_second_save(model, how):
    """Makes the model's second checkpoint save die `how`."""
    save_weights, calls = model.save_weights, []

    def dying_save_weights(filepath, *args, **kwargs):
        calls.append(filepath)
        if len(calls) < 2:
            return save_weights(filepath, *args, **kwargs)
        if how == "mid_weights":
            save_weights(filepath, *args, **kwargs)
            data = Path(filepath).read_bytes()
            Path(filepath).write_bytes(data[: len(data) // 3])
        elif how == "after_weights":
            # Keras writes training_metadata.json next: it still names epoch 1.
            save_weights(filepath, *args, **kwargs)
        elif how == "mid_state":
            save_weights(filepath, *args, **kwargs)
            (Path(filepath).parent / "training_metadata.json").write_text("")
        raise Killed(f"killed {how}")

    model.save_weights = dying_save_weights


@pytest.mark.parametrize(
    "how, warning",
    [
        ("mid_weights", "latest.weights.h5' is corrupt"),
        ("after_weights", "may be half-written"),
        ("mid_state", "training_metadata.json' is corrupt"),
    ],
)
def test_kill_between_two_writes_resumes_from_a_consistent_checkpoint(
    tmp_path, how, warning
):
    # Keras saves the weights, then the epoch: a kill between the two left
    # epoch 2's weights beside epoch 1's count, and Keras alone would train
    # epoch 2 again from them.
    backup_dir, model = tmp_path / "backup", classifier()
    kill_during_second_save(model, how)
    after_epoch = interrupted_run(backup_dir, model=model, kill_at=None)
    assert sorted(after_epoch) == [1]
    with pytest.warns(UserWarning, match=f"{warning}.*previous checkpoint"):
        backup, snapshots, history = rerun(backup_dir)
    assert backup.resumed_after_epoch == 1
    assert_same(snapshots.at_start, after_epoch[1])
    assert len(history.history["loss"]) == EPOCHS - 1


def test_kill_during_the_first_save_starts_over_with_a_warning(tmp_path):
    backup_dir, model = tmp_path / "backup", classifier()
    save_weights = model.save_weights

    def dying_save_weights(filepath, *args, **kwargs):
        save_weights(filepath, *args, **kwargs)
        Path(filepath).write_bytes(b"")
        raise Killed("killed mid-write")

    model.save_weights = dying_save_weights
    interrupted_run(backup_dir, model=model, kill_at=None)
    with pytest.warns(UserWarning, match="training starts over from epoch 0"):
        backup, _, history = rerun(backup_dir)
    assert backup.resumed_after_epoch is None and backup.resume_fields() == {}
    assert len(history.history["loss"]) == EPOCHS


def test_resumed_run_records_that_it_resumed_and_its_total_time(tmp_path):
    backup_dir = tmp_path / "backup"
    interrupted_run(backup_dir)
    # Every file is whole: the progress file is written aside and renamed.
    assert sorted(p.name for p in backup_dir.iterdir()) == [
        "latest.weights.h5",
        "latest.weights.h5.bkp",
        "progress.json",
        "training_metadata.json",
        "training_metadata.json.bkp",
    ]
    progress = json.loads((backup_dir / "progress.json").read_text())
    assert progress["elapsed_s"] >= 0
    # As if the interrupted runs had trained for 1000 s.
    atomic_write_text(backup_dir / "progress.json", json.dumps({"elapsed_s": 1000.0}))
    backup, _, _ = rerun(backup_dir, progress_every_s=0.0)
    assert backup.resume_fields() == {"resumed": True, "epochs_done_before_resume": 2}
    assert backup.earlier_seconds == 1000.0
    assert 1000.0 <= backup.seconds() < 1000.0 + 600

    fresh, _, _ = rerun(tmp_path / "fresh")
    assert fresh.resume_fields() == {} and fresh.earlier_seconds == 0.0
    assert 0.0 <= fresh.seconds() < 600


def test_failed_atomic_write_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "metadata.json"
    atomic_write_text(path, "old\n")

    def failing_replace(source, target):
        raise OSError("disk full")

    monkeypatch.setattr(files.os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_text(path, "new\n")
    assert path.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["metadata.json"]


# Preset saves.


def small_vae(latent_dim=3, seed=0):
    return VAE(
        image_shape=(8, 8, 1), latent_dim=latent_dim, hidden_units=(16,), seed=seed
    )


def old_preset(path):
    """A preset with a card and a figure; returns `(model, its images)`."""
    model = small_vae()
    model.save_to_preset(path)
    (path / "README.md").write_text("# the old card\n")
    (path / "samples.png").write_bytes(b"\x89PNG old figure")
    return model, model.reconstruct(X[:2])


def check_old_preset(path, images):
    loaded = keras_latent.from_preset(path)
    assert loaded.latent_dim == 3
    np.testing.assert_allclose(loaded.reconstruct(X[:2]), images, atol=1e-6)
    assert (path / "README.md").read_text() == "# the old card\n"
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


@pytest.mark.parametrize("error", [OSError, KeyboardInterrupt])
def test_failed_weights_write_over_a_preset_keeps_the_old_one(
    tmp_path, monkeypatch, error
):
    path = tmp_path / "preset"
    _, images = old_preset(path)
    new = small_vae(latent_dim=5, seed=1)  # a config the old weights do not fit

    def failing_save_weights(self, filepath, *args, **kwargs):
        Path(filepath).write_bytes(b"half a weights file")
        raise error("the weights write failed")

    monkeypatch.setattr(type(new), "save_weights", failing_save_weights)
    with pytest.raises(error, match="weights write failed"):
        new.save_to_preset(path)
    monkeypatch.undo()
    check_old_preset(path, images)


def test_failed_rename_over_a_preset_puts_the_old_one_back(tmp_path, monkeypatch):
    path = tmp_path / "preset"
    _, images = old_preset(path)
    rename, calls = os.rename, []

    def rename_failing_the_second_time(source, target):
        calls.append((source, target))
        if len(calls) == 2:  # the new folder into the old one's place
            raise OSError("rename failed")
        return rename(source, target)

    monkeypatch.setattr(presets.os, "rename", rename_failing_the_second_time)
    with pytest.raises(OSError, match="rename failed"):
        small_vae(latent_dim=5).save_to_preset(path)
    monkeypatch.undo()
    assert len(calls) == 3  # aside, in (failed), back
    check_old_preset(path, images)


@pytest.mark.parametrize(
    "arguments, error, match",
    [
        ({"weights_dtype": "int8"}, ValueError, "weights_dtype"),
        ({"metadata": {"data": object()}}, TypeError, "JSON-serialisable"),
        ({"metadata": {"loss": np.float32(1.0)}}, TypeError, "JSON-serialisable"),
        ({"metadata": ["not", "a", "dict"]}, TypeError, "must be a dict"),
    ],
)
def test_bad_arguments_write_nothing(tmp_path, arguments, error, match):
    model = small_vae(latent_dim=5)
    with pytest.raises(error, match=match):
        model.save_to_preset(tmp_path / "new", **arguments)
    assert list(tmp_path.iterdir()) == []
    path = tmp_path / "preset"
    _, images = old_preset(path)
    before = {p.name: p.read_bytes() for p in path.iterdir()}
    with pytest.raises(error, match=match):
        model.save_to_preset(path, **arguments)
    assert {p.name: p.read_bytes() for p in path.iterdir()} == before
    check_old_preset(path, images)


def test_saving_over_a_preset_keeps_its_card_and_figures(tmp_path):
    path = tmp_path / "preset"
    old_preset(path)
    (path / "figures").mkdir()
    (path / "figures" / "edits.png").write_bytes(b"edits")
    new = small_vae(latent_dim=5, seed=1)
    new.save_to_preset(path, metadata={"note": "second"})
    assert keras_latent.from_preset(path).latent_dim == 5
    assert keras_latent.load_preset_metadata(path)["note"] == "second"
    assert (path / "README.md").read_text() == "# the old card\n"
    assert (path / "samples.png").read_bytes() == b"\x89PNG old figure"
    assert (path / "figures" / "edits.png").read_bytes() == b"edits"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["preset"]


def test_kill_between_the_two_renames_names_the_old_preset(tmp_path, monkeypatch):
    # A kill after the old folder went aside and before the new one came in
    # (simulated: the new one is never renamed) leaves no preset at `path`.
    path = tmp_path / "preset"
    _, images = old_preset(path)
    rename, calls = os.rename, []

    def killed_after_the_first_rename(source, target):
        calls.append(source)
        if len(calls) == 2:
            raise KeyboardInterrupt("killed")  # stands for SIGKILL here
        if len(calls) == 3:
            return None  # a killed process puts nothing back
        return rename(source, target)

    monkeypatch.setattr(presets.os, "rename", killed_after_the_first_rename)
    with pytest.raises(KeyboardInterrupt):
        small_vae(latent_dim=5).save_to_preset(path)
    monkeypatch.undo()
    with pytest.raises(ValueError, match="save into it was interrupted") as info:
        keras_latent.from_preset(path)
    aside = Path(str(info.value).split("preset is in '")[1].split("'")[0])
    os.rename(aside, path)  # the advice works
    check_old_preset(path, images)


def test_saving_into_the_working_directory_keeps_it_usable(tmp_path, monkeypatch):
    path = tmp_path / "preset"
    old_preset(path)
    monkeypatch.chdir(path)
    small_vae(latent_dim=5).save_to_preset(".")
    assert Path.cwd() == path and Path("config.json").is_file()
    assert keras_latent.from_preset(".").latent_dim == 5


# A recipe killed for real.


@pytest.mark.slow
def test_recipe_killed_at_any_moment_resumes_on_rerun(tmp_path):
    from tests.packed_data import write_mnist
    from tests.recipe_runner import recipe_environment, run_recipe

    write_mnist(tmp_path / "data", num_train=64, num_test=32)
    flags = [
        *("--data_dir", tmp_path / "data", "--output", tmp_path / "preset"),
        *("--backup_dir", tmp_path / "backup", "--epochs", 60, "--batch_size", 32),
    ]
    env = recipe_environment(tmp_path)
    script = [sys.executable, "recipes/train_mnist_classifier.py", *map(str, flags)]
    process = subprocess.Popen(
        script, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    progress = tmp_path / "backup" / "progress.json"
    deadline = time.time() + 300
    while not progress.exists() and process.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    # A moment later, most likely inside one of the two saves of an epoch.
    time.sleep(float(np.random.RandomState().uniform(0.0, 0.5)))
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, process.stderr.read()[-2000:]
    process.stderr.close()

    run_recipe("train_mnist_classifier", *flags, env=env)
    metadata = keras_latent.load_preset_metadata(tmp_path / "preset")
    assert metadata["resumed"] is True
    assert 1 <= metadata["epochs_done_before_resume"] < 60
    assert metadata["wall_time_s"] > 0
    assert not (tmp_path / "backup").exists()
    keras_latent.from_preset(tmp_path / "preset")

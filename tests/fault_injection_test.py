"""Fault injection: what a crash, a kill or a NaN does to training and saves.

Training (on whichever backend KERAS_BACKEND selects): the multi-player
trainer skips every phase update whose loss, gradients or learning rate is
not finite, and the one-optimizer models (`VAE`, `ImageClassifier`) skip
theirs through the zoo's `Adam`; both count the steps in `nonfinite_steps`
and stop `fit` after `max_nonfinite_steps` of them in a row, naming the step
and the value. A NaN batch is tried from each input type (a NumPy array, a
`keras.utils.PyDataset`, a `tf.data.Dataset`), and a NaN learning rate.

Writes: each test breaks a write the way a crash or `kill -9` does (a file
cut short, an exception between two writes, a failed rename) and checks
that nothing is lost: a run resumes from the last complete checkpoint, with
a warning when it had to fall back; a resumed run knows it resumed and its
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
import warnings
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

import keras_latent
from keras_latent import presets
from keras_latent.models import VAE, ImageClassifier
from keras_latent.trainer import MultiPlayerModel, NonFiniteTrainingError, Phase
from keras_latent.utils import files
from keras_latent.utils.files import atomic_write_text
from tests.test_case import tiny_gan, to_numpy

# -- the multi-player trainer ------------------------------------------------------

BATCH = 8
RNG = np.random.RandomState(0)
GOOD = [RNG.rand(BATCH, 3).astype("float32") for _ in range(4)]
NAN = GOOD[0].copy()
NAN[3, 1] = np.nan  # one NaN value


def features(data):
    # A PyDataset's batch may reach the step wrapped in a list.
    return data[0] if isinstance(data, (list, tuple)) else data


class TwoPlayers(MultiPlayerModel):
    """A critic fitted to a target, then a regressor fitted to the critic.

    Deterministic (no noise, SGD), so a run with a skipped batch can be
    compared exactly with a run without it. Both losses read the batch.
    """

    def __init__(self, critic_lr=0.1, regressor_lr=0.1, **kwargs):
        super().__init__(**kwargs)
        init = keras.initializers.GlorotUniform(seed=1)
        self.critic = keras.Sequential(
            [keras.Input((3,)), keras.layers.Dense(4, "tanh", kernel_initializer=init)]
            + [keras.layers.Dense(1, kernel_initializer=init)]
        )
        self.regressor = keras.Sequential(
            [keras.Input((3,)), keras.layers.Dense(1, kernel_initializer=init)]
        )
        self.learning_rates = (critic_lr, regressor_lr)
        self.built = True

    def players(self):
        return {
            "critic": self.critic.trainable_variables,
            "regressor": self.regressor.trainable_variables,
        }

    def default_optimizers(self):
        critic_lr, regressor_lr = self.learning_rates
        return {
            "critic": keras.optimizers.SGD(critic_lr, momentum=0.5),
            "regressor": keras.optimizers.SGD(regressor_lr),
        }

    def build_phases(self):
        return [
            Phase("critic", "critic", self.critic_loss),
            Phase("regressor", "regressor", self.regressor_loss),
        ]

    def critic_loss(self, x, training=True):
        x = features(x)
        target = ops.sum(x**2, axis=1, keepdims=True)
        return ops.mean((self.critic(x) - target) ** 2)

    def regressor_loss(self, x, training=True):
        x = features(x)
        target = ops.stop_gradient(self.critic(x))
        return ops.mean((self.regressor(x) - target) ** 2)

    def call(self, x):
        return self.regressor(x)


class Batches(keras.utils.PyDataset):
    def __init__(self, batches):
        super().__init__()
        self.batches = batches

    def __len__(self):
        return len(self.batches)

    def __getitem__(self, index):
        return self.batches[index]


def as_input(batches, kind):
    """`(x, fit kwargs)` feeding `batches` in order as `kind`."""
    size = len(batches[0])
    if kind == "numpy":
        return np.concatenate(batches), {"batch_size": size, "shuffle": False}
    if kind == "pydataset":
        return Batches(batches), {"shuffle": False}
    data = tf.data.Dataset.from_tensor_slices(np.concatenate(batches))
    return data.batch(size), {}


INPUTS = ["numpy", "pydataset", "tf_data"]


def state(model):
    """Every model and optimizer value, as NumPy."""
    return [to_numpy(v).copy() for v in model.weights + model.optimizer.variables]


def assert_same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_allclose(x, y, rtol=1e-6, atol=1e-7)


def fitted(batches, kind="numpy", compile_kwargs=None, **fit_kwargs):
    model = TwoPlayers()
    model.compile(**(compile_kwargs or {}))
    x, kwargs = as_input(batches, kind)
    history = model.fit(x, epochs=1, verbose=0, **kwargs, **fit_kwargs)
    return model, history


@pytest.mark.parametrize("kind", INPUTS)
def test_a_nan_batch_is_skipped_counted_and_training_goes_on(kind):
    model, history = fitted([GOOD[1], NAN, GOOD[2]], kind)
    # The NaN step changed nothing: the run equals one without that batch.
    reference, _ = fitted([GOOD[1], GOOD[2]])
    assert_same(state(model), state(reference))
    assert all(np.all(np.isfinite(v)) for v in state(model))
    assert history.history["nonfinite_steps"] == [1.0]
    for player in ("critic", "regressor"):
        assert int(to_numpy(model.optimizer[player].iterations)) == 2
    # Phase logs average the applied updates; `loss` shows the NaN.
    assert np.isfinite(history.history["critic_loss"][0])
    assert np.isnan(history.history["loss"][0])


@pytest.mark.parametrize("kind", INPUTS)
def test_nan_batches_in_a_row_stop_fit_naming_the_step(kind):
    model = TwoPlayers()
    model.compile()
    model.fit(GOOD[1], batch_size=BATCH, shuffle=False, verbose=0)
    x, kwargs = as_input([GOOD[2], NAN, NAN, NAN, GOOD[3]], kind)
    with pytest.raises(NonFiniteTrainingError, match="training step 4") as error:
        model.fit(x, epochs=1, verbose=0, **kwargs)
    assert "3 steps in a row" in str(error.value)
    assert "the loss of phase 'critic'" in str(error.value)
    # The model keeps its last finite weights: those after GOOD[2].
    reference = TwoPlayers()
    reference.compile()
    reference.fit(
        np.concatenate([GOOD[1], GOOD[2]]), batch_size=BATCH, shuffle=False, verbose=0
    )
    assert_same(state(model), state(reference))
    assert all(np.all(np.isfinite(v)) for v in state(model))
    # It trains on afterwards.
    model.fit(GOOD[3], batch_size=BATCH, shuffle=False, verbose=0)
    assert int(to_numpy(model.optimizer["critic"].iterations)) == 3


def test_a_finite_step_breaks_the_streak_and_the_limit_is_configurable():
    batches = [GOOD[0], NAN, NAN, GOOD[1], NAN, NAN, GOOD[2]]
    _, history = fitted(batches)
    assert history.history["nonfinite_steps"] == [4.0]
    # Two NaN batches in a row are enough with a limit of 2; no limit never
    # stops.
    with pytest.raises(NonFiniteTrainingError, match="training step 3"):
        fitted(batches, compile_kwargs={"max_nonfinite_steps": 2})
    _, history = fitted([NAN] * 5, compile_kwargs={"max_nonfinite_steps": None})
    assert history.history["nonfinite_steps"] == [5.0]
    with pytest.raises(ValueError, match="max_nonfinite_steps"):
        TwoPlayers().compile(max_nonfinite_steps=0)


def test_a_streak_spans_epochs():
    model = TwoPlayers()
    model.compile(max_nonfinite_steps=3)
    # Two NaN batches per epoch: the third in a row is the next epoch's first.
    with pytest.raises(
        NonFiniteTrainingError, match=r"training step 3 \(epoch 2, batch 1\)"
    ):
        model.fit(
            np.concatenate([NAN, NAN]),
            batch_size=BATCH,
            epochs=3,
            shuffle=False,
            verbose=0,
        )


def test_nan_learning_rate_is_caught():
    model, history = fitted(
        [GOOD[0], GOOD[1]], compile_kwargs={"max_nonfinite_steps": None}
    )
    model.optimizer["regressor"].learning_rate = float("nan")
    regressor = [to_numpy(v).copy() for v in model.regressor.weights]
    critic = [to_numpy(v).copy() for v in model.critic.weights]
    history = model.fit(GOOD[2], batch_size=BATCH, shuffle=False, verbose=0)
    assert history.history["nonfinite_steps"] == [1.0]
    assert_same([to_numpy(v) for v in model.regressor.weights], regressor)
    # The critic's update was finite and applied.
    assert any(
        not np.allclose(to_numpy(v), w) for v, w in zip(model.critic.weights, critic)
    )
    assert np.isnan(history.history["regressor_loss"][0])  # none applied
    model.compile(
        optimizer={
            "critic": keras.optimizers.SGD(0.1),
            "regressor": keras.optimizers.SGD(float("nan")),
        }
    )
    with pytest.raises(
        NonFiniteTrainingError, match="the learning rate of phase 'regressor'"
    ):
        model.fit(np.concatenate(GOOD), batch_size=BATCH, shuffle=False, verbose=0)
    # (The optimizer's own learning rate variable is the NaN.)
    assert all(np.all(np.isfinite(to_numpy(v))) for v in model.weights)


class InfiniteGradient(TwoPlayers):
    """The critic's loss is finite (0) but its gradient is not."""

    def critic_loss(self, x, training=True):
        return ops.mean(ops.sqrt(ops.abs(self.critic(features(x)) * 0.0)))


def test_non_finite_gradients_of_a_finite_loss_are_caught():
    model = InfiniteGradient()
    model.compile()
    before = state(model)
    with pytest.raises(NonFiniteTrainingError, match="the gradients of phase 'critic'"):
        model.fit(np.concatenate(GOOD), batch_size=BATCH, shuffle=False, verbose=0)
    critic = len(model.critic.weights)
    assert_same(state(model)[:critic], before[:critic])


# -- the zoo's WGAN-GP -------------------------------------------------------------

IMAGES = np.random.RandomState(1).rand(48, 8, 8, 1).astype("float32")
NAN_IMAGES = IMAGES.copy()
NAN_IMAGES[20, 3, 4, 0] = np.nan  # one NaN pixel, in the second batch of 16


def image_input(images, kind):
    batches = [images[i : i + 16] for i in range(0, len(images), 16)]
    return as_input(batches, kind)


def critic_state(model):
    return [
        to_numpy(v).copy()
        for v in model.critic.weights + model.optimizer["critic"].variables
    ]


@pytest.mark.parametrize("kind", ["pydataset", "tf_data"])
def test_wgan_gp_skips_a_nan_image_batch(kind):
    model = tiny_gan()
    model.compile()
    model.fit(IMAGES[:16], batch_size=16, verbose=0)
    before = critic_state(model)
    x, kwargs = image_input(NAN_IMAGES[16:32], kind)
    history = model.fit(x, verbose=0, **kwargs)
    assert history.history["nonfinite_steps"] == [1.0]
    # The critic's updates (which read the images) were skipped; the
    # generator's (which do not) were applied, and stay finite.
    assert_same(critic_state(model), before)
    assert all(np.all(np.isfinite(to_numpy(v))) for v in model.weights)
    assert int(to_numpy(model.optimizer["generator"].iterations)) == 2
    x, kwargs = image_input(NAN_IMAGES, kind)
    history = model.fit(x, epochs=2, verbose=0, **kwargs)
    assert history.history["nonfinite_steps"] == [1.0, 1.0]
    assert all(np.all(np.isfinite(to_numpy(v))) for v in model.weights)
    assert np.all(np.isfinite(model.generate(4, seed=0)))


def test_wgan_gp_refuses_a_nan_numpy_array_up_front():
    model = tiny_gan()
    model.compile()
    with pytest.raises(ValueError, match="NaN"):
        model.fit(NAN_IMAGES, batch_size=16, verbose=0)


def test_terminate_on_nan_fires_for_wgan_gp():
    model = tiny_gan()
    model.compile()
    x, kwargs = image_input(NAN_IMAGES, "pydataset")
    seen = []
    history = model.fit(
        x,
        epochs=3,
        verbose=0,
        callbacks=[
            keras.callbacks.TerminateOnNaN(),
            keras.callbacks.LambdaCallback(
                on_train_batch_end=lambda batch, logs: seen.append(batch)
            ),
        ],
        **kwargs,
    )
    assert model.stop_training
    assert seen == [0, 1]  # stopped at the NaN batch
    assert len(history.epoch) == 1
    assert all(np.all(np.isfinite(to_numpy(v))) for v in model.weights)


def test_early_stopping_watches_the_loss():
    model = tiny_gan()
    model.compile()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(
            IMAGES,
            batch_size=16,
            epochs=2,
            verbose=0,
            callbacks=[keras.callbacks.EarlyStopping(monitor="loss", patience=5)],
        )
    assert not [w for w in caught if "not available" in str(w.message)]


def test_mixed_float16_loss_scaling_and_skipping_do_not_fight():
    keras.config.set_dtype_policy("mixed_float16")
    try:
        model = tiny_gan()
        model.compile()
        model.fit(IMAGES[:16], batch_size=16, verbose=0)
        critic = model.optimizer["critic"]
        assert isinstance(critic, keras.optimizers.LossScaleOptimizer)
        scale = float(to_numpy(critic.dynamic_scale))
        before = critic_state(model)
        x, kwargs = image_input(NAN_IMAGES[16:32], "pydataset")
        history = model.fit(x, verbose=0, **kwargs)
        # A NaN batch is the data's fault, not the scale's: skipped before the
        # LossScaleOptimizer sees it, which keeps its scale.
        assert history.history["nonfinite_steps"] == [1.0]
        assert float(to_numpy(critic.dynamic_scale)) == scale
        assert_same(critic_state(model), before)
        # Finite data trains as before, with no step counted as non-finite.
        history = model.fit(IMAGES, batch_size=16, epochs=2, verbose=0)
        assert history.history["nonfinite_steps"] == [0.0, 0.0]
    finally:
        keras.config.set_dtype_policy("float32")


# -- one-optimizer models: Keras's train_step, the zoo's Adam --------------------------


def tiny_vae():
    model = VAE(image_shape=(8, 8, 1), latent_dim=2, hidden_units=(8,), seed=0)
    model.compile(optimizer="adam")
    return model


def tiny_judge():
    model = ImageClassifier(
        image_shape=(8, 8, 1), class_names=["a", "b"], filters=(4,), dense_units=4
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


def all_finite(model):
    return all(np.all(np.isfinite(to_numpy(v))) for v in model.weights)


@pytest.mark.parametrize("kind", INPUTS)
def test_vae_skips_a_nan_batch_from_each_input(kind):
    model = tiny_vae()
    assert isinstance(model.optimizer, keras_latent.optimizers.Adam)
    images = IMAGES[:32].copy()
    images[12, 1, 1, 0] = np.nan  # in the second of four batches
    if kind == "numpy":  # checked up front, before any step
        with pytest.raises(ValueError, match="NaN"):
            model.fit(images, batch_size=8, verbose=0)
        return
    x, kwargs = as_input([images[i : i + 8] for i in range(0, 32, 8)], kind)
    history = model.fit(x, epochs=1, verbose=0, **kwargs)
    assert history.history["nonfinite_steps"] == [1.0]
    assert int(to_numpy(model.optimizer.iterations)) == 3  # of four steps
    assert all_finite(model)
    assert np.all(np.isfinite(model.generate(num_samples=2, seed=0)))
    # Evaluation reports no such log.
    logs = model.evaluate(IMAGES[:8], verbose=0, return_dict=True)
    assert "nonfinite_steps" not in logs


@pytest.mark.parametrize("kind", ["pydataset", "tf_data"])
def test_classifier_skips_a_nan_batch_and_stops_after_a_streak(kind):
    model = tiny_judge()
    labels = np.arange(48) % 2
    images = IMAGES.copy()
    images[20:40, 0, 0, 0] = np.nan  # batches 3, 4 and 5 of six
    batches = [(images[i : i + 8], labels[i : i + 8]) for i in range(0, 48, 8)]
    if kind == "pydataset":
        x = Batches(batches)
    else:
        x = tf.data.Dataset.from_tensor_slices((images, labels)).batch(8)
    with pytest.raises(NonFiniteTrainingError, match="training step 5") as error:
        model.fit(x, epochs=1, verbose=0, shuffle=False)
    assert "3 steps in a row" in str(error.value)
    assert "the gradients" in str(error.value)
    assert int(to_numpy(model.optimizer.iterations)) == 2  # batches 1 and 2
    assert all_finite(model)
    model.compile(
        optimizer="adam",
        loss="sparse_categorical_crossentropy",
        max_nonfinite_steps=None,
    )
    history = model.fit(x, epochs=1, verbose=0, shuffle=False)
    assert history.history["nonfinite_steps"] == [3.0]
    assert all_finite(model)


def test_one_optimizer_nan_learning_rate_keeps_the_weights():
    model = tiny_vae()
    model.fit(IMAGES[:8], batch_size=8, verbose=0)
    before = [to_numpy(v).copy() for v in model.weights]
    model.optimizer.learning_rate = float("nan")
    with pytest.raises(NonFiniteTrainingError, match="the learning rate"):
        model.fit(IMAGES, batch_size=8, shuffle=False, verbose=0)
    assert_same([to_numpy(v) for v in model.weights], before)
    with pytest.raises(ValueError, match="max_nonfinite_steps"):
        model.compile(max_nonfinite_steps=0)


def test_adam_apply_skips_non_finite_gradients():
    optimizer = keras_latent.optimizers.Adam(0.1)
    variable = keras.Variable(np.ones(3, "float32"))
    optimizer.apply([ops.convert_to_tensor([1.0, np.inf, 0.0])], [variable])
    np.testing.assert_array_equal(to_numpy(variable), np.ones(3))
    assert int(to_numpy(optimizer.iterations)) == 0
    assert float(to_numpy(optimizer.pop_update_cause())) == 2.0  # gradients
    assert optimizer.pop_update_cause() is None  # handed over once
    optimizer.apply([ops.convert_to_tensor([1.0, 1.0, 0.0])], [variable])
    assert int(to_numpy(optimizer.iterations)) == 1
    assert to_numpy(variable)[0] < 1.0
    # The same optimizer and config as Keras's Adam.
    config = optimizer.get_config()
    assert keras.optimizers.Adam.from_config(config).get_config() == config


def test_another_optimizer_trains_unchecked_and_a_loaded_model_keeps_adam(
    tmp_path,
):
    model = VAE(image_shape=(8, 8, 1), latent_dim=2, hidden_units=(8,), seed=0)
    model.compile(optimizer=keras.optimizers.SGD(0.01))
    history = model.fit(IMAGES[:16], batch_size=8, verbose=0)
    assert "nonfinite_steps" not in history.history
    model = tiny_vae()
    model.fit(IMAGES[:16], batch_size=8, verbose=0)
    model.save(tmp_path / "vae.keras")
    loaded = keras.saving.load_model(tmp_path / "vae.keras")
    assert isinstance(loaded.optimizer, keras_latent.optimizers.Adam)
    images = IMAGES[:16].copy()
    images[3, 0, 0, 0] = np.nan
    history = loaded.fit(Batches([images[:8], images[8:]]), verbose=0)
    assert history.history["nonfinite_steps"] == [1.0]


MIRRORED_SCRIPT = """
import json, sys
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(
    cpu, [tf.config.LogicalDeviceConfiguration()] * 2
)
import numpy as np
from keras_latent.models import VAE
from tests.test_case import tiny_gan
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
x = np.random.RandomState(0).rand(32, 8, 8, 1).astype("float32")
x[9, 1, 1, 0] = np.nan  # in the second of four batches
data = tf.data.Dataset.from_tensor_slices(x).batch(8)
with strategy.scope():
    vae = VAE(image_shape=(8, 8, 1), latent_dim=2, hidden_units=(8,), seed=0)
    vae.compile(optimizer="adam")
    gan = tiny_gan()
    gan.compile()
result = {}
for name, model in (("vae", vae), ("gan", gan)):
    history = model.fit(data, verbose=0)  # outside the scope, as users do
    result[name] = {
        "nonfinite_steps": history.history["nonfinite_steps"],
        "finite": bool(all(np.isfinite(w.numpy()).all() for w in model.weights)),
    }
result["vae"]["iterations"] = int(vae.optimizer.iterations.numpy())
json.dump(result, sys.stdout)
"""


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="tf.distribute is TensorFlow's"
)
def test_mirrored_strategy_skips_a_nan_batch_once_on_every_replica():
    env = dict(os.environ, KERAS_BACKEND="tensorflow", PYTHONPATH=str(REPO))
    done = subprocess.run(
        [sys.executable, "-c", MIRRORED_SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    # One step skipped, counted once (not once per replica), weights finite.
    assert result["vae"] == {"nonfinite_steps": [1.0], "finite": True, "iterations": 3}
    assert result["gan"] == {"nonfinite_steps": [1.0], "finite": True}


# -- checkpoints, resumed runs and preset saves ------------------------------------

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


def assert_identical(a, b):
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
    assert_identical(snapshots.at_start, after_epoch[1])
    assert len(history.history["loss"]) == EPOCHS - 1
    assert not backup_dir.exists()  # a finished fit leaves nothing to resume


def test_corrupt_newest_training_state_falls_back_to_the_previous_one(tmp_path):
    backup_dir = tmp_path / "backup"
    after_epoch = interrupted_run(backup_dir)
    (backup_dir / "training_metadata.json").write_text('{"epo')
    with pytest.warns(UserWarning, match="training_metadata.json' is corrupt"):
        backup, snapshots, _ = rerun(backup_dir)
    assert backup.resumed_after_epoch == 1
    assert_identical(snapshots.at_start, after_epoch[1])


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
    assert_identical(snapshots.at_start, after_epoch[1])
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

"""Fault injection into training: NaN batches and NaN learning rates.

The multi-player trainer skips every phase update whose loss, gradients or
learning rate is not finite, counts the steps with one in `nonfinite_steps`,
and stops `fit` after `max_nonfinite_steps` of them in a row, naming the
step and the value. A NaN batch is tried from each input type (a NumPy
array, a `keras.utils.PyDataset`, a `tf.data.Dataset`), on whichever backend
KERAS_BACKEND selects. (Checkpoint faults: tests/fault_injection_checkpoints_test.py.)
"""

import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from keras_latent.trainer import MultiPlayerModel, NonFiniteTrainingError, Phase
from tests.test_case import tiny_gan, to_numpy

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

"""`keras_latent.optimizers`: Keras's update, faster where a backend needs it."""

import keras
import numpy as np
import pytest

import keras_latent
from keras_latent.models import VAE
from tests.test_case import assert_same_weights, to_numpy

SETTINGS = [
    {"learning_rate": 1e-2},
    {"learning_rate": 1e-2, "beta_1": 0.0, "beta_2": 0.9},
    {"learning_rate": 1e-2, "amsgrad": True},
    {"learning_rate": 1e-2, "clipnorm": 0.5, "weight_decay": 0.1},
    {"learning_rate": 1e-2, "use_ema": True, "ema_overwrite_frequency": 2},
    {"learning_rate": 1e-2, "gradient_accumulation_steps": 2},
    {
        "learning_rate": keras.optimizers.schedules.ExponentialDecay(
            1e-2, decay_steps=1, decay_rate=0.5
        )
    },
]


def _updates(optimizer, steps=4):
    """Variables and optimizer state after `steps` `apply` calls."""
    shapes = [(40, 30), (30,), (3, 3, 2, 4)]
    rng = np.random.default_rng(0)
    variables = [keras.Variable(rng.normal(size=s).astype("float32")) for s in shapes]
    optimizer.build(variables)
    for _ in range(steps):
        grads = [
            keras.ops.convert_to_tensor(rng.normal(size=s).astype("float32"))
            for s in shapes
        ]
        if keras.backend.backend() == "torch":
            import torch

            with torch.no_grad():  # as Keras's torch trainer applies them
                optimizer.apply(grads, variables)
        else:
            optimizer.apply(grads, variables)
    return [to_numpy(v) for v in variables + optimizer.variables]


@pytest.mark.parametrize("kwargs", SETTINGS)
def test_adam_matches_keras_adam(kwargs):
    expected = _updates(keras.optimizers.Adam(**kwargs))
    actual = _updates(keras_latent.optimizers.Adam(**kwargs))
    assert len(actual) == len(expected)
    for a, b in zip(actual, expected):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.skipif(keras.backend.backend() != "torch", reason="torch's own update")
@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_updates_in_place_on_torch(monkeypatch, amsgrad):
    from keras_latent.trainer.backends import torch as torch_backend

    calls = []
    update = torch_backend.adam_update
    monkeypatch.setattr(
        torch_backend,
        "adam_update",
        lambda *args: calls.append(update(*args)) or calls[-1],
    )
    optimizer = keras_latent.optimizers.Adam(1e-2, amsgrad=amsgrad)
    _updates(optimizer, steps=3)
    assert calls == [True, True, True]
    assert int(optimizer.iterations) == 3


def test_adam_config_round_trip():
    optimizer = keras_latent.optimizers.Adam(3e-4, beta_1=0.0, beta_2=0.9)
    restored = keras.optimizers.deserialize(keras.optimizers.serialize(optimizer))
    assert type(restored) is keras_latent.optimizers.Adam
    assert restored.get_config() == optimizer.get_config()


def test_vae_fits_alike_with_keras_adam_and_zoo_adam(tmp_path):
    """Keras's stock trainer gives the same weights with either optimizer, and
    the zoo's Adam and its state come back from a `.keras` file."""
    images = np.random.default_rng(0).random((48, 8, 8, 1)).astype("float32")
    models = []
    for optimizer in (keras.optimizers.Adam(1e-3), keras_latent.optimizers.Adam(1e-3)):
        keras.utils.set_random_seed(7)
        model = VAE(image_shape=(8, 8, 1), latent_dim=2, hidden_units=(16,), seed=7)
        model.compile(optimizer=optimizer)
        model.fit(images, batch_size=16, epochs=2, shuffle=False, verbose=0)
        models.append(model)
    for a, b in zip(models[0].weights, models[1].weights):
        np.testing.assert_allclose(to_numpy(b), to_numpy(a), rtol=1e-5, atol=1e-6)

    path = tmp_path / "vae.keras"
    models[1].save(path)
    restored = keras.saving.load_model(path)
    assert type(restored.optimizer) is keras_latent.optimizers.Adam
    assert int(restored.optimizer.iterations) == 6
    assert_same_weights(restored, models[1])

"""Shared checks for the zoo's models: round trips and short training runs."""

from __future__ import annotations

import keras
import numpy as np

import keras_latent
from keras_latent.models import WGANGP


def tiny_gan(model_class=WGANGP, **kwargs):
    """An 8×8 WGAN-GP small enough for fast tests on every backend."""
    config = dict(
        image_shape=(8, 8, 1),
        latent_dim=4,
        generator_filters=(8, 4),
        critic_filters=(4, 8),
        critic_steps=2,
        seed=3,
    )
    config.update(kwargs)
    return model_class(**config)


def to_numpy(x):
    return keras.ops.convert_to_numpy(x)


def assert_numpy_float32(x, shape=None):
    """`x` is a float32 NumPy array, not a backend tensor (no autograd history).

    `np.asarray` of a torch tensor that requires grad raises; of a NumPy
    array it is the array itself.
    """
    assert type(x) is np.ndarray, type(x)
    assert x.dtype == np.float32, x.dtype
    assert np.asarray(x) is x
    if shape is not None:
        assert x.shape == tuple(shape), (x.shape, shape)


def assert_numpy_bool(x, shape=None):
    """`x` is a bool NumPy array (a verdict), not a backend tensor."""
    assert type(x) is np.ndarray, type(x)
    assert x.dtype == np.bool_, x.dtype
    if shape is not None:
        assert x.shape == tuple(shape), (x.shape, shape)


def assert_same_weights(a, b):
    assert len(a.weights) == len(b.weights)
    for va, vb in zip(a.weights, b.weights):
        np.testing.assert_allclose(to_numpy(va), to_numpy(vb), err_msg=va.path)


def assert_reads_pixels(method, images):
    """`method` reads uint8 as pixels / 255 and a list of images as their stack.

    `images` are floats in [0, 1]; rounding them to uint8 pixels first makes
    both sides see exactly the same values.
    """
    pixels = np.round(images * 255).astype("uint8")
    floats = pixels.astype("float32") / 255
    expected = method(floats)
    np.testing.assert_allclose(method(pixels), expected, atol=1e-6)
    np.testing.assert_allclose(method(list(floats)), expected, atol=1e-6)


class TestCase:
    """Helpers in the spirit of keras-hub's `TestCase`, for pytest classes."""

    def run_serialization_test(self, model, outputs_fn, tmp_path):
        """get_config → from_config, `.keras` and preset round trips.

        `outputs_fn(model)` must be deterministic given the weights.
        """
        expected = to_numpy(outputs_fn(model))

        config = model.get_config()
        clone = type(model).from_config(config)
        assert clone.get_config() == config
        clone.set_weights(model.get_weights())
        np.testing.assert_allclose(to_numpy(outputs_fn(clone)), expected, atol=1e-6)

        path = tmp_path / "model.keras"
        model.save(path)
        restored = keras.saving.load_model(path)
        assert type(restored) is type(model)
        np.testing.assert_allclose(to_numpy(outputs_fn(restored)), expected, atol=1e-6)

        preset = tmp_path / "preset"
        model.save_to_preset(preset, metadata={"note": "test"})
        for name in ("config.json", "model.weights.h5", "metadata.json"):
            assert (preset / name).is_file()
        loaded = keras_latent.from_preset(preset)
        assert type(loaded) is type(model)
        np.testing.assert_allclose(to_numpy(outputs_fn(loaded)), expected, atol=1e-6)
        assert type(model).from_preset(preset).get_config() == config
        metadata = keras_latent.load_preset_metadata(preset)
        assert metadata["note"] == "test"
        assert metadata["backend"] == keras.backend.backend()
        assert metadata["parameter_count"] == sum(
            int(np.prod(v.shape)) for v in model.trainable_weights
        )
        return loaded

    def run_fit_test(self, model, data, loss_key, epochs=4, batch_size=16):
        """A few epochs of `fit` on fixed data lower `loss_key`."""
        x, y = data if isinstance(data, tuple) else (data, None)
        history = model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0)
        losses = history.history[loss_key]
        assert np.all(np.isfinite(losses)), losses
        assert losses[-1] < losses[0], losses
        return history

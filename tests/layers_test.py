"""The shared network builders: the fast `Sequential` and the conv layout."""

import keras
import numpy as np
import pytest
from keras import layers

from keras_latent.layers import stacks
from tests.test_case import to_numpy


def stock_conv_encoder(image_shape, filters, output_dim):
    stack = [keras.Input(image_shape)]
    for count in filters:
        stack += [
            layers.Conv2D(count, 4, strides=2, padding="same"),
            layers.Activation("relu"),
        ]
    return keras.Sequential([*stack, layers.Flatten(), layers.Dense(output_dim)])


def stock_conv_decoder(latent_dim, filters, image_shape):
    height, width = (
        image_shape[0] // 2 ** len(filters),
        image_shape[1] // 2 ** len(filters),
    )
    stack = [
        keras.Input((latent_dim,)),
        layers.Dense(height * width * filters[0]),
        layers.BatchNormalization(),
        layers.ReLU(),
        layers.Reshape((height, width, filters[0])),
    ]
    for count in filters[1:]:
        stack += [
            layers.Conv2DTranspose(count, 4, strides=2, padding="same"),
            layers.BatchNormalization(),
            layers.ReLU(),
        ]
    stack.append(layers.Conv2DTranspose(image_shape[-1], 4, strides=2, padding="same"))
    return keras.Sequential(stack)


def test_sequential_matches_keras_sequential_and_shares_weight_files(tmp_path):
    def stack():
        return [
            keras.Input((6,)),
            layers.Dense(5, activation="relu"),
            layers.BatchNormalization(),
            layers.Dropout(0.5, seed=1),
            layers.Dense(3),
        ]

    stock = keras.Sequential(stack())
    fast = stacks.Sequential(stack())
    stock.save_weights(tmp_path / "stock.weights.h5")
    fast.load_weights(tmp_path / "stock.weights.h5")
    x = np.random.default_rng(0).normal(size=(4, 6)).astype("float32")
    np.testing.assert_allclose(
        to_numpy(fast(x, training=False)), to_numpy(stock(x, training=False)), atol=1e-6
    )
    # `training` reaches the layers: Dropout and BatchNorm act differently.
    assert not np.allclose(to_numpy(fast(x, training=True)), to_numpy(fast(x)))
    fast.save_weights(tmp_path / "fast.weights.h5")
    stock.load_weights(tmp_path / "fast.weights.h5")


def test_sequential_passes_training_through_stateless_call():
    network = stacks.Sequential(
        [keras.Input((6,)), layers.Dense(6), layers.Dropout(0.9, seed=1)]
    )
    x = np.ones((4, 6), "float32")
    trainable = [v.value for v in network.trainable_variables]
    non_trainable = [v.value for v in network.non_trainable_variables]
    inference, _ = network.stateless_call(trainable, non_trainable, x, training=False)
    training, _ = network.stateless_call(trainable, non_trainable, x, training=True)
    np.testing.assert_allclose(to_numpy(inference), to_numpy(network(x)), atol=1e-6)
    assert not np.allclose(to_numpy(training), to_numpy(inference))


def test_sequential_is_registered_for_configs():
    network = stacks.Sequential([keras.Input((3,)), layers.Dense(2)])
    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(network)
    )
    assert type(restored) is stacks.Sequential
    assert restored.layers[-1].units == 2


def test_conv_data_format_is_the_backend_native_one():
    expected = (
        "channels_first" if keras.backend.backend() == "torch" else ("channels_last")
    )
    assert stacks.conv_data_format() == expected


@pytest.mark.parametrize("training", [False, True])
def test_conv_networks_match_channels_last_networks_weight_for_weight(training):
    # Whatever layout the backend runs in, the zoo's conv networks compute
    # the same function of the same weights as stock channels-last networks:
    # this is what keeps presets interchangeable across backends.
    image_shape, filters, latent_dim = (8, 8, 3), (4, 6), 5
    encoder = stacks.conv_image_encoder(image_shape, filters, 2 * latent_dim)
    stock_encoder = stock_conv_encoder(image_shape, filters, 2 * latent_dim)
    stock_encoder.set_weights(encoder.get_weights())
    images = np.random.default_rng(1).random((3, *image_shape)).astype("float32")
    np.testing.assert_allclose(
        to_numpy(encoder(images)), to_numpy(stock_encoder(images)), atol=1e-5
    )

    decoder = stacks.conv_image_decoder(
        latent_dim, filters[::-1], image_shape, batch_norm=True
    )
    stock_decoder = stock_conv_decoder(latent_dim, filters[::-1], image_shape)
    stock_decoder.set_weights(decoder.get_weights())
    z = np.random.default_rng(2).normal(size=(3, latent_dim)).astype("float32")
    outputs = decoder(z, training=training)
    assert tuple(outputs.shape) == (3, *image_shape)
    np.testing.assert_allclose(
        to_numpy(outputs), to_numpy(stock_decoder(z, training=training)), atol=1e-5
    )


def test_classifier_matches_a_channels_last_classifier():
    from keras_latent.models import ImageClassifier

    judge = ImageClassifier(image_shape=(8, 8, 3), filters=(4, 6), dense_units=7)
    stack = [keras.Input((8, 8, 3))]
    for count in (4, 6):
        stack += [
            layers.Conv2D(count, 3, padding="same", activation="relu"),
            layers.Conv2D(count, 3, padding="same", activation="relu"),
            layers.MaxPooling2D(),
        ]
    stack += [
        layers.Flatten(),
        layers.Dense(7, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ]
    stock = keras.Sequential(stack)
    stock.set_weights(judge.get_weights())
    images = np.random.default_rng(3).random((2, 8, 8, 3)).astype("float32")
    np.testing.assert_allclose(
        judge.predict_proba(images), to_numpy(stock(images)), atol=1e-6
    )


def _count_layer_calls(monkeypatch):
    """Counts `Layer.__call__` by the layer's name."""
    calls = []
    stock_call = keras.layers.Layer.__call__

    def counting_call(self, *args, **kwargs):
        calls.append(self.name)
        return stock_call(self, *args, **kwargs)

    monkeypatch.setattr(keras.layers.Layer, "__call__", counting_call)
    return calls


def test_plain_layers_run_their_call_directly_with_stock_results(monkeypatch):
    def stack(dtype="float32"):
        return [
            keras.Input((5,)),
            layers.Dense(2 * 2 * 3, dtype=dtype),
            layers.BatchNormalization(dtype=dtype),
            layers.LeakyReLU(0.2, dtype=dtype),
            layers.Reshape((2, 2, 3), dtype=dtype),
            layers.Conv2DTranspose(4, 4, strides=2, padding="same", dtype=dtype),
            layers.Dropout(0.5, seed=3, dtype=dtype),
            layers.Conv2D(2, 3, padding="same", activation="relu", dtype=dtype),
            layers.MaxPooling2D(dtype=dtype),
            layers.Flatten(dtype=dtype),
            layers.Dense(1, dtype=dtype),
        ]

    stock = keras.Sequential(stack(), name="stock")
    fast = stacks.Sequential(stack(), name="fast")
    fast.set_weights(stock.get_weights())
    x = np.random.default_rng(0).normal(size=(6, 5)).astype("float32")

    calls = _count_layer_calls(monkeypatch)
    np.testing.assert_allclose(
        to_numpy(fast(x, training=False)), to_numpy(stock(x, training=False)), atol=1e-5
    )
    # The fast network's layers ran without their own `__call__`.
    assert calls.count("fast") == 1 and len(calls) == 1 + len(stock.layers) + 1
    # Training: batch statistics, and the same moving-statistics update.
    fast(x, training=True)
    stock(x, training=True)
    for got, want in zip(fast.non_trainable_weights, stock.non_trainable_weights):
        np.testing.assert_allclose(to_numpy(got), to_numpy(want), atol=1e-6)
    assert np.abs(to_numpy(fast.layers[1].moving_mean)).max() > 0

    # A layer that is not plain (here: mixed precision) sends every layer
    # through `Layer.__call__` again, and the results still agree.
    mixed = stacks.Sequential(stack("mixed_float16"))
    mixed.set_weights(stock.get_weights())
    calls.clear()
    np.testing.assert_allclose(
        to_numpy(mixed(x)), to_numpy(stock(x)), atol=2e-2, rtol=2e-2
    )
    assert len(calls) == 1 + len(stock.layers) + 1 + len(stock.layers)


def test_symbolic_calls_still_build_functional_graphs():
    network = stacks.Sequential([keras.Input((3,)), layers.Dense(2)])
    inputs = keras.Input((3,))
    model = keras.Model(inputs, network(inputs))
    x = np.ones((1, 3), "float32")
    np.testing.assert_allclose(to_numpy(model(x)), to_numpy(network(x)), atol=1e-6)

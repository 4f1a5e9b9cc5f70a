"""The zoo's models under Keras's mixed-precision dtype policies.

Networks compute in bfloat16 or float16; the models' own math, losses and
gradient penalties stay float32, and under "mixed_float16" every player's
optimizer scales its loss, as Keras does for a single optimizer.
"""

import keras
import numpy as np
import pytest

from tests.latent_constraints_test import IMAGES, LABELS, tiny_lc
from tests.test_case import assert_numpy_float32, tiny_gan, to_numpy
from tests.vae_test import tiny_vae

POLICIES = ["mixed_bfloat16", "mixed_float16"]


@pytest.fixture
def policy(request):
    keras.config.set_dtype_policy(request.param)
    yield request.param
    keras.config.set_dtype_policy("float32")


def _weights(model):
    return [to_numpy(v).copy() for v in model.trainable_weights]


def _moved(before, model):
    return any(
        not np.array_equal(a, to_numpy(b))
        for a, b in zip(before, model.trainable_weights)
    )


def _assert_finite(history):
    for key, values in history.history.items():
        assert np.all(np.isfinite(values)), (key, values)


def _assert_trains_and_generates_float32(model):
    before = _weights(model)
    _assert_finite(model.fit(IMAGES, batch_size=16, epochs=2, verbose=0))
    assert _moved(before, model)
    samples = model.generate(3, seed=0)
    assert samples.dtype == np.float32 and np.all(np.isfinite(samples))


@pytest.mark.parametrize("policy", POLICIES, indirect=True)
def test_vae_trains_and_generates_float32(policy):
    model = tiny_vae()
    assert model.encoder.compute_dtype == policy.split("_")[1]
    model.compile(optimizer="adam")
    _assert_trains_and_generates_float32(model)
    # 16-bit networks, float32 NumPy out.
    mean, std = model.encode(IMAGES[:3])
    assert_numpy_float32(mean, (3, 3))
    assert_numpy_float32(std, (3, 3))
    assert_numpy_float32(model.decode(mean), (3, 8, 8, 1))
    assert_numpy_float32(model.reconstruct(IMAGES[:3]), (3, 8, 8, 1))
    assert_numpy_float32(model.negative_elbo(IMAGES[:3]), (3,))


@pytest.mark.parametrize("policy", POLICIES, indirect=True)
def test_wgan_gp_trains_and_generates_float32(policy):
    model = tiny_gan()
    model.compile()
    for player in ("critic", "generator"):
        wrapped = isinstance(
            model.optimizer[player], keras.optimizers.LossScaleOptimizer
        )
        assert wrapped == (policy == "mixed_float16")
    _assert_trains_and_generates_float32(model)


@pytest.mark.parametrize("policy", POLICIES, indirect=True)
def test_latent_constraints_trains(policy):
    model = tiny_lc()
    model.compile()
    posteriors = model.encode_posteriors(IMAGES)
    model.compute_statistics(posteriors, LABELS)
    before = _weights(model.critic) + _weights(model.actor)
    _assert_finite(model.fit(posteriors, LABELS, batch_size=16, epochs=2, verbose=0))
    after = _weights(model.critic) + _weights(model.actor)
    assert any(not np.array_equal(a, b) for a, b in zip(before, after))

    # A new attribute critic, and the edits and samples that use it.
    _assert_finite(
        model.fit_attribute_critic(
            IMAGES, LABELS[:, :1], ["c"], hidden_units=(8,), epochs=1, verbose=0
        )
    )
    for outputs in (
        model.transform(IMAGES[:4], {"c": 1}, method="optimize"),
        model.transform(IMAGES[:4], {"a": 1}, method="actor"),
        model.generate({"a": 1}, num_samples=4, seed=0),
    ):
        assert outputs.dtype == np.float32 and np.all(np.isfinite(outputs))
    assert_numpy_float32(model.apply_actor(posteriors["z_mean"][:4], LABELS[:4]))
    scores = model.attribute_scores(IMAGES[:4], ["c"])["c"]
    assert scores.dtype == np.float32 and np.all((scores >= 0) & (scores <= 1))


@pytest.mark.parametrize("policy", ["mixed_float16"], indirect=True)
def test_loss_scaled_player_optimizers_survive_a_keras_file(policy, tmp_path):
    model = tiny_gan()
    model.compile()
    model.fit(IMAGES, batch_size=16, epochs=1, verbose=0)
    path = tmp_path / "gan.keras"
    model.save(path)
    restored = keras.saving.load_model(path)
    for player in ("critic", "generator"):
        optimizer = restored.optimizer[player]
        # Wrapped once, not once more by the restored model's compile.
        assert isinstance(optimizer, keras.optimizers.LossScaleOptimizer)
        assert not isinstance(
            optimizer.inner_optimizer, keras.optimizers.LossScaleOptimizer
        )
        np.testing.assert_allclose(
            to_numpy(optimizer.dynamic_scale),
            to_numpy(model.optimizer[player].dynamic_scale),
        )
    _assert_finite(restored.fit(IMAGES, batch_size=16, epochs=1, verbose=0))


def test_loss_scale_factor_is_divided_back_out():
    """A player optimizer's `loss_scale_factor` scales the loss the trainer
    differentiates, and `apply` divides it out: SGD then takes the same step."""
    results = []
    for factor in (None, 64.0):
        keras.utils.set_random_seed(5)
        model = tiny_gan()
        model.compile(
            optimizer={
                p: keras.optimizers.SGD(1e-2, loss_scale_factor=factor)
                for p in ("critic", "generator")
            }
        )
        model.fit(IMAGES[:32], batch_size=16, epochs=1, shuffle=False, verbose=0)
        results.append(_weights(model))
    for a, b in zip(*results):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("policy", POLICIES, indirect=True)
def test_classifier_trains_and_outputs_float32_probabilities(policy):
    from keras_latent.models import ImageClassifier

    model = ImageClassifier(
        image_shape=(8, 8, 1), class_names=("a", "b"), filters=(4,), dense_units=8
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    labels = (IMAGES.mean(axis=(1, 2, 3)) > 0.5).astype("int32")
    _assert_finite(model.fit(IMAGES, labels, batch_size=16, epochs=2, verbose=0))
    probabilities = model.predict_proba(IMAGES[:4])
    assert probabilities.dtype == np.float32
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)

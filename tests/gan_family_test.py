"""The GAN family: its losses, regularisers and models (GAN, CGAN, ACGAN, WGANGP)."""

import json

import keras
import numpy as np
import pytest
from keras import layers, ops

from keras_latent import losses
from keras_latent.layers import (
    ClipWeights,
    MinibatchDiscrimination,
    SpectralNormalization,
)
from keras_latent.models import ACGAN, CGAN, GAN, WGANGP
from keras_latent.models.gan import ARCHITECTURES
from keras_latent.trainer import input_gradients
from tests.test_case import TestCase, assert_numpy_float32, tiny_gan, to_numpy

ATTRIBUTES = ("a", "b", "c")
IMAGES = np.random.RandomState(0).rand(16, 8, 8, 1).astype("float32")
CLASS_IDS = np.arange(16) % 3
ONE_HOT = np.eye(3, dtype="float32")[CLASS_IDS]


def tiny_mlp(model_class=GAN, **kwargs):
    """`tiny_gan`'s 8×8 images with the cheaper MLP players."""
    config = dict(architecture="mlp", hidden_units=(8,), critic_steps=1)
    config.update(kwargs)
    return tiny_gan(model_class, **config)


def tiny_conditional(model_class=CGAN, **kwargs):
    return tiny_mlp(model_class, attribute_names=ATTRIBUTES, **kwargs)


def snapshot(variables):
    return [to_numpy(v).copy() for v in variables]


def changed(before, variables):
    return [not np.allclose(b, to_numpy(v)) for b, v in zip(before, variables)]


def top_singular_value(matrix):
    matrix = np.asarray(matrix, "float64")
    return np.linalg.svd(matrix.reshape(-1, matrix.shape[-1]), compute_uv=False)[0]


# -- the named losses and the penalties ---------------------------------------------

D_REAL = np.array([-2.0, -0.5, 0.0, 0.7, 3.0], "float32")
D_FAKE = np.array([1.5, -1.0, 0.2, -3.0, 0.4], "float32")


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-np.asarray(x, "float64")))


def _expected_pairs(d_r, d_f):
    """(discriminator, generator) losses of each name, from their formulas."""
    logistic = np.mean(-np.log(_sigmoid(d_r))) + np.mean(-np.log(1 - _sigmoid(d_f)))
    wasserstein = (np.mean(d_f) - np.mean(d_r), -np.mean(d_f))
    return {
        "minimax": (logistic, np.mean(np.log(1 - _sigmoid(d_f)))),
        "non_saturating": (logistic, np.mean(-np.log(_sigmoid(d_f)))),
        "least_squares": (
            0.5 * np.mean((d_r - 1.0) ** 2) + 0.5 * np.mean(d_f**2),
            0.5 * np.mean((d_f - 1.0) ** 2),
        ),
        "wasserstein": wasserstein,
        "wasserstein_gp": wasserstein,
        "hinge": (
            np.mean(np.maximum(0, 1 - d_r)) + np.mean(np.maximum(0, 1 + d_f)),
            -np.mean(d_f),
        ),
    }


EXPECTED_LOSSES = _expected_pairs(D_REAL, D_FAKE)


def test_the_loss_names_are_the_documented_six():
    assert set(losses.ADVERSARIAL_LOSSES) == set(EXPECTED_LOSSES)
    for name, pair in losses.ADVERSARIAL_LOSSES.items():
        assert pair.name == name
        assert losses.adversarial_loss(name) is pair


@pytest.mark.parametrize("name", sorted(EXPECTED_LOSSES))
def test_each_loss_pair_matches_its_formula(name):
    pair = losses.adversarial_loss(name)
    discriminator, generator = EXPECTED_LOSSES[name]
    np.testing.assert_allclose(
        to_numpy(pair.discriminator(D_REAL, D_FAKE)), discriminator, rtol=1e-5
    )
    np.testing.assert_allclose(to_numpy(pair.generator(D_FAKE)), generator, rtol=1e-5)


def test_minimax_generator_saturates_where_non_saturating_does_not():
    minimax = losses.adversarial_loss("minimax").generator
    non_saturating = losses.adversarial_loss("non_saturating").generator
    assert not np.isclose(to_numpy(minimax(D_FAKE)), to_numpy(non_saturating(D_FAKE)))
    # Confidently rejected samples, d_f = −10: d/dd_f of the minimax loss is
    # −σ(d_f)/N ≈ 0, of the non-saturating one −(1 − σ(d_f))/N ≈ −1/N.
    rejected = np.full((4,), -10.0, "float32")
    _, minimax_grad = input_gradients(minimax, rejected)
    _, strong_grad = input_gradients(non_saturating, rejected)
    np.testing.assert_allclose(to_numpy(minimax_grad), -_sigmoid(-10.0) / 4, rtol=1e-3)
    np.testing.assert_allclose(
        to_numpy(strong_grad), -(1 - _sigmoid(-10.0)) / 4, rtol=1e-4
    )


def test_the_wasserstein_losses_share_one_pair():
    clipped = losses.adversarial_loss("wasserstein")
    penalised = losses.adversarial_loss("wasserstein_gp")
    assert clipped.discriminator is penalised.discriminator
    assert clipped.generator is penalised.generator


def test_unknown_loss_name_lists_the_valid_names():
    with pytest.raises(ValueError, match="'nope'") as info:
        losses.adversarial_loss("nope")
    for name in EXPECTED_LOSSES:
        assert repr(name) in str(info.value)


def test_feature_matching_loss_matches_numpy_and_stops_real_gradients():
    rng = np.random.default_rng(0)
    real = rng.normal(size=(6, 5)).astype("float32")
    fake = rng.normal(size=(4, 5)).astype("float32")
    expected = np.sum((real.mean(axis=0) - fake.mean(axis=0)) ** 2)
    value = losses.feature_matching_loss(real, fake)
    np.testing.assert_allclose(to_numpy(value), expected, rtol=1e-5)
    assert to_numpy(losses.feature_matching_loss(real, real)) == pytest.approx(0.0)
    # The generator's side carries the gradient, the real side none.
    # (`0·Σr` keeps r in the graph, where torch needs it.)
    _, real_grad = input_gradients(
        lambda r: losses.feature_matching_loss(r, fake) + 0.0 * ops.sum(r), real
    )
    _, fake_grad = input_gradients(
        lambda f: losses.feature_matching_loss(real, f), fake
    )
    np.testing.assert_allclose(to_numpy(real_grad), 0.0)
    expected_grad = -2 * (real.mean(0) - fake.mean(0)) / len(fake)
    np.testing.assert_allclose(
        to_numpy(fake_grad), np.broadcast_to(expected_grad, fake.shape), rtol=1e-4
    )


def test_r1_penalty_of_a_linear_critic_is_the_squared_weight_norm():
    # D(x) = x·w has ∇D = w everywhere: the penalty is ‖w‖², over all axes.
    w = np.random.default_rng(1).normal(size=(2 * 3 * 2, 1)).astype("float32")
    x = np.random.default_rng(2).random((4, 2, 3, 2)).astype("float32")

    def critic(t):
        return ops.matmul(ops.reshape(t, (ops.shape(t)[0], -1)), w)

    penalty = losses.r1_penalty(critic, x)
    np.testing.assert_allclose(to_numpy(penalty), np.sum(w**2), rtol=1e-5)


def test_r1_penalty_averages_per_example_squared_norms():
    # D(x) = ½‖x‖² has ∇D = x: the penalty is the batch mean of ‖x‖².
    x = np.random.default_rng(3).normal(size=(5, 3)).astype("float32")
    penalty = losses.r1_penalty(lambda t: 0.5 * ops.sum(t**2, axis=1), x)
    np.testing.assert_allclose(to_numpy(penalty), np.mean(np.sum(x**2, 1)), rtol=1e-5)


# -- regulariser layers ---------------------------------------------------------------


@pytest.mark.parametrize(
    "make_layer, input_shape",
    [
        (lambda: layers.Dense(6), (5, 10)),
        (lambda: layers.Conv2D(4, 3, padding="same"), (2, 6, 6, 3)),
    ],
    ids=["dense", "conv2d"],
)
def test_spectral_norm_bounds_the_top_singular_value(make_layer, input_shape):
    rng = np.random.default_rng(0)
    x = rng.normal(size=input_shape).astype("float32")
    layer = SpectralNormalization(make_layer())
    layer(x)
    kernel = layer.layer.kernel
    kernel.assign(3.0 * rng.normal(size=kernel.shape).astype("float32"))
    raw = to_numpy(kernel).copy()
    assert top_singular_value(raw) > 2.0
    u_before = to_numpy(layer.vector_u).copy()

    layer(x)  # inference: u stays
    np.testing.assert_array_equal(to_numpy(layer.vector_u), u_before)
    for _ in range(10):
        layer(x, training=True)
    assert not np.allclose(to_numpy(layer.vector_u), u_before)
    # The variable keeps W; only the forward pass divides by σ(W).
    np.testing.assert_array_equal(to_numpy(kernel), raw)

    effective = to_numpy(layer.normalized_kernel()[1])
    assert abs(top_singular_value(effective) - 1.0) < 0.05
    scale = raw.ravel() @ effective.ravel() / (effective.ravel() @ effective.ravel())
    np.testing.assert_allclose(effective * scale, raw, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(scale, top_singular_value(raw), rtol=0.05)

    # The wrapped layer computes with the normalised kernel.
    plain = make_layer()
    plain(x)
    plain.set_weights([effective, to_numpy(layer.layer.bias)])
    np.testing.assert_allclose(to_numpy(layer(x)), to_numpy(plain(x)), atol=1e-5)


def test_spectral_norm_round_trips_through_its_config():
    x = np.random.default_rng(0).normal(size=(3, 4)).astype("float32")
    layer = SpectralNormalization(layers.Dense(2), power_iterations=3)
    layer(x, training=True)
    config = layer.get_config()
    assert config["power_iterations"] == 3
    json.dumps(config)
    clone = SpectralNormalization.from_config(config)
    clone(x)
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(to_numpy(clone(x)), to_numpy(layer(x)), atol=1e-6)

    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(layer), safe_mode=True
    )
    assert type(restored) is SpectralNormalization
    assert restored.power_iterations == 3


def test_minibatch_discrimination_matches_numpy():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(5, 4)).astype("float32")
    layer = MinibatchDiscrimination(num_kernels=3, kernel_dim=2)
    output = to_numpy(layer(features))
    kernel = to_numpy(layer.kernel)
    assert kernel.shape == (4, 6)
    rows = (features @ kernel).reshape(5, 3, 2)
    distances = np.abs(rows[:, None] - rows[None]).sum(-1)  # (5, 5, 3)
    closeness = np.exp(-distances).sum(axis=1) - 1.0
    expected = np.concatenate([features, closeness], axis=-1)
    np.testing.assert_allclose(output, expected, rtol=1e-4, atol=1e-6)
    assert layer.compute_output_shape((None, 4)) == (None, 7)

    # Each copy in a batch of copies is at distance 0 from the others.
    copies = np.repeat(features[:1], 4, axis=0)
    np.testing.assert_allclose(to_numpy(layer(copies))[:, 4:], 3.0, rtol=1e-6)


def test_minibatch_discrimination_config_and_bad_arguments():
    layer = MinibatchDiscrimination(num_kernels=2, kernel_dim=3)
    clone = MinibatchDiscrimination.from_config(layer.get_config())
    assert (clone.num_kernels, clone.kernel_dim) == (2, 3)
    for bad in (0, -1, 2.0, True):
        with pytest.raises(ValueError, match="num_kernels"):
            MinibatchDiscrimination(num_kernels=bad)
        with pytest.raises(ValueError, match="kernel_dim"):
            MinibatchDiscrimination(kernel_dim=bad)
    with pytest.raises(ValueError, match="flat features"):
        MinibatchDiscrimination()(np.zeros((2, 3, 4), "float32"))


def test_clip_weights_clips_and_refuses_non_positive_values():
    constraint = ClipWeights(0.5)
    w = np.array([[-2.0, -0.5, 0.1], [0.49, 0.5, 3.0]], "float32")
    np.testing.assert_allclose(to_numpy(constraint(w)), np.clip(w, -0.5, 0.5))
    assert ClipWeights.from_config(constraint.get_config()).clip_value == 0.5
    for bad in (0, 0.0, -0.01, True):
        with pytest.raises(ValueError, match="clip_value"):
            ClipWeights(bad)


# -- the regularisers inside the models -------------------------------------------


def test_spectral_norm_gan_trains_with_normalised_critic_layers():
    model = tiny_gan(GAN, spectral_norm=True, critic_steps=1)
    wrapped = [
        layer
        for layer in model.critic.layers
        if isinstance(layer, SpectralNormalization)
    ]
    # Every Conv2D and Dense of the critic, the head included, is wrapped.
    assert len(wrapped) == len(model.critic_filters) + 1
    assert not [
        layer
        for layer in model.critic.layers
        if isinstance(layer, (layers.Dense, layers.Conv2D))
    ]
    # Raw kernels well above norm 1, so an unnormalised critic would show.
    for layer in wrapped:
        layer.kernel.assign(5.0 * layer.kernel)
    raw_before = snapshot([layer.kernel for layer in wrapped])
    u_before = snapshot([layer.vector_u for layer in wrapped])
    model.compile()
    history = model.fit(IMAGES, batch_size=8, epochs=2, verbose=0).history
    assert np.all(np.isfinite(history["critic_loss"]))
    assert all(changed(raw_before, [layer.kernel for layer in wrapped]))
    assert all(changed(u_before, [layer.vector_u for layer in wrapped]))
    for layer in wrapped:
        assert top_singular_value(to_numpy(layer.kernel)) > 1.2, layer.name
        top = top_singular_value(to_numpy(layer.normalized_kernel()[1]))
        assert 0.99 <= top <= 1.05, (layer.name, top)


def test_weight_clipping_bounds_the_critic_only():
    model = tiny_gan(GAN, loss="wasserstein", clip_value=0.01, critic_steps=1)
    model.compile(
        optimizer={
            "critic": keras.optimizers.RMSprop(0.1),
            "generator": keras.optimizers.RMSprop(0.1),
        }
    )
    critic = model.critic.trainable_variables
    assert max(np.abs(to_numpy(v)).max() for v in critic) > 0.01  # Glorot init
    generator_before = snapshot(model.generator.trainable_variables)
    model.fit(IMAGES, batch_size=8, epochs=1, verbose=0)
    at_bound = 0
    for v in critic:
        values = np.abs(to_numpy(v))
        assert values.max() <= 0.01 + 1e-7, v.path
        at_bound += int(np.isclose(values, 0.01).sum())
    assert at_bound > 0
    generator = model.generator.trainable_variables
    assert any(changed(generator_before, generator))
    assert max(np.abs(to_numpy(v)).max() for v in generator) > 0.05


# -- phase isolation ----------------------------------------------------------------

PHASE_MODELS = {
    "gan": (GAN, {}),
    "cgan_concat": (CGAN, {"attribute_names": ATTRIBUTES}),
    "cgan_projection": (
        CGAN,
        {"attribute_names": ATTRIBUTES, "conditioning": "projection"},
    ),
    "acgan": (ACGAN, {"attribute_names": ATTRIBUTES}),
    "wgan_gp": (WGANGP, {}),
}


def only_phases_of(model_class, player):
    def build_phases(self):
        return [p for p in model_class.build_phases(self) if p.player == player]

    return type(
        f"{model_class.__name__}Only{player}",
        (model_class,),
        dict(build_phases=build_phases),
    )


def critic_side(model):
    """What the critic player must own: its network, and the projection
    discriminator's label embedding."""
    variables = list(model.critic.trainable_variables)
    if getattr(model, "conditioning", None) == "projection":
        variables += model.label_projection.trainable_variables
    return variables


@pytest.mark.parametrize("name", sorted(PHASE_MODELS))
@pytest.mark.parametrize("player", ["critic", "generator"])
def test_each_phase_moves_only_its_own_player(name, player):
    model_class, kwargs = PHASE_MODELS[name]
    # One DCGAN: the concat critic reads the labels as constant maps.
    architecture = "dcgan" if name == "cgan_concat" else "mlp"
    model = tiny_mlp(
        only_phases_of(model_class, player), architecture=architecture, **kwargs
    )
    sides = {
        "critic": critic_side(model),
        "generator": model.generator.trainable_variables,
    }
    # The players split the model's trainable variables between them.
    owned = [id(v) for side in sides.values() for v in side]
    assert len(owned) == len(set(owned))
    assert set(owned) == {id(v) for v in model.trainable_variables}

    moved, still = sides[player], sides["generator" if player == "critic" else "critic"]
    before_moved, before_still = snapshot(moved), snapshot(still)
    model.compile()
    labels = None if model_class in (GAN, WGANGP) else CLASS_IDS
    model.fit(IMAGES, labels, batch_size=16, epochs=1, verbose=0)
    assert not any(changed(before_still, still))
    # The moving player's variables all change, but one bias may not: the
    # Wasserstein critic's last bias cancels out of its loss.
    moved_flags = changed(before_moved, moved)
    assert sum(moved_flags) >= len(moved) - 1
    assert all(f for f, v in zip(moved_flags, moved) if "kernel" in v.path)


# -- EMA of the generator ------------------------------------------------------------


def test_ema_generator_averages_the_weights_one_step_behind():
    # d = 0.75, not 0.5: the weights of θ̄ and θ must not be interchangeable.
    model = tiny_mlp(ema_decay=0.75)
    assert model.sampling_generator is model.generator_ema
    model.compile()
    trainable = [
        (ema, w)
        for ema, w in zip(model.generator_ema.weights, model.generator.weights)
        if w.trainable
    ]
    w0 = snapshot([w for _, w in trainable])
    for (ema, _), a in zip(trainable, w0):  # a copy at construction
        np.testing.assert_array_equal(to_numpy(ema), a)
    model.fit(IMAGES, batch_size=16, epochs=1, verbose=0)  # one step
    w1 = snapshot([w for _, w in trainable])
    # Averaged before this step's generator update: 0.75·w0 + 0.25·w0.
    for (ema, _), a in zip(trainable, w0):
        np.testing.assert_allclose(to_numpy(ema), a, atol=1e-6)
    model.fit(IMAGES, batch_size=16, epochs=1, verbose=0)
    for (ema, w), a, b in zip(trainable, w0, w1):
        np.testing.assert_allclose(to_numpy(ema), 0.75 * a + 0.25 * b, atol=1e-6)
        assert not np.allclose(to_numpy(ema), to_numpy(w))


def test_generate_maps_the_noise_through_the_ema_generator():
    model = tiny_mlp(ema_decay=0.5)
    model.compile()
    model.fit(IMAGES, batch_size=8, epochs=1, verbose=0)
    assert any(
        not np.allclose(to_numpy(a), to_numpy(b))
        for a, b in zip(model.generator_ema.weights, model.generator.weights)
    )
    samples = model.generate(5, seed=7)
    z = keras.random.normal((5, model.latent_dim), seed=7)

    def mapped(network):
        return (np.tanh(to_numpy(network(z, training=False))) + 1.0) / 2.0

    np.testing.assert_allclose(samples, mapped(model.generator_ema), atol=1e-5)
    np.testing.assert_allclose(samples, to_numpy(model(z)), atol=1e-6)
    assert not np.allclose(samples, mapped(model.generator), atol=1e-4)


def test_evaluate_leaves_the_ema_and_the_noise_clock_alone():
    model = tiny_mlp(ema_decay=0.5, instance_noise=0.1, instance_noise_steps=4)
    model.compile()
    model.fit(IMAGES, batch_size=8, epochs=1, verbose=0)  # two steps
    assert float(to_numpy(model.noise_step)) == 2.0
    ema = snapshot(model.generator_ema.weights)
    assert any(changed(ema, model.generator.weights))
    model.evaluate(IMAGES, batch_size=8, verbose=0)
    assert not any(changed(ema, model.generator_ema.weights))
    assert float(to_numpy(model.noise_step)) == 2.0


def test_without_ema_decay_there_is_no_ema_generator():
    model = tiny_mlp()
    assert model.ema_decay is None
    assert not hasattr(model, "generator_ema")
    assert model.sampling_generator is model.generator
    z = keras.random.normal((3, model.latent_dim), seed=2)
    expected = (np.tanh(to_numpy(model.generator(z))) + 1.0) / 2.0
    np.testing.assert_allclose(model.generate(3, seed=2), expected, atol=1e-5)


# -- the conditional API -------------------------------------------------------------


@pytest.mark.parametrize("model_class", [CGAN, ACGAN])
def test_conditional_generate_by_name_and_by_label_arrays(model_class):
    model = tiny_conditional(model_class, architecture="dcgan")
    images = model.generate(attributes={"b": 1}, num_samples=4, seed=0)
    assert_numpy_float32(images, (4, 8, 8, 1))
    assert images.min() >= 0.0 and images.max() <= 1.0
    np.testing.assert_array_equal(images, model.generate({"b": 1}, 4, seed=0))
    # The same labels as an array (K,) or (N, K): the same images.
    np.testing.assert_allclose(model.generate(np.array([0, 1, 0]), 4, seed=0), images)
    np.testing.assert_allclose(
        model.generate(np.tile([0.0, 1.0, 0.0], (4, 1)), 4, seed=0), images, atol=1e-6
    )
    # The generator reads the labels, row by row.
    assert not np.allclose(model.generate({"c": 1}, 4, seed=0), images, atol=1e-4)
    mixed = model.generate(np.eye(3)[[0, 1, 2, 1]], 4, seed=0)
    for i, name in enumerate("abcb"):
        np.testing.assert_allclose(
            mixed[i], model.generate({name: 1}, 4, seed=0)[i], atol=1e-5
        )
    with pytest.raises(ValueError, match=r"\['a', 'b', 'c'\]"):
        model.generate(np.array([0, 1]), 4, seed=0)


def test_fit_takes_class_ids_and_one_hot_labels_alike():
    # `ConditionalGAN.fit` reads the labels for CGAN and ACGAN alike.
    trained = []
    for labels in (CLASS_IDS, ONE_HOT):
        keras.utils.set_random_seed(7)
        model = tiny_conditional(ACGAN)
        model.compile()
        model.fit(IMAGES, labels, batch_size=8, epochs=1, shuffle=False, verbose=0)
        trained.append(model)
    ids_model, one_hot_model = trained
    assert any(w.trainable for w in ids_model.weights)
    for a, b in zip(ids_model.trainable_weights, one_hot_model.trainable_weights):
        np.testing.assert_allclose(to_numpy(a), to_numpy(b), atol=1e-5, err_msg=a.path)
    # `fit` set the label marginals that unconstrained draws use.
    np.testing.assert_allclose(
        to_numpy(ids_model.label_prior), ONE_HOT.mean(0), atol=1e-6
    )


@pytest.mark.parametrize("model_class", [CGAN, ACGAN])
def test_fit_rejects_bad_or_missing_labels(model_class):
    model = tiny_conditional(model_class)
    model.compile()
    with pytest.raises(ValueError, match=r"\['a', 'b', 'c'\]"):
        model.fit(IMAGES, ONE_HOT[:, :2], verbose=0)
    with pytest.raises(ValueError, match="class ids"):
        model.fit(IMAGES, CLASS_IDS + 1, verbose=0)
    with pytest.raises(ValueError, match="one-hot"):
        model.fit(IMAGES, np.ones((16, 3), "float32"), verbose=0)
    with pytest.raises(ValueError, match="labels"):
        model.fit(IMAGES, verbose=0)


def test_multi_label_acgan_trains_and_generates_attribute_sets():
    rng = np.random.RandomState(0)
    labels = (rng.rand(16, 2) < 0.5).astype("float32")
    model = tiny_mlp(ACGAN, attribute_names=("x", "y"), label_type="multi_label")
    model.compile()
    history = model.fit(IMAGES, labels, batch_size=8, epochs=1, verbose=0).history
    for key in ("critic_loss", "generator_loss", "real_class_loss", "fake_class_loss"):
        assert np.all(np.isfinite(history[key])), key
    assert 0.0 <= history["real_class_accuracy"][0] <= 1.0
    both = model.generate({"x": 1, "y": 1}, num_samples=3, seed=0)
    assert_numpy_float32(both, (3, 8, 8, 1))
    np.testing.assert_allclose(to_numpy(model.label_prior), labels.mean(0), atol=1e-6)


def test_critic_class_loss_real_leaves_out_the_fake_class_term():
    models = {}
    for critic_class_loss in ("real_and_fake", "real"):
        models[critic_class_loss] = tiny_conditional(
            ACGAN, critic_class_loss=critic_class_loss, class_loss_weight=2.0
        )
    paper, real_only = models["real_and_fake"], models["real"]
    real_only.set_weights(paper.get_weights())
    data = (IMAGES[:8], ONE_HOT[:8])
    loss_paper, logs_paper = paper.critic_loss(data)
    loss_real, logs_real = real_only.critic_loss(data)
    for key in ("real_class_loss", "fake_class_loss", "real_logit", "fake_logit"):
        np.testing.assert_allclose(
            to_numpy(logs_real[key]), to_numpy(logs_paper[key]), rtol=1e-5
        )
    np.testing.assert_allclose(
        to_numpy(loss_paper) - to_numpy(loss_real),
        2.0 * to_numpy(logs_paper["fake_class_loss"]),
        rtol=1e-4,
    )

    real_only.compile()
    history = real_only.fit(IMAGES, CLASS_IDS, batch_size=8, epochs=1, verbose=0)
    accuracy = history.history["real_class_accuracy"]
    assert len(accuracy) == 1 and 0.0 <= accuracy[0] <= 1.0


# -- saving and loading --------------------------------------------------------------

PROBE = np.random.RandomState(5).rand(3, 8, 8, 1).astype("float32") * 2 - 1


def _flat(*arrays):
    return np.concatenate([to_numpy(a).reshape(3, -1) for a in arrays], axis=1)


class TestRoundTrips(TestCase):
    def test_gan_with_regularisers(self, tmp_path):
        model = tiny_gan(
            GAN,
            spectral_norm=True,
            minibatch_kernels=2,
            ema_decay=0.5,
            instance_noise=0.1,
            feature_matching_weight=0.5,
            r1_weight=1.0,
            critic_steps=1,
        )
        model.compile()
        model.fit(IMAGES, batch_size=8, epochs=1, verbose=0)
        loaded = self.run_serialization_test(
            model, lambda m: _flat(m.generate(3, seed=0), m.critic(PROBE)), tmp_path
        )
        assert float(to_numpy(loaded.noise_step)) == 2.0
        assert_same_ema(model, loaded)

    def test_cgan_projection(self, tmp_path):
        model = tiny_conditional(CGAN, conditioning="projection", architecture="dcgan")
        model.compile()
        model.fit(IMAGES, CLASS_IDS, batch_size=8, epochs=1, verbose=0)
        labels = ONE_HOT[:3]
        self.run_serialization_test(
            model,
            lambda m: _flat(
                m.generate({"b": 1}, num_samples=3, seed=0),
                m.critic(PROBE),
                m.label_projection(labels),
            ),
            tmp_path,
        )

    def test_acgan(self, tmp_path):
        model = tiny_conditional(ACGAN, ema_decay=0.5)
        model.compile()
        model.fit(IMAGES, CLASS_IDS, batch_size=8, epochs=1, verbose=0)
        loaded = self.run_serialization_test(
            model,
            lambda m: _flat(m.generate(num_samples=3, seed=0), m.critic(PROBE)),
            tmp_path,
        )
        assert loaded.attribute_names == list(ATTRIBUTES)
        np.testing.assert_allclose(
            to_numpy(loaded.label_prior), to_numpy(model.label_prior)
        )


def assert_same_ema(a, b):
    for x, y in zip(a.generator_ema.weights, b.generator_ema.weights):
        np.testing.assert_allclose(to_numpy(x), to_numpy(y), err_msg=x.path)


@pytest.mark.parametrize(
    "model",
    [
        lambda: tiny_mlp(spectral_norm=True, ema_decay=0.9, minibatch_kernels=2),
        lambda: tiny_conditional(CGAN, conditioning="projection"),
        lambda: tiny_conditional(
            ACGAN, critic_class_loss="real", label_type="multi_label"
        ),
        lambda: tiny_mlp(WGANGP, r1_weight=1.0),
    ],
    ids=["gan", "cgan", "acgan", "wgan_gp"],
)
def test_configs_are_json_and_load_in_safe_mode(model):
    model = model()
    config = keras.saving.serialize_keras_object(model)
    config = json.loads(json.dumps(config))
    restored = keras.saving.deserialize_keras_object(config, safe_mode=True)
    assert type(restored) is type(model)
    assert restored.get_config() == model.get_config()


# -- bad arguments ------------------------------------------------------------------


@pytest.mark.parametrize(
    "make, argument, choices",
    [
        (lambda: tiny_mlp(architecture="stylegan"), "architecture", ARCHITECTURES),
        (
            lambda: tiny_conditional(conditioning="film"),
            "conditioning",
            ("concat", "projection"),
        ),
        (
            lambda: tiny_conditional(ACGAN, critic_class_loss="fake"),
            "critic_class_loss",
            ("real_and_fake", "real"),
        ),
        (
            lambda: tiny_conditional(label_type="binary"),
            "label_type",
            ("multi_label", "categorical"),
        ),
    ],
)
def test_unknown_choices_name_the_argument_and_the_choices(make, argument, choices):
    with pytest.raises(ValueError, match=f"`{argument}`") as info:
        make()
    for choice in choices:
        assert repr(choice) in str(info.value)


def test_unknown_loss_names_the_valid_losses():
    with pytest.raises(ValueError, match="`loss`.*'nope'") as info:
        tiny_mlp(loss="nope")
    for name in EXPECTED_LOSSES:
        assert repr(name) in str(info.value)


@pytest.mark.parametrize(
    "argument, value",
    [
        ("gradient_penalty_weight", -1.0),
        ("feature_matching_weight", -0.5),
        ("instance_noise", -0.1),
        ("r1_weight", -1.0),
        ("clip_value", -0.01),
        ("minibatch_kernels", -1),
        ("instance_noise_steps", 0),
        ("r1_weight", float("nan")),
    ],
)
def test_negative_regulariser_weights_raise(argument, value):
    with pytest.raises(ValueError, match=f"`{argument}`"):
        tiny_mlp(**{argument: value})


def test_more_bad_arguments():
    with pytest.raises(ValueError, match="`class_loss_weight`"):
        tiny_conditional(ACGAN, class_loss_weight=-1.0)
    for decay in (1.5, 1.0, 0.0, -0.5):
        with pytest.raises(ValueError, match="`ema_decay`"):
            tiny_mlp(ema_decay=decay)
    with pytest.raises(ValueError, match="`clip_value`"):
        tiny_mlp(loss="wasserstein", clip_value=0.0)
    with pytest.raises(ValueError, match="wasserstein_gp"):
        tiny_mlp(WGANGP, loss="hinge")
    assert tiny_mlp(WGANGP, loss="wasserstein_gp").loss_name == "wasserstein_gp"
    with pytest.raises(ValueError, match="attribute_names"):
        tiny_mlp(CGAN, attribute_names=["a", "a"])


# -- slow: a 2-D Gaussian mixture learnt by each loss -------------------------------

MODES = 8
_ANGLES = 2 * np.pi * np.arange(MODES) / MODES
CENTRES = 0.5 + 0.3 * np.stack([np.cos(_ANGLES), np.sin(_ANGLES)], axis=1)
MODE_STD = 0.05


def ring_mixture(count, seed):
    """8 Gaussians (std 0.05) on a circle of radius 0.3 around (0.5, 0.5)."""
    rng = np.random.RandomState(seed)
    points = CENTRES[rng.randint(0, MODES, count)] + MODE_STD * rng.randn(count, 2)
    return np.clip(points, 0.0, 1.0).astype("float32")


def mode_statistics(samples):
    """(share of samples within 2σ of a mode, modes holding ≥ ¼ of a fair
    share of those). For the mixture itself: (0.86, 8)."""
    distances = np.linalg.norm(samples[:, None] - CENTRES[None], axis=-1)
    near = distances.min(axis=1) < 2 * MODE_STD
    counts = np.bincount(distances.argmin(axis=1)[near], minlength=MODES)
    return float(near.mean()), int((counts >= len(samples) / MODES / 4).sum())


def _adam():
    return keras.optimizers.Adam(1e-3, beta_1=0.0, beta_2=0.9)


# Per loss: GAN arguments, optimizer (each player gets one), epochs of 16
# steps. Adam with β₁ = 0 keeps the game from oscillating (with DCGAN's
# β₁ = 0.5 the hinge loss swung from 0.9 back to 0.1 of the samples near a
# mode on TensorFlow); the EMA generator smooths what swinging is left. The
# Wasserstein critics need several updates per generator update, and the
# reference clip (0.01) and λ (10) learn this mixture too slowly for a test.
MIXTURE_SETTINGS = {
    "minimax": ({}, _adam, 100),
    "non_saturating": ({}, _adam, 100),
    "least_squares": ({}, _adam, 100),
    "hinge": ({}, _adam, 100),
    "wasserstein": (
        {"critic_steps": 5, "clip_value": 0.2},
        lambda: keras.optimizers.RMSprop(1e-3),
        90,
    ),
    "wasserstein_gp": (
        {"critic_steps": 5, "gradient_penalty_weight": 1.0},
        _adam,
        90,
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("loss", sorted(MIXTURE_SETTINGS))
def test_each_loss_learns_a_2d_gaussian_mixture(loss):
    kwargs, optimizer, epochs = MIXTURE_SETTINGS[loss]
    kwargs = dict(kwargs)
    keras.utils.set_random_seed(0)
    model = GAN(
        image_shape=(2,),
        architecture="mlp",
        hidden_units=(64, 64),
        latent_dim=8,
        loss=loss,
        critic_steps=kwargs.pop("critic_steps", 1),
        ema_decay=0.99,
        seed=0,
        **kwargs,
    )
    model.compile(optimizer={"critic": optimizer(), "generator": optimizer()})
    near, _ = mode_statistics(model.generate(2000, seed=5))
    assert near < 0.5, near  # the untrained generator misses the modes
    model.fit(ring_mixture(2048, seed=0), batch_size=128, epochs=epochs, verbose=0)
    samples = model.generate(2000, seed=5)
    near, covered = mode_statistics(samples)
    assert near >= 0.7 and covered >= 6, (near, covered)

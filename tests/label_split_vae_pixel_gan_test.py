"""The label-relevant/irrelevant VAE's optional pixel discriminator."""

from __future__ import annotations

import numpy as np
import pytest
from keras import ops

from tests.label_split_vae_test import (
    CLASS_IDS,
    IMAGES,
    NETWORKS,
    changed,
    only_phase,
    snapshot,
    tiny_model,
)
from tests.test_case import TestCase, to_numpy

PIXEL = dict(pixel_discriminator=True, discriminator_filters=(4, 4))
WITH_DISCRIMINATOR = (*NETWORKS, "discriminator", "label_projection")


def test_the_discriminator_is_a_fourth_player_with_its_own_phase():
    model = tiny_model(**PIXEL)
    players = {k: {id(v) for v in vs} for k, vs in model.players().items()}
    critic = {id(v) for v in model.discriminator.trainable_variables}
    projection = {id(v) for v in model.label_projection.trainable_variables}
    assert critic and projection
    assert players["discriminator"] == critic | projection
    others = players["gaussian_mixture"] | players["autoencoder"]
    assert not players["discriminator"] & (others | players["classifier"])
    assert [p.name for p in model.phases] == [
        "gm",
        "joint",
        "classifier",
        "discriminator",
    ]
    assert "pixel_adversarial" in model.phases[1].metrics
    # Off by default: no fourth player, no network built.
    plain = tiny_model()
    assert "discriminator" not in plain.players()
    assert not hasattr(plain, "discriminator")


@pytest.mark.parametrize(
    "phase, moved",
    [
        ("joint", {"relevant_encoder", "irrelevant_encoder", "decoder"}),
        ("discriminator", {"discriminator", "label_projection"}),
    ],
)
def test_each_phase_moves_only_its_player(phase, moved):
    model = tiny_model(only_phase(phase), **PIXEL)
    model.compile()
    groups = {n: getattr(model, n).trainable_variables for n in WITH_DISCRIMINATOR}
    before = {n: snapshot(vs) for n, vs in groups.items()}
    model.fit(IMAGES, CLASS_IDS, batch_size=12, epochs=1, verbose=0)
    for name, variables in groups.items():
        # The spectral norm's power-iteration vectors are not trainable.
        assert any(changed(before[name], variables)) == (name in moved), name


def test_the_joint_loss_adds_the_weighted_generator_term():
    model = tiny_model(
        reconstruction_weight=0.5,
        beta=0.25,
        likelihood_weight=0.3,
        adversarial_weight=2.0,
        pixel_adversarial_weight=0.7,
        **PIXEL,
    )
    model.compile()
    logs = model.evaluate(IMAGES, CLASS_IDS, batch_size=24, verbose=0, return_dict=True)
    expected = (
        0.5 * logs["reconstruction"]
        + 0.25 * logs["kl"]
        + 0.3 * logs["likelihood"]
        + 2.0 * logs["adversarial"]
        + 0.7 * logs["pixel_adversarial"]
    )
    np.testing.assert_allclose(logs["joint_loss"], expected, rtol=1e-5, atol=1e-5)
    for key in ("real_score", "reconstruction_score", "sample_score"):
        assert np.isfinite(logs[key]), key
    assert logs["discriminator_loss"] >= 0.0


def test_the_discriminator_loss_is_the_hinge_of_its_three_scores(monkeypatch):
    model = tiny_model(**PIXEL)
    # Real, reconstruction and sample scores, in the order the loss asks.
    scores = iter([[2.0, 0.5, -1.0], [0.0, -2.0, 1.0], [-0.5, -3.0, 0.5]])
    monkeypatch.setattr(
        model,
        "_pixel_scores",
        lambda images, labels, training: ops.convert_to_tensor(next(scores)[:3]),
    )
    data = (IMAGES[:3], np.eye(3, dtype="float32"))
    loss, logs = model.discriminator_loss(data, training=False)
    real = np.maximum(0, 1 - np.array([2.0, 0.5, -1.0])).mean()
    fake = np.maximum(0, 1 + np.array([0.0, -2.0, 1.0])).mean()
    sample = np.maximum(0, 1 + np.array([-0.5, -3.0, 0.5])).mean()
    np.testing.assert_allclose(to_numpy(loss), real + fake + sample, rtol=1e-6)
    np.testing.assert_allclose(to_numpy(logs["real_score"]), 0.5, rtol=1e-6)


def test_fit_trains_every_player_with_finite_losses():
    model = tiny_model(**PIXEL)
    model.compile()
    history = model.fit(IMAGES, CLASS_IDS, batch_size=12, epochs=2, verbose=0)
    assert all(np.isfinite(v[-1]) for v in history.history.values())
    assert int(model.optimizer["discriminator"].iterations) == 4
    samples = model.generate({"b": 1}, num_samples=3, seed=0)
    assert samples.shape == (3, 8, 8, 1) and samples.dtype == np.float32


class TestPixelDiscriminatorSerialization(TestCase):
    def test_round_trips_keep_the_discriminator(self, tmp_path):
        model = tiny_model(pixel_adversarial_weight=0.3, **PIXEL)

        def outputs(m):
            scores = m._pixel_scores(
                ops.convert_to_tensor(IMAGES[:4]),
                ops.convert_to_tensor(np.eye(3, dtype="float32")[[0, 1, 2, 0]]),
                False,
            )
            return np.concatenate(
                [to_numpy(scores)[:, None], m.reconstruct(IMAGES[:4]).reshape(4, -1)],
                axis=1,
            )

        loaded = self.run_serialization_test(model, outputs, tmp_path)
        config = loaded.get_config()
        assert config["pixel_discriminator"] is True
        assert config["discriminator_filters"] == [4, 4]
        assert config["pixel_adversarial_weight"] == 0.3


@pytest.mark.parametrize(
    "kwargs, argument",
    [
        ({"pixel_discriminator": "yes"}, "pixel_discriminator"),
        ({"discriminator_filters": ()}, "discriminator_filters"),
        ({"pixel_adversarial_weight": -1.0}, "pixel_adversarial_weight"),
    ],
)
def test_bad_arguments_raise_naming_the_argument(kwargs, argument):
    with pytest.raises(ValueError, match=f"`{argument}`"):
        tiny_model(**kwargs)

"""The actor's training options: posterior inputs and the attribute loss."""

import numpy as np
import pytest

from keras_latent.models import LatentConstraints
from tests.latent_constraints_test import (
    IMAGES,
    LABELS,
    replay_actor_loss,
    tiny_lc,
)
from tests.test_case import TestCase, to_numpy


def with_attribute_critic(**kwargs):
    """A tiny model whose attribute critic judges its conditioning attributes."""
    model = tiny_lc(**kwargs)
    model.fit_attribute_critic(
        IMAGES, LABELS, ["a", "b"], hidden_units=(8,), epochs=1, verbose=0
    )
    return model


class TestActorOptions(TestCase):
    def test_attribute_loss_is_added_with_its_weight(self):
        model = with_attribute_critic(distance_weight=0.5, actor_attribute_weight=2.0)
        loss, logs, _, z_new, realism = replay_actor_loss(model, LABELS[:8])
        attribute_logits = to_numpy(model.attribute_critic_networks[0](z_new))
        p = 1.0 / (1.0 + np.exp(-attribute_logits))
        bce = -(LABELS[:8] * np.log(p) + (1 - LABELS[:8]) * np.log(1 - p))
        expected_attribute = np.mean(bce.mean(axis=0))
        np.testing.assert_allclose(
            to_numpy(logs["attribute_loss"]), expected_attribute, rtol=1e-4
        )
        expected = realism + 0.5 * to_numpy(logs["distance"]) + 2.0 * expected_attribute
        np.testing.assert_allclose(to_numpy(loss), expected, rtol=1e-4)
        assert model.opponent_metrics == ("distance", "attribute_loss")

    def test_attribute_loss_needs_the_attribute_critics(self):
        model = tiny_lc(actor_attribute_weight=1.0)
        with pytest.raises(ValueError, match="fit_attribute_critic"):
            model.actor_loss((IMAGES[:8], LABELS[:8]))

    def test_categorical_attribute_loss_is_the_cross_entropy(self):
        one_hot = np.eye(2, dtype="float32")[LABELS[:, 0].astype(int)]
        model = tiny_lc(label_type="categorical", actor_attribute_weight=1.0)
        model.fit_attribute_critic(
            IMAGES,
            one_hot,
            ["a", "b"],
            label_type="categorical",
            hidden_units=(8,),
            epochs=1,
            verbose=0,
        )
        z_new = np.random.RandomState(3).randn(8, 4).astype("float32")
        loss = to_numpy(model._actor_attribute_loss(z_new, one_hot[:8]))
        logits = to_numpy(model.attribute_critic_networks[0](z_new))
        log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        np.testing.assert_allclose(
            loss, -np.mean((one_hot[:8] * log_p).sum(1)), rtol=1e-5
        )

    def test_posterior_inputs_are_the_batch_latents_shuffled(self):
        prior = np.zeros((16, 4), "float32")
        posterior = np.arange(64, dtype="float32").reshape(16, 4)
        every = to_numpy(
            tiny_lc(actor_posterior_fraction=1.0)._actor_inputs(prior, posterior)
        )
        assert sorted(map(tuple, every)) == sorted(map(tuple, posterior))
        assert not np.array_equal(every, posterior)  # paired with other labels
        none = to_numpy(tiny_lc()._actor_inputs(prior, posterior))
        np.testing.assert_array_equal(none, prior)
        some = to_numpy(
            tiny_lc(actor_posterior_fraction=0.5)._actor_inputs(prior, posterior)
        )
        from_posterior = np.any(some != 0, axis=1)
        assert 0 < from_posterior.sum() < 16

    def test_fit_with_both_options_trains_and_round_trips(self, tmp_path):
        model = with_attribute_critic(
            actor_posterior_fraction=0.5, actor_attribute_weight=1.0
        )
        model.compute_statistics(IMAGES, LABELS)
        model.compile()
        history = model.fit(IMAGES, LABELS, epochs=1, batch_size=16, verbose=0)
        assert np.isfinite(history.history["attribute_loss"][-1])
        z = np.random.RandomState(4).randn(4, 4).astype("float32")
        restored = self.run_serialization_test(
            model, lambda m: m.apply_actor(z, LABELS[:4]), tmp_path
        )
        assert restored.actor_posterior_fraction == 0.5
        assert restored.actor_attribute_weight == 1.0

    def test_constructor_checks_the_options(self):
        with pytest.raises(ValueError, match="actor_posterior_fraction"):
            tiny_lc(actor_posterior_fraction=1.5)
        with pytest.raises(ValueError, match="actor_attribute_weight"):
            tiny_lc(actor_attribute_weight=-1.0)
        assert isinstance(tiny_lc(actor_attribute_weight=0.0), LatentConstraints)

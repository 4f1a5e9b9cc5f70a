import json

import numpy as np
import pytest

from keras_latent.models import WGANGP
from tests.test_case import TestCase, assert_numpy_float32, tiny_gan

IMAGES = np.random.RandomState(0).rand(32, 8, 8, 1).astype("float32")


class TestWGANGP(TestCase):
    @pytest.mark.parametrize("architecture", ["dcgan", "mlp"])
    def test_serialization_round_trips(self, architecture, tmp_path):
        model = tiny_gan(architecture=architecture, hidden_units=(8,))
        z = np.random.RandomState(1).randn(3, 4).astype("float32")
        self.run_serialization_test(
            model,
            lambda m: m(z) + m.critic(m(z) * 2 - 1)[:, :, None, None],
            tmp_path,
        )

    def test_critic_loss_falls_against_a_fixed_generator(self):
        # With the generator untrained, a few critic updates must widen the
        # critic's margin between real and generated images.
        model = tiny_gan(critic_steps=3)
        model.generator.trainable = False
        model.compile()
        self.run_fit_test(model, IMAGES, "critic_loss", epochs=4)

    def test_generate_is_seeded_and_in_range(self):
        model = tiny_gan()
        a = model.generate(6, seed=11)
        assert a.shape == (6, 8, 8, 1) and a.dtype == np.float32
        np.testing.assert_array_equal(a, model.generate(6, seed=11))
        assert a.min() >= 0.0 and a.max() <= 1.0

    def test_fit_rejects_bad_images(self):
        model = tiny_gan()
        model.compile()
        with pytest.raises(ValueError, match=r"shape \(batch, 8, 8, 1\)"):
            model.fit(np.zeros((8, 8, 8, 3), "float32"), verbose=0)
        with pytest.raises(ValueError, match="uint8"):
            model.fit(np.zeros((8, 8, 8, 1), "uint8"), verbose=0)
        with pytest.raises(ValueError, match=r"\[-1, 1\] values"):
            model.fit(np.full((8, 8, 8, 1), -1.0, "float32"), verbose=0)

    def test_bad_arguments(self):
        with pytest.raises(ValueError, match="critic_steps"):
            tiny_gan(critic_steps=0)
        with pytest.raises(ValueError, match="architecture"):
            tiny_gan(architecture="stylegan")


def test_a_failed_fit_keeps_the_weights():
    model = tiny_gan()
    model.compile()
    before = model.generate(3, seed=0)
    with pytest.raises(ValueError):
        model.fit(np.zeros((8, 8, 8, 3), "float32"), verbose=0)
    np.testing.assert_allclose(model.generate(3, seed=0), before)
    model.fit(IMAGES, batch_size=16, verbose=0)


class TestNumpyOut:
    """`generate` returns float32 NumPy and takes NumPy ints (issue 15)."""

    def test_generate_returns_float32_numpy_and_takes_numpy_ints(self):
        model = tiny_gan()
        samples = model.generate(np.int64(3), seed=np.int64(5), batch_size=np.int32(2))
        assert_numpy_float32(samples, (3, 8, 8, 1))
        # Another batch size: the same draws, up to float rounding.
        np.testing.assert_allclose(samples, model.generate(3, seed=5), atol=1e-6)
        model = tiny_gan(critic_steps=np.int64(2), latent_dim=np.int64(4))
        json.dumps(model.get_config())
        assert model.critic_steps == 2 and type(model.critic_steps) is int

    def test_bad_counts_seeds_and_weights_raise_clear_errors(self):
        model = tiny_gan()
        with pytest.raises(ValueError, match="`batch_size` must be a positive"):
            model.generate(2, batch_size=0)
        with pytest.raises(ValueError, match="`num_samples` must be a positive"):
            model.generate(0)
        for bad in (-1, 2**31, 0.5):
            with pytest.raises(ValueError, match=r"`seed` must be None or an int"):
                model.generate(2, seed=bad)
            with pytest.raises(ValueError, match=r"`seed` must be None or an int"):
                tiny_gan(seed=bad)
        with pytest.raises(ValueError, match="`gradient_penalty_weight` must be"):
            tiny_gan(gradient_penalty_weight=-1.0)
        with pytest.raises(ValueError, match="`critic_steps` must be a positive"):
            tiny_gan(critic_steps=2.0)

    def test_seeds_are_documented_per_backend(self):
        assert "backend" in WGANGP.generate.__doc__

import numpy as np
import pytest

from tests.test_case import TestCase, tiny_gan

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

import json

import keras
import numpy as np
import pytest

from keras_latent.models import VAE
from tests.test_case import (
    TestCase,
    assert_numpy_float32,
    assert_reads_pixels,
    to_numpy,
)

IMAGES = np.random.RandomState(0).rand(64, 8, 8, 1).astype("float32")


def tiny_vae(**kwargs):
    config = dict(image_shape=(8, 8, 1), latent_dim=3, hidden_units=(16,), seed=1)
    config.update(kwargs)
    return VAE(**config)


class TestVAE(TestCase):
    @pytest.mark.parametrize(
        "config",
        [
            {"architecture": "mlp"},
            {"architecture": "conv", "filters": (4, 8)},
            {"decoder_distribution": "bernoulli", "beta": 0.5},
        ],
    )
    def test_serialization_round_trips(self, config, tmp_path):
        model = tiny_vae(**config)
        z = np.random.RandomState(1).randn(4, 3).astype("float32")
        self.run_serialization_test(
            model, lambda m: to_numpy(m.decode(z)) + m.reconstruct(IMAGES[:4]), tmp_path
        )

    @pytest.mark.parametrize("architecture", ["mlp", "conv"])
    def test_fit_lowers_the_loss(self, architecture):
        model = tiny_vae(architecture=architecture, filters=(4, 8))
        model.compile(optimizer="adam")
        history = self.run_fit_test(model, IMAGES, "loss", epochs=5)
        assert {"loss", "reconstruction", "kl"} <= set(history.history)

    def test_loss_is_reconstruction_sum_plus_beta_kl(self):
        model = tiny_vae(beta=2.0)
        model.compile(optimizer="adam")
        logs = model.evaluate(IMAGES, batch_size=64, verbose=0, return_dict=True)
        np.testing.assert_allclose(
            logs["loss"], logs["reconstruction"] + 2.0 * logs["kl"], rtol=1e-4
        )
        # Gaussian decoder with σ_x = 0.1: a pixel sum of (x − x̂)² / 0.02.
        mean = model.encode(IMAGES)[0]
        x_hat = to_numpy(model.decode(mean))
        expected = ((IMAGES - x_hat) ** 2).sum(axis=(1, 2, 3)).mean() / 0.02
        np.testing.assert_allclose(logs["reconstruction"], expected, rtol=1e-4)

    def test_generate_is_seeded_and_in_range(self):
        model = tiny_vae()
        a, b = model.generate(5, seed=7), model.generate(5, seed=7)
        assert a.shape == (5, 8, 8, 1) and a.dtype == np.float32
        np.testing.assert_array_equal(a, b)
        assert not np.allclose(a, model.generate(5, seed=8))
        assert a.min() >= 0.0 and a.max() <= 1.0
        assert not np.allclose(model.generate(5), model.generate(5))

    def test_negative_elbo_is_a_finite_bound(self):
        model = tiny_vae()
        values = to_numpy(model.negative_elbo(IMAGES[:8], num_samples=2))
        assert values.shape == (8,) and np.all(np.isfinite(values))

    def test_uint8_and_lists_of_images_are_read_as_pixels(self):
        # Like LatentConstraints: uint8 is divided by 255, a list is stacked.
        model = tiny_vae()
        assert_reads_pixels(model.reconstruct, IMAGES[:4])
        pixels = np.round(IMAGES[:4] * 255).astype("uint8")
        bound = to_numpy(model.negative_elbo(pixels))
        assert bound.shape == (4,) and np.all(np.isfinite(bound))

    def test_bad_inputs_raise_clear_errors(self):
        model = tiny_vae()
        with pytest.raises(ValueError, match=r"shape \(batch, 8, 8, 1\)"):
            model.reconstruct(np.zeros((2, 9, 9, 1), "float32"))
        with pytest.raises(ValueError, match=r"0–255 pixel values \(uint8\)"):
            model.reconstruct(np.full((2, 8, 8, 1), 300, "int32"))
        with pytest.raises(ValueError, match=r"0–255 pixel values \(uint8\)"):
            model.negative_elbo(np.full((2, 8, 8, 1), -1, "int32"))
        with pytest.raises(ValueError, match="divide them by 255"):
            model.negative_elbo(IMAGES[:2] * 255.0)
        with pytest.raises(ValueError, match="num_samples"):
            model.generate(0)
        with pytest.raises(ValueError, match="architecture"):
            tiny_vae(architecture="transformer")
        with pytest.raises(ValueError, match="decoder_distribution"):
            tiny_vae(decoder_distribution="poisson")
        with pytest.raises(ValueError, match="divisible"):
            tiny_vae(image_shape=(10, 10, 1), architecture="conv", filters=(4, 8))


def test_fit_rejects_numpy_images_outside_the_unit_range():
    model = tiny_vae()
    model.compile(optimizer="adam")
    before = model.generate(3, seed=0)
    with pytest.raises(ValueError, match=r"`x` must be float images in \[0, 1\]"):
        model.fit(IMAGES[:8] * 255.0, epochs=1, batch_size=4, verbose=0)
    np.testing.assert_array_equal(model.generate(3, seed=0), before)


def test_a_failed_fit_keeps_the_weights():
    model = tiny_vae()
    model.compile(optimizer="adam")
    before = model.generate(3, seed=0)
    with pytest.raises(ValueError, match="shape"):
        model.fit(np.zeros((8, 9, 9, 1), "float32"), verbose=0)
    np.testing.assert_allclose(model.generate(3, seed=0), before)
    model.fit(IMAGES, batch_size=16, verbose=0)


class TestNumpyOut:
    """Inference returns float32 NumPy on every backend (issue 15)."""

    def test_every_inference_method_returns_float32_numpy(self):
        model = tiny_vae()
        mean, std = model.encode(IMAGES[:5])
        assert_numpy_float32(mean, (5, 3))
        assert_numpy_float32(std, (5, 3))
        assert np.all(std > 0)
        assert_numpy_float32(model.decode(mean), (5, 8, 8, 1))
        # A backend tensor in, NumPy out.
        assert_numpy_float32(model.decode(keras.ops.convert_to_tensor(mean)))
        assert_numpy_float32(model.reconstruct(IMAGES[:5]), (5, 8, 8, 1))
        assert_numpy_float32(model.generate(4, seed=0), (4, 8, 8, 1))
        assert_numpy_float32(model.negative_elbo(IMAGES[:5]), (5,))
        # The NumPy methods compute what the model's networks do.
        np.testing.assert_allclose(
            model.reconstruct(IMAGES[:5]), model.decode(mean), atol=1e-6
        )

    def test_encode_reads_pixels_and_batches(self):
        model = tiny_vae()
        assert_reads_pixels(lambda x: np.concatenate(model.encode(x), 1), IMAGES[:4])
        whole = model.encode(IMAGES)
        batched = model.encode(IMAGES, batch_size=7)
        np.testing.assert_allclose(batched[0], whole[0], atol=1e-6)
        np.testing.assert_allclose(batched[1], whole[1], atol=1e-6)
        np.testing.assert_allclose(
            model.decode(whole[0], batch_size=5), model.decode(whole[0]), atol=1e-6
        )

    def test_numpy_integers_are_ints(self):
        model = tiny_vae(latent_dim=np.int64(3), seed=np.int64(1))
        json.dumps(model.get_config())  # NumPy scalars would not serialise
        # Another batch size: the same draws, up to float rounding.
        np.testing.assert_allclose(
            model.generate(np.int64(3), seed=np.int64(7), batch_size=np.int32(2)),
            model.generate(3, seed=7),
            atol=1e-6,
        )
        assert model.reconstruct(IMAGES[:3], batch_size=np.int64(2)).shape == (
            3,
            8,
            8,
            1,
        )
        bound = model.negative_elbo(IMAGES[:3], num_samples=np.int64(2))
        assert bound.shape == (3,) and np.all(np.isfinite(bound))

    def test_bad_counts_seeds_and_batch_sizes_raise_clear_errors(self):
        model = tiny_vae()
        for bad in (0, -1, 2.0, True):
            with pytest.raises(ValueError, match="`batch_size` must be a positive"):
                model.generate(2, batch_size=bad)
            with pytest.raises(ValueError, match="`batch_size` must be a positive"):
                model.reconstruct(IMAGES[:2], batch_size=bad)
        for bad in (-1, 2**31, 1.5, "0"):
            with pytest.raises(ValueError, match=r"`seed` must be None or an int"):
                model.generate(2, seed=bad)
        with pytest.raises(ValueError, match=r"`seed` must be None or an int"):
            tiny_vae(seed=-1)
        with pytest.raises(ValueError, match="`num_samples` must be a positive"):
            model.negative_elbo(IMAGES[:2], num_samples=0)
        with pytest.raises(ValueError, match="`num_samples` must be a positive"):
            model.generate(np.float64(3))

    def test_bad_latents_and_images_raise_clear_errors(self):
        model = tiny_vae()
        for bad in (np.zeros((2, 5)), np.zeros(3), np.zeros((0, 3))):
            with pytest.raises(ValueError, match=r"shape \(N, 3\).*latent_dim=3"):
                model.decode(bad)
        with pytest.raises(ValueError, match="numeric latents"):
            model.decode(np.array([["a", "b", "c"]]))
        with pytest.raises(ValueError, match="`z` must be finite"):
            model.decode(np.full((2, 3), np.nan))
        strings = np.full((2, 8, 8, 1), "a")
        for call in (model.encode, model.reconstruct, model.negative_elbo):
            with pytest.raises(ValueError, match="`images` must be numeric images"):
                call(strings)
            with pytest.raises(ValueError, match="`images` must be numeric images"):
                call(np.array(["a"]))
            # 1×1 (or any other size) images are not resized: a shape error.
            with pytest.raises(ValueError, match=r"shape \(batch, 8, 8, 1\)"):
                call(np.zeros((2, 1, 1, 1), "float32"))
            with pytest.raises(ValueError, match=r"shape \(batch, 8, 8, 1\)"):
                call(np.zeros((2, 8, 8), "float32"))

    def test_constructor_checks_beta(self):
        for bad in (-1.0, float("nan"), float("inf")):
            with pytest.raises(ValueError, match="`beta` must be a finite number"):
                tiny_vae(beta=bad)
        assert tiny_vae(beta=0.0).beta == 0.0
        with pytest.raises(ValueError, match="`latent_dim` must be a positive"):
            tiny_vae(latent_dim=0)

    def test_predict_checks_numpy_images_like_fit(self):
        model = tiny_vae()
        with pytest.raises(ValueError, match=r"`x` must be float.*divide them by 255"):
            model.predict(IMAGES[:4] * 255.0, verbose=0)
        with pytest.raises(ValueError, match="uint8"):
            model.predict((IMAGES[:4] * 255).astype("uint8"), verbose=0)
        logits = model.predict(IMAGES[:4], verbose=0)
        assert logits.shape == (4, 8, 8, 1)

    def test_seeds_are_documented_per_backend(self):
        assert "backend" in VAE.generate.__doc__

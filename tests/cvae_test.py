"""The conditional VAE baseline: training, labels, generation and edits."""

import json

import keras
import numpy as np
import pytest

from keras_latent.models import CVAE
from keras_latent.models.conditional_vae import networks
from keras_latent.optimizers import Adam
from tests.test_case import (
    TestCase,
    assert_numpy_float32,
    assert_reads_pixels,
    to_numpy,
)

ATTRIBUTES = ("a", "b", "c")
RNG = np.random.RandomState(0)
IMAGES = RNG.rand(48, 8, 8, 1).astype("float32")
CLASS_IDS = np.arange(48) % 3
ONE_HOT = np.eye(3, dtype="float32")[CLASS_IDS]
# Two independent attributes for the multi-label variant.
MULTI = np.stack([np.arange(48) % 2, (np.arange(48) // 2) % 2], 1).astype("float32")


def tiny_cvae(**kwargs):
    config = dict(
        image_shape=(8, 8, 1),
        attribute_names=ATTRIBUTES,
        latent_dim=3,
        architecture="mlp",
        hidden_units=(16,),
        filters=(4, 8),
        seed=1,
    )
    config.update(kwargs)
    return CVAE(**config)


def tiny_multi_label(**kwargs):
    return tiny_cvae(attribute_names=("x", "y"), label_type="multi_label", **kwargs)


def bright_and_dark(num):
    """Images whose label (dark = 0, bright = 1) is their mean brightness."""
    rng = np.random.RandomState(2)
    bright = np.arange(num) % 2
    low = np.where(bright, 0.6, 0.0)[:, None, None, None]
    images = (low + 0.4 * rng.rand(num, 8, 8, 1)).astype("float32")
    return images, bright


def capture_decoder_labels(model, monkeypatch):
    """Patches the model's tensor decoder; returns the labels it was given."""
    seen = []
    decode = model._decode

    def spy(z, labels, training=False):
        seen.append(to_numpy(labels))
        return decode(z, labels, training=training)

    monkeypatch.setattr(model, "_decode", spy)
    return seen


class TestCVAE(TestCase):
    @pytest.mark.parametrize(
        "config",
        [
            {"architecture": "conv"},
            {"architecture": "mlp", "decoder_distribution": "gaussian"},
            {"label_type": "multi_label", "attribute_names": ("x", "y")},
        ],
    )
    def test_serialization_round_trips(self, config, tmp_path):
        model = tiny_cvae(**config)
        labels = MULTI[:4] if "label_type" in config else ONE_HOT[:4]
        model.set_label_prior(labels[:3])
        z = np.random.RandomState(1).randn(4, 3).astype("float32")

        def outputs(m):
            return np.concatenate(
                [
                    m.decode(z, labels).reshape(4, -1),
                    m.reconstruct(IMAGES[:4]).reshape(4, -1),
                    m.generate(num_samples=4, seed=0).reshape(4, -1),
                    m.predict_attributes(IMAGES[:4]),
                ],
                axis=1,
            )

        loaded = self.run_serialization_test(model, outputs, tmp_path)
        np.testing.assert_allclose(
            to_numpy(loaded.label_prior), to_numpy(model.label_prior)
        )
        json.dumps(model.get_config())

    @pytest.mark.parametrize("architecture", ["mlp", "conv"])
    def test_fit_lowers_the_loss_and_logs_its_terms(self, architecture):
        model = tiny_cvae(architecture=architecture)
        model.compile(optimizer=Adam(3e-3))
        history = self.run_fit_test(model, (IMAGES, CLASS_IDS), "loss", epochs=4)
        terms = {"loss", "reconstruction", "kl", "label_loss", "label_accuracy"}
        assert terms <= set(history.history)

    def test_loss_is_reconstruction_plus_weighted_kl_and_label_loss(self):
        model = tiny_cvae(beta=2.0, label_weight=0.5)
        model.compile()
        logs = model.evaluate(
            IMAGES, ONE_HOT, batch_size=48, verbose=0, return_dict=True
        )
        np.testing.assert_allclose(
            logs["loss"],
            logs["reconstruction"] + 2.0 * logs["kl"] + 0.5 * logs["label_loss"],
            rtol=1e-4,
        )
        # The label loss is the head's cross-entropy, its accuracy the argmax's.
        probabilities = model.predict_attributes(IMAGES)
        expected = -np.log(probabilities[np.arange(48), CLASS_IDS]).mean()
        np.testing.assert_allclose(logs["label_loss"], expected, rtol=1e-4)
        accuracy = (probabilities.argmax(1) == CLASS_IDS).mean()
        np.testing.assert_allclose(logs["label_accuracy"], accuracy, atol=1e-6)
        # Bernoulli decoder, evaluated at z = μ(x) with the true labels.
        x_hat = model.decode(model.encode(IMAGES)[0], ONE_HOT).astype("float64")
        bce = -(IMAGES * np.log(x_hat) + (1 - IMAGES) * np.log(1 - x_hat))
        np.testing.assert_allclose(
            logs["reconstruction"], bce.sum(axis=(1, 2, 3)).mean(), rtol=1e-3
        )

    def test_the_label_head_learns_a_separable_label(self):
        images, bright = bright_and_dark(128)
        model = tiny_cvae(attribute_names=("dark", "bright"))
        model.compile(optimizer=Adam(1e-2))
        # 64 steps: the head shares its trunk with the posterior, whose much
        # larger terms move the features under it at first.
        history = model.fit(images, bright, epochs=8, batch_size=16, verbose=0)
        assert history.history["label_accuracy"][-1] > 0.9, history.history
        predicted = model.predict_attributes(images).argmax(axis=1)
        assert (predicted == bright).mean() > 0.9

    def test_fit_records_the_label_marginals(self):
        model = tiny_cvae()
        model.compile()
        ids = np.array([0] * 30 + [1] * 12 + [2] * 6)
        model.fit(IMAGES, ids, epochs=1, batch_size=48, verbose=0)
        np.testing.assert_allclose(
            to_numpy(model.label_prior), [30 / 48, 12 / 48, 6 / 48], atol=1e-6
        )
        model.set_label_prior(np.eye(3)[[2, 2, 2, 1]])
        np.testing.assert_allclose(
            to_numpy(model.label_prior), [1e-3, 0.25, 0.75], atol=1e-6
        )

    def test_generate_is_seeded_in_range_and_takes_names_or_vectors(self):
        model = tiny_cvae()
        a, b = model.generate(num_samples=5, seed=7), model.generate(None, 5, 7)
        assert_numpy_float32(a, (5, 8, 8, 1))
        np.testing.assert_array_equal(a, b)
        assert a.min() >= 0.0 and a.max() <= 1.0
        assert not np.allclose(a, model.generate(num_samples=5, seed=8))
        unseeded = model.generate()
        assert_numpy_float32(unseeded, (16, 8, 8, 1))
        assert not np.allclose(unseeded, model.generate())
        by_name = model.generate({"b": 1}, num_samples=5, seed=3)
        np.testing.assert_allclose(
            model.generate(np.array([0, 1, 0]), num_samples=5, seed=3), by_name
        )
        np.testing.assert_allclose(
            model.generate(np.tile([0, 1, 0], (5, 1)), num_samples=5, seed=3),
            by_name,
        )

    def test_generate_conditions_on_the_asked_labels(self, monkeypatch):
        model = tiny_cvae()
        model.set_label_prior(np.eye(3)[[0, 0, 0, 2]])
        seen = capture_decoder_labels(model, monkeypatch)
        model.generate({"c": 1}, num_samples=4, seed=0)
        np.testing.assert_array_equal(seen[-1], np.tile([0, 0, 1], (4, 1)))
        # "Not an a": drawn among the others, by their marginals (all c).
        model.generate({"a": 0}, num_samples=6, seed=0)
        np.testing.assert_array_equal(seen[-1], np.tile([0, 0, 1], (6, 1)))

    def test_transform_by_name_changes_only_that_label(self):
        model = tiny_multi_label()
        mean = model.encode(IMAGES[:6])[0]
        read = (model.predict_attributes(IMAGES[:6]) > 0.5).astype("float32")
        for value in (0, 1):
            expected_labels = read.copy()
            expected_labels[:, 0] = value
            np.testing.assert_allclose(
                model.transform(IMAGES[:6], {"x": value}),
                model.decode(mean, expected_labels),
                atol=1e-6,
            )

    def test_transform_with_the_own_labels_is_reconstruct(self, monkeypatch):
        model = tiny_cvae()
        read = networks.binarize(model.predict_attributes(IMAGES[:6]), "categorical")
        reconstructed = model.reconstruct(IMAGES[:6])
        np.testing.assert_allclose(
            model.transform(IMAGES[:6], read), reconstructed, atol=1e-6
        )
        np.testing.assert_allclose(
            reconstructed, model.decode(model.encode(IMAGES[:6])[0], read), atol=1e-6
        )
        # A class by name replaces the whole one-hot label.
        seen = capture_decoder_labels(model, monkeypatch)
        model.transform(IMAGES[:6], {"b": 1})
        np.testing.assert_array_equal(seen[-1], np.tile([0, 1, 0], (6, 1)))
        # Set to 0, a class gives way to the next most likely one.
        model.transform(IMAGES[:6], {name: 0 for name in ("a", "b")})
        np.testing.assert_array_equal(seen[-1], np.tile([0, 0, 1], (6, 1)))
        # A label vector (K,) replaces every image's labels.
        model.transform(IMAGES[:6], np.array([1, 0, 0]))
        np.testing.assert_array_equal(seen[-1], np.tile([1, 0, 0], (6, 1)))

    def test_multi_label_variant(self):
        model = tiny_multi_label()
        model.compile(optimizer=Adam(3e-3))
        history = self.run_fit_test(model, (IMAGES, MULTI), "loss", epochs=3)
        assert "label_accuracy" in history.history
        np.testing.assert_allclose(to_numpy(model.label_prior), [0.5, 0.5])
        probabilities = model.predict_attributes(IMAGES[:5])
        assert_numpy_float32(probabilities, (5, 2))
        # One sigmoid per attribute.
        logits = to_numpy(model(IMAGES[:5])["label_logits"])
        np.testing.assert_allclose(probabilities, 1 / (1 + np.exp(-logits)), atol=1e-6)
        both = model.generate({"x": 1, "y": 1}, num_samples=3, seed=0)
        np.testing.assert_allclose(
            model.generate(np.array([1, 1]), num_samples=3, seed=0), both
        )

    def test_inference_returns_float32_numpy_and_reads_pixels(self):
        model = tiny_cvae(architecture="conv")
        mean, std = model.encode(IMAGES[:5])
        assert_numpy_float32(mean, (5, 3))
        assert_numpy_float32(std, (5, 3))
        assert np.all(std > 0)
        probabilities = model.predict_attributes(IMAGES[:5])
        assert_numpy_float32(probabilities, (5, 3))
        np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
        tensor = keras.ops.convert_to_tensor(mean)
        assert_numpy_float32(model.decode(tensor, ONE_HOT[:5]), (5, 8, 8, 1))
        assert_numpy_float32(model.reconstruct(IMAGES[:5]), (5, 8, 8, 1))
        assert_numpy_float32(model.transform(IMAGES[:5], {"a": 1}), (5, 8, 8, 1))
        assert_reads_pixels(model.reconstruct, IMAGES[:4])
        assert_reads_pixels(model.predict_attributes, IMAGES[:4])
        np.testing.assert_allclose(
            model.reconstruct(IMAGES[:5], batch_size=2),
            model.reconstruct(IMAGES[:5]),
            atol=1e-6,
        )
        # Soft labels blend attributes.
        soft = model.decode(mean, np.array([0.5, 0.5, 0.0]))
        assert soft.shape == (5, 8, 8, 1)

    def test_bad_inputs_raise_errors_naming_the_argument(self):
        model = tiny_cvae()
        model.compile()
        with pytest.raises(ValueError, match=r"`y` must have shape \(N, 3\)"):
            model.fit(IMAGES, np.zeros((48, 4), "float32"), verbose=0)
        with pytest.raises(ValueError, match=r"`y` as class ids must be ints in \[0"):
            model.fit(IMAGES, np.full(48, 3), verbose=0)
        with pytest.raises(ValueError, match="`y` must be one-hot rows"):
            model.fit(IMAGES, np.ones((48, 3), "float32"), verbose=0)
        with pytest.raises(ValueError, match="pass `fit\\(x, y\\)`"):
            model.fit(IMAGES, verbose=0)
        with pytest.raises(ValueError, match=r"Labels `y` must have 3 columns"):
            model.compute_loss(IMAGES, np.zeros((48, 2), "float32"), model(IMAGES))
        with pytest.raises(ValueError, match=r"Unknown attribute.*\['d'\].*'a'"):
            model.generate({"d": 1})
        with pytest.raises(ValueError, match=r"Unknown attribute.*\['e'\]"):
            model.transform(IMAGES[:2], {"e": 1})
        with pytest.raises(ValueError, match=r"`attributes` as an array.*\(3,\)"):
            model.transform(IMAGES[:2], np.array([1, 0]))
        with pytest.raises(ValueError, match="`transform` needs `attributes`"):
            model.transform(IMAGES[:2], None)
        with pytest.raises(ValueError, match=r"`labels` must have shape \(3,\)"):
            model.decode(np.zeros((2, 3)), np.zeros((2, 4)))
        with pytest.raises(ValueError, match=r"`labels` must hold values in \[0, 1\]"):
            model.decode(np.zeros((2, 3)), np.array([2.0, 0.0, 0.0]))
        with pytest.raises(ValueError, match="`labels` must be a numeric array"):
            model.decode(np.zeros((2, 3)), ["a", "b", "c"])
        with pytest.raises(ValueError, match="`num_samples=3`"):
            model.generate(3)
        with pytest.raises(ValueError, match=r"shape \(batch, 8, 8, 1\)"):
            model.reconstruct(np.zeros((2, 9, 9, 1), "float32"))
        with pytest.raises(ValueError, match="divide them by 255"):
            model.predict_attributes(IMAGES[:2] * 255.0)

    def test_constructor_checks_its_arguments(self):
        cases = [
            ({"label_type": "ordinal"}, r"`label_type` must be one of"),
            ({"architecture": "transformer"}, r"`architecture` must be one of"),
            ({"decoder_distribution": "poisson"}, "`decoder_distribution`"),
            ({"beta": -1.0}, "`beta` must be a finite number >= 0"),
            ({"label_weight": float("nan")}, "`label_weight` must be a finite"),
            ({"decoder_sigma": 0.0}, "`decoder_sigma` must be positive"),
            ({"latent_dim": 0}, "`latent_dim` must be a positive int"),
            ({"hidden_units": ()}, "`hidden_units` must be a non-empty"),
            ({"attribute_names": ("a", "a")}, "`attribute_names` must be"),
            ({"seed": -1}, "`seed` must be None or an int"),
        ]
        for kwargs, message in cases:
            with pytest.raises(ValueError, match=message):
                tiny_cvae(**kwargs)
        assert tiny_cvae(beta=0.0, label_weight=0.0).beta == 0.0

    def test_a_failed_fit_keeps_the_weights_and_the_label_prior(self):
        model = tiny_cvae()
        model.compile()
        before = model.generate(num_samples=3, seed=0)
        with pytest.raises(ValueError, match=r"`x` must be float images"):
            model.fit(IMAGES * 255.0, np.zeros(48, "int64"), verbose=0)
        with pytest.raises(ValueError, match="`y` must have shape"):
            model.fit(IMAGES, np.zeros((48, 2), "float32"), verbose=0)
        np.testing.assert_allclose(to_numpy(model.label_prior), [1 / 3] * 3)
        np.testing.assert_array_equal(model.generate(num_samples=3, seed=0), before)
        model.fit(IMAGES, ONE_HOT, batch_size=16, verbose=0)

"""IFcVAE-GAN and the naive cVAE-GAN: phases, switches, losses, inference."""

import json

import keras
import numpy as np
import pytest
from keras import ops

from keras_latent.models import CVAEGAN, IFcVAEGAN
from keras_latent.models.conditional_vae import networks
from tests.test_case import (
    TestCase,
    assert_numpy_float32,
    assert_reads_pixels,
    to_numpy,
)

ATTRIBUTES = ("a", "b", "c")
RNG = np.random.RandomState(0)
IMAGES = RNG.rand(24, 8, 8, 1).astype("float32")
CLASS_IDS = np.arange(24) % 3
ONE_HOT = np.eye(3, dtype="float32")[CLASS_IDS]
MULTI = np.stack([np.arange(24) % 2, (np.arange(24) // 2) % 2], 1).astype("float32")
PLAYERS = ("discriminator", "auxiliary", "autoencoder")


def tiny(model_class=IFcVAEGAN, **kwargs):
    config = dict(
        image_shape=(8, 8, 1),
        attribute_names=ATTRIBUTES,
        latent_dim=4,
        architecture="mlp",
        hidden_units=(16,),
        filters=(4, 8),
        critic_filters=(4, 8),
        aux_units=(8,),
        seed=1,
    )
    config.update(kwargs)
    return model_class(**config)


def tiny_multi_label(**kwargs):
    return tiny(attribute_names=("x", "y"), label_type="multi_label", **kwargs)


def sgd(learning_rate=0.05):
    """Plain SGD for every player: updates proportional to the gradients
    (RMSprop's first step is nearly sign(g), hiding small differences)."""
    return {p: keras.optimizers.SGD(learning_rate) for p in PLAYERS}


def only_phase(model, player):
    """`model` training only the phase of `player` (a subclass on the fly)."""

    base = type(model)

    def build_phases(self):
        return [p for p in base.build_phases(self) if p.player == player]

    model.__class__ = type(
        f"{base.__name__}Only{player}", (base,), dict(build_phases=build_phases)
    )
    return model


def snapshot(variables):
    return [to_numpy(v).copy() for v in variables]


def changed(before, variables):
    return [not np.allclose(b, to_numpy(v)) for b, v in zip(before, variables)]


def bce(logits, targets):
    """NumPy's binary cross-entropy from logits, element-wise."""
    logits = np.asarray(logits, "float64")
    return np.logaddexp(0.0, logits) - targets * logits


def discriminator_logits(model, images):
    return to_numpy(model.discriminator(images * 2.0 - 1.0))[:, 0].astype("float64")


def bright_and_dark(num):
    """Images whose label (dark = 0, bright = 1) is their mean brightness."""
    rng = np.random.RandomState(2)
    bright = np.arange(num) % 2
    low = np.where(bright, 0.6, 0.0)[:, None, None, None]
    images = (low + 0.4 * rng.rand(num, 8, 8, 1)).astype("float32")
    return images, bright


class TestIFcVAEGAN(TestCase):
    @pytest.mark.parametrize(
        "model_class, config",
        [
            (IFcVAEGAN, {"architecture": "conv"}),
            (
                IFcVAEGAN,
                {
                    "attribute_names": ("x", "y"),
                    "label_type": "multi_label",
                    "information_factorization": False,
                    "label_reconstruction_weight": 0.5,
                    "reconstruction_weight": 0.25,
                },
            ),
            (CVAEGAN, {"architecture": "conv"}),
        ],
    )
    def test_serialization_round_trips(self, model_class, config, tmp_path):
        model = tiny(model_class, **config)
        labels = MULTI[:4] if "label_type" in config else ONE_HOT[:4]
        model.set_label_prior(labels[:3])
        z = np.random.RandomState(1).randn(4, 4).astype("float32")

        def outputs(m):
            return np.concatenate(
                [
                    m.decode(z, labels).reshape(4, -1),
                    m.reconstruct(IMAGES[:4]).reshape(4, -1),
                    m.generate(num_samples=4, seed=0).reshape(4, -1),
                    m.predict_attributes(IMAGES[:4]),
                    to_numpy(m.auxiliary(z)),
                    to_numpy(m.discriminator(IMAGES[:4])),
                ],
                axis=1,
            )

        loaded = self.run_serialization_test(model, outputs, tmp_path)
        np.testing.assert_allclose(
            to_numpy(loaded.label_prior), to_numpy(model.label_prior)
        )
        for name in ("information_factorization", "label_reconstruction_weight"):
            assert getattr(loaded, name) == getattr(model, name)
        json.dumps(model.get_config())

    def test_a_compiled_model_round_trips_with_its_optimizers(self, tmp_path):
        model = tiny()
        model.compile()
        model.fit(IMAGES, CLASS_IDS, batch_size=24, verbose=0)
        model.save(tmp_path / "model.keras")
        restored = keras.saving.load_model(tmp_path / "model.keras")
        for player in PLAYERS:
            optimizer = restored.optimizer[player]
            assert isinstance(optimizer, keras.optimizers.RMSprop)
            np.testing.assert_allclose(float(optimizer.learning_rate), 1e-4)
            assert int(to_numpy(optimizer.iterations)) == 1
        history = restored.fit(IMAGES, CLASS_IDS, batch_size=24, verbose=0)
        assert np.isfinite(history.history["loss"][0])

    @pytest.mark.parametrize("player", PLAYERS)
    def test_each_phase_moves_only_its_own_player(self, player):
        model = only_phase(tiny(architecture="conv"), player)
        sides = {
            "discriminator": model.discriminator.trainable_variables,
            "auxiliary": model.auxiliary.trainable_variables,
            "autoencoder": model.encoder.trainable_variables
            + model.decoder.trainable_variables,
        }
        # The players split the model's trainable variables between them.
        owned = [id(v) for side in sides.values() for v in side]
        assert len(owned) == len(set(owned))
        assert set(owned) == {id(v) for v in model.trainable_variables}
        before = {name: snapshot(side) for name, side in sides.items()}
        model.compile(optimizer=sgd())
        model.fit(IMAGES, CLASS_IDS, batch_size=12, epochs=1, verbose=0)
        for name, side in sides.items():
            flags = changed(before[name], side)
            if name == player:
                assert all(flags), [v.path for f, v in zip(flags, side) if not f]
            else:
                assert not any(flags), name

    @pytest.mark.parametrize("factorize", [True, False])
    def test_the_auxiliary_network_reaches_the_encoder_only_when_factorizing(
        self, factorize
    ):
        # Two models alike but for A's weights, one autoencoder update each.
        models = [
            only_phase(tiny(information_factorization=factorize), "autoencoder")
            for _ in range(2)
        ]
        models[1].set_weights(models[0].get_weights())
        for variable in models[1].auxiliary.trainable_variables:
            variable.assign(to_numpy(variable) + 0.5)
        for model in models:
            model.compile(optimizer=sgd())
            # Unshuffled: each image meets the same noise in both models.
            model.fit(IMAGES, CLASS_IDS, batch_size=24, shuffle=False, verbose=0)
        encoders = [snapshot(m.encoder.trainable_variables) for m in models]
        same_encoder = all(
            np.allclose(a, b, rtol=0, atol=1e-7) for a, b in zip(*encoders)
        )
        assert same_encoder != factorize
        # L_aux never depends on D: the decoders moved alike either way.
        for a, b in zip(*[snapshot(m.decoder.trainable_variables) for m in models]):
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-7)

    @pytest.mark.parametrize(
        "factorize, beta, lam",
        [(True, 0.0, 1.0), (False, 0.5, 1.0), (True, 0.25, 0.01)],
    )
    def test_the_autoencoder_loss_counts_exactly_its_switched_on_terms(
        self, factorize, beta, lam
    ):
        model = tiny(
            information_factorization=factorize,
            label_reconstruction_weight=beta,
            reconstruction_weight=lam,
            kl_weight=0.3,
            label_weight=0.7,
            adversarial_weight=0.2,
        )
        assert model.label_reconstruction == (beta > 0)
        model.compile()
        logs = model.evaluate(
            IMAGES, CLASS_IDS, batch_size=24, verbose=0, return_dict=True
        )
        assert ("label_reconstruction" in logs) == (beta > 0)
        expected = (
            lam * logs["reconstruction"]
            + 0.3 * logs["kl"]
            + 0.7 * logs["label_loss"]
            - 0.2 * logs["gan_loss"]
            - (logs["aux_loss"] if factorize else 0.0)
            + beta * logs.get("label_reconstruction", 0.0)
        )
        np.testing.assert_allclose(logs["autoencoder_loss"], expected, rtol=1e-5)
        # Evaluation encodes with z = μ(x): A and C see what E and D see.
        np.testing.assert_allclose(logs["aux_loss"], logs["auxiliary_loss"], rtol=1e-5)

    def test_label_reconstruction_reads_the_reconstruction_against_the_head(self):
        model = tiny(label_reconstruction_weight=1.0)
        _, logs = model.autoencoder_loss((IMAGES, ONE_HOT), training=False)
        head = model.predict_attributes(IMAGES).astype("float64")
        x_hat = model.decode(model.encode(IMAGES)[0], ONE_HOT)
        logits = to_numpy(model.encoder(x_hat))[:, -3:].astype("float64")
        log_softmax = logits - np.log(np.exp(logits).sum(1, keepdims=True))
        expected = -(head * log_softmax).sum(axis=1).mean()
        np.testing.assert_allclose(
            to_numpy(logs["label_reconstruction"]), expected, rtol=1e-4
        )

    def test_gan_loss_is_the_mean_of_its_three_parts(self, monkeypatch):
        model = tiny(architecture="conv")
        model.set_label_prior(ONE_HOT)
        noise = np.random.RandomState(3).randn(24, 4).astype("float32")
        sampled = np.eye(3, dtype="float32")[(CLASS_IDS + 1) % 3]
        monkeypatch.setattr(
            model,
            "_prior_draws",
            lambda n: (ops.convert_to_tensor(noise), ops.convert_to_tensor(sampled)),
        )
        loss, logs = model.discriminator_loss((IMAGES, ONE_HOT), training=False)
        mean = model.encode(IMAGES)[0]
        real = discriminator_logits(model, IMAGES)
        reconstructed = discriminator_logits(model, model.decode(mean, ONE_HOT))
        samples = discriminator_logits(model, model.decode(noise, sampled))
        expected = (
            bce(real, 1.0).mean()
            + bce(reconstructed, 0.0).mean()
            + bce(samples, 0.0).mean()
        ) / 3.0
        np.testing.assert_allclose(to_numpy(loss), expected, rtol=1e-5)
        for name, logits in (
            ("real_logit", real),
            ("reconstruction_logit", reconstructed),
            ("sample_logit", samples),
        ):
            np.testing.assert_allclose(to_numpy(logs[name]), logits.mean(), atol=1e-5)
        # E and D's phase plays the same L_gan.
        _, autoencoder_logs = model.autoencoder_loss((IMAGES, ONE_HOT), training=False)
        np.testing.assert_allclose(
            to_numpy(autoencoder_logs["gan_loss"]), expected, rtol=1e-5
        )

    @pytest.mark.parametrize("multi_label", [False, True])
    def test_aux_loss_is_the_label_cross_entropy_of_a(self, multi_label):
        model = tiny_multi_label() if multi_label else tiny()
        labels = MULTI if multi_label else ONE_HOT
        loss, logs = model.auxiliary_loss((IMAGES, labels), training=False)
        logits = to_numpy(model.auxiliary(model.encode(IMAGES)[0])).astype("float64")
        if multi_label:
            expected = bce(logits, labels).sum(axis=1).mean()
            accuracy = ((logits > 0) == labels).mean()
        else:
            log_softmax = logits - np.log(np.exp(logits).sum(1, keepdims=True))
            expected = -log_softmax[np.arange(24), CLASS_IDS].mean()
            accuracy = (logits.argmax(1) == CLASS_IDS).mean()
        np.testing.assert_allclose(to_numpy(loss), expected, rtol=1e-5)
        np.testing.assert_allclose(to_numpy(logs["aux_accuracy"]), accuracy)

    @pytest.mark.parametrize("multi_label", [False, True])
    def test_sampled_labels_follow_the_label_marginals(self, multi_label):
        model = tiny_multi_label() if multi_label else tiny()
        if multi_label:
            model.set_label_prior(np.array([[1, 0], [1, 1], [1, 0], [0, 0]]))
            expected = [0.75, 0.25]
        else:
            model.set_label_prior(np.array([0, 0, 1, 2, 2, 2, 2, 2]))
            expected = [0.25, 0.125, 0.625]
        noise, labels = model._prior_draws(4000)
        labels = to_numpy(labels)
        assert to_numpy(noise).shape == (4000, 4)
        assert set(np.unique(labels)) <= {0.0, 1.0}
        if not multi_label:
            np.testing.assert_array_equal(labels.sum(axis=1), 1.0)
        np.testing.assert_allclose(labels.mean(axis=0), expected, atol=0.03)

    def test_fit_keeps_the_losses_finite_and_learns_the_labels(self):
        keras.utils.set_random_seed(0)
        images, bright = bright_and_dark(96)
        model = tiny(attribute_names=("dark", "bright"), label_weight=1.0)
        model.compile(optimizer={p: keras.optimizers.RMSprop(1e-2) for p in PLAYERS})
        history = model.fit(images, bright, epochs=8, batch_size=16, verbose=0)
        logs = history.history
        for name in (
            "loss",
            "discriminator_loss",
            "auxiliary_loss",
            "autoencoder_loss",
            "reconstruction",
            "kl",
            "label_loss",
            "gan_loss",
            "aux_loss",
            "aux_accuracy",
        ):
            assert np.all(np.isfinite(logs[name])), (name, logs[name])
        assert logs["nonfinite_steps"] == [0.0] * 8
        assert logs["reconstruction"][-1] < logs["reconstruction"][0], logs
        assert logs["label_accuracy"][-1] > logs["label_accuracy"][0], logs
        assert logs["label_accuracy"][-1] > 0.9, logs
        predicted = model.predict_attributes(images).argmax(axis=1)
        assert (predicted == bright).mean() > 0.9

    def test_generate_and_edits_are_seeded_float32_and_take_names_or_vectors(self):
        model = tiny(architecture="conv")
        a, b = model.generate(num_samples=5, seed=7), model.generate(None, 5, 7)
        assert_numpy_float32(a, (5, 8, 8, 1))
        np.testing.assert_array_equal(a, b)
        assert a.min() >= 0.0 and a.max() <= 1.0
        assert not np.allclose(a, model.generate(num_samples=5, seed=8))
        by_name = model.generate({"b": 1}, num_samples=5, seed=3)
        np.testing.assert_allclose(
            model.generate(np.array([0, 1, 0]), num_samples=5, seed=3), by_name
        )
        # Edits decode μ(x) with the head's binarised labels, asked ones set.
        mean = model.encode(IMAGES[:6])[0]
        read = networks.binarize(model.predict_attributes(IMAGES[:6]), "categorical")
        reconstructed = model.reconstruct(IMAGES[:6])
        assert_numpy_float32(reconstructed, (6, 8, 8, 1))
        np.testing.assert_allclose(reconstructed, model.decode(mean, read), atol=1e-6)
        np.testing.assert_allclose(
            model.transform(IMAGES[:6], read), reconstructed, atol=1e-6
        )
        edited = model.transform(IMAGES[:6], {"c": 1})
        assert_numpy_float32(edited, (6, 8, 8, 1))
        np.testing.assert_allclose(
            edited, model.transform(IMAGES[:6], np.array([0, 0, 1])), atol=1e-6
        )
        np.testing.assert_allclose(
            edited, model.decode(mean, np.tile([0, 0, 1], (6, 1))), atol=1e-6
        )
        assert_reads_pixels(model.reconstruct, IMAGES[:4])

    def test_multi_label_transform_changes_only_the_asked_attribute(self):
        model = tiny_multi_label()
        mean = model.encode(IMAGES[:6])[0]
        read = (model.predict_attributes(IMAGES[:6]) > 0.5).astype("float32")
        for value in (0, 1):
            labels = read.copy()
            labels[:, 1] = value
            np.testing.assert_allclose(
                model.transform(IMAGES[:6], {"y": value}),
                model.decode(mean, labels),
                atol=1e-6,
            )

    def test_default_configuration(self):
        model = IFcVAEGAN()
        assert model.image_shape == (28, 28, 1)
        assert model.label_type == "categorical"
        assert model.information_factorization
        assert not model.label_reconstruction
        assert (model.kl_weight, model.label_weight, model.adversarial_weight) == (
            0.2,
            0.1,
            0.1,
        )
        model.compile()
        for player in PLAYERS:
            optimizer = model.optimizer[player]
            assert isinstance(optimizer, keras.optimizers.RMSprop)
            np.testing.assert_allclose(float(optimizer.learning_rate), 1e-4)
        assert [p.name for p in model.phases] == list(PLAYERS)

    def test_bad_inputs_raise_errors_naming_the_argument(self):
        model = tiny()
        model.compile()
        with pytest.raises(ValueError, match=r"`y` must have shape \(N, 3\)"):
            model.fit(IMAGES, np.zeros((24, 4), "float32"), verbose=0)
        with pytest.raises(ValueError, match=r"`y` as class ids must be ints in \[0"):
            model.fit(IMAGES, np.full(24, 3), verbose=0)
        with pytest.raises(ValueError, match="IFcVAEGAN trains on images and labels"):
            model.fit(IMAGES, verbose=0)
        with pytest.raises(ValueError, match=r"Labels `y` must have 3 columns"):
            model.autoencoder_loss((IMAGES, np.zeros((24, 2), "float32")))
        with pytest.raises(ValueError, match=r"Unknown attribute.*\['d'\].*'a'"):
            model.generate({"d": 1})
        with pytest.raises(ValueError, match=r"Unknown attribute.*\['e'\]"):
            model.transform(IMAGES[:2], {"e": 1})
        with pytest.raises(ValueError, match=r"`attributes` as an array.*\(3,\)"):
            model.transform(IMAGES[:2], np.array([1, 0]))
        with pytest.raises(ValueError, match=r"`labels` must have shape \(3,\)"):
            model.decode(np.zeros((2, 4)), np.zeros((2, 4)))
        with pytest.raises(ValueError, match=r"shape \(batch, 8, 8, 1\)"):
            model.reconstruct(np.zeros((2, 9, 9, 1), "float32"))

    def test_constructor_checks_its_arguments(self):
        cases = [
            ({"label_type": "ordinal"}, r"`label_type` must be one of"),
            ({"architecture": "transformer"}, r"`architecture` must be one of"),
            ({"kl_weight": -0.1}, "`kl_weight` must be a finite number >= 0"),
            ({"reconstruction_weight": 0.0}, "`reconstruction_weight` must be > 0"),
            ({"label_weight": -1.0}, "`label_weight` must be a finite number"),
            ({"adversarial_weight": -1.0}, "`adversarial_weight` must be a finite"),
            (
                {"label_reconstruction_weight": float("nan")},
                "`label_reconstruction_weight` must be a finite",
            ),
            ({"information_factorization": "yes"}, "`information_factorization`"),
            ({"aux_units": ()}, "`aux_units` must be a non-empty"),
            ({"critic_filters": (4, 0)}, "`critic_filters` must be a positive int"),
            ({"latent_dim": 0}, "`latent_dim` must be a positive int"),
            ({"seed": -1}, "`seed` must be None or an int"),
        ]
        for kwargs, message in cases:
            with pytest.raises(ValueError, match=message):
                tiny(**kwargs)


class TestCVAEGAN:
    def test_the_baseline_fixes_its_switches(self):
        model = tiny(CVAEGAN)
        assert model.information_factorization is False
        assert model.label_reconstruction_weight == 0.0
        assert not model.label_reconstruction
        config = model.get_config()
        assert "information_factorization" not in config
        assert "label_reconstruction_weight" not in config
        clone = CVAEGAN.from_config(config)
        assert type(clone) is CVAEGAN and clone.get_config() == config
        for name, value in (
            ("information_factorization", True),
            ("label_reconstruction_weight", 1.0),
        ):
            with pytest.raises(ValueError, match=f"CVAEGAN fixes.*{name}"):
                tiny(CVAEGAN, **{name: value})

    def test_it_trains_as_ifcvaegan_with_the_switches_off(self):
        baseline = tiny(CVAEGAN)
        ablated = tiny(information_factorization=False)
        ablated.set_weights(baseline.get_weights())
        for model in (baseline, ablated):
            model.compile(optimizer=sgd())
            model.fit(IMAGES, CLASS_IDS, batch_size=12, shuffle=False, verbose=0)
        for a, b in zip(baseline.get_weights(), ablated.get_weights()):
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)

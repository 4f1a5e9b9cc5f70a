import inspect
import json
import warnings

import keras
import numpy as np
import pytest

from keras_latent.losses import latent_distance
from keras_latent.models import VAE, LatentConstraints
from keras_latent.models.latent_constraints import OPTIMIZE_OPTIONS, optimize_latents
from tests.test_case import (
    TestCase,
    assert_numpy_bool,
    assert_numpy_float32,
    assert_same_weights,
    to_numpy,
)

RNG = np.random.RandomState(0)
IMAGES = RNG.rand(64, 8, 8, 1).astype("float32")
LABELS = (RNG.rand(64, 2) > 0.5).astype("float32")


def tiny_vae():
    return VAE(image_shape=(8, 8, 1), latent_dim=4, hidden_units=(8,), seed=1)


def tiny_lc(model_class=LatentConstraints, **kwargs):
    config = dict(
        vae=tiny_vae(),
        attribute_names=["a", "b"],
        critic_units=(16, 16),
        actor_units=(16,),
        critic_steps=2,
        seed=2,
    )
    config.update(kwargs)
    return model_class(**config)


def toy_problem(model, images):
    """Sharp posteriors of `images` and a separable attribute of their means."""
    z = model.encode_posteriors(images)["z_mean"]
    labels = (z[:, :1] > np.median(z[:, 0])).astype("float32")
    # An untrained encoder's σ ≈ 0.7 would blur a boundary this close.
    return {"z_mean": z, "z_std": np.full_like(z, 1e-3)}, labels


def fit_toy_critic(model, posteriors, labels):
    """An attribute critic "toy" for `toy_problem`'s separable attribute."""
    model.fit_attribute_critic(
        posteriors,
        labels,
        ["toy"],
        hidden_units=(16,),
        epochs=40,
        batch_size=32,
        learning_rate=1e-2,
        verbose=0,
    )


def replay_actor_loss(model, labels):
    """`actor_loss` on `labels`, and its prior draw replayed by hand.

    Returns `(loss, logs, z, z', realism)`, realism being the mean
    `softplus(−D(z', y))` computed in NumPy.
    """
    seed_state = to_numpy(model.seed_generator.state).copy()
    loss, logs = model.actor_loss((IMAGES[: len(labels)], labels))
    model.seed_generator.state.assign(seed_state)
    z = to_numpy(model._prior(len(labels)))
    z_new = to_numpy(model.apply_actor(z, labels))
    logits = to_numpy(model.critic([z_new, labels]))[:, 0]
    return loss, logs, z, z_new, np.mean(np.log1p(np.exp(-logits)))


class CriticOnly(LatentConstraints):
    def build_phases(self):
        return [p for p in super().build_phases() if p.player == "critic"]


class ActorOnly(LatentConstraints):
    def build_phases(self):
        return [p for p in super().build_phases() if p.player == "actor"]


def _values(network):
    return [to_numpy(v).copy() for v in network.weights]


def _changed(before, network):
    return any(not np.allclose(a, to_numpy(b)) for a, b in zip(before, network.weights))


class TestLatentConstraints(TestCase):
    def test_serialization_round_trips(self, tmp_path):
        model = tiny_lc(
            attribute_critics=[
                {
                    "attribute_names": ["c"],
                    "hidden_units": [8],
                    "label_type": "multi_label",
                }
            ]
        )
        model.latent_std.assign([0.5, 0.6, 0.7, 0.8])
        z = RNG.randn(3, 4).astype("float32")
        y = LABELS[:3]

        def outputs(m):
            return keras.ops.concatenate(
                [
                    keras.ops.reshape(m([z, y]), (3, -1)),
                    m.critic([z, y]),
                    m.attribute_critic_networks[0](z),
                    keras.ops.broadcast_to(m.latent_std, (3, 4)),
                ],
                axis=1,
            )

        loaded = self.run_serialization_test(model, outputs, tmp_path)
        assert loaded.known_attributes == ["c"]
        assert_same_weights(loaded.vae, model.vae)

    @pytest.mark.parametrize(
        "model_class, moved, still",
        [(CriticOnly, "critic", "actor"), (ActorOnly, "actor", "critic")],
    )
    def test_each_phase_moves_only_its_own_player(self, model_class, moved, still):
        model = tiny_lc(model_class)
        model.compile()
        before = {
            name: _values(getattr(model, name)) for name in ("critic", "actor", "vae")
        }
        model.fit(IMAGES, LABELS, batch_size=16, epochs=1, verbose=0)
        assert _changed(before[moved], getattr(model, moved))
        assert not _changed(before[still], getattr(model, still))
        assert not _changed(before["vae"], model.vae)

    def test_full_fit_trains_both_players_and_keeps_the_vae(self):
        model = tiny_lc()
        model.compile()
        posteriors = model.encode_posteriors(IMAGES)
        model.compute_statistics(posteriors, LABELS)
        vae_before = _values(model.vae)
        history = model.fit(posteriors, LABELS, batch_size=16, epochs=2, verbose=0)
        logs = history.history
        for key in ("critic_loss", "actor_loss", "distance", "gradient_penalty"):
            assert np.all(np.isfinite(logs[key])), key
        assert not _changed(vae_before, model.vae)
        # The optimizers stepped critic_steps times per actor step.
        steps = 2 * 4
        assert int(to_numpy(model.optimizer["critic"].iterations)) == 2 * steps
        assert int(to_numpy(model.optimizer["actor"].iterations)) == steps

    def test_critic_learns_against_a_frozen_actor(self):
        model = tiny_lc(critic_steps=3)
        model.actor.trainable = False
        model.compile(
            optimizer={p: keras.optimizers.Adam(1e-3) for p in ("critic", "actor")}
        )
        self.run_fit_test(model, (IMAGES, LABELS), "critic_loss", epochs=6)

    def test_mismatched_labels_equal_to_the_real_ones_are_not_fakes(self):
        # With one label vector for the whole batch every shuffle matches, so
        # the mismatched term must add nothing to the critic's loss.
        same = np.tile([[1.0, 0.0]], (16, 1)).astype("float32")
        losses, weights = [], None
        for mismatched in (True, False):
            model = tiny_lc(mismatched_labels=mismatched, gradient_penalty_weight=0.0)
            weights = weights or model.get_weights()
            model.set_weights(weights)
            losses.append(to_numpy(model.critic_loss((IMAGES[:16], same))[0]))
        np.testing.assert_allclose(losses[0], losses[1], rtol=1e-5)

    def test_statistics_match_hand_computations(self):
        model = tiny_lc()
        model.compute_statistics(IMAGES, LABELS)
        _, std = model.vae.encode(IMAGES)
        np.testing.assert_allclose(
            to_numpy(model.latent_std), to_numpy(std).mean(axis=0), rtol=1e-5
        )
        np.testing.assert_allclose(to_numpy(model.label_prior), LABELS.mean(0))

        z_new = RNG.randn(5, 4).astype("float32")
        z_old = RNG.randn(5, 4).astype("float32")
        sigma = np.array([0.5, 1.0, 2.0, 0.1], "float32")
        expected = np.mean(np.log(1 + (z_new - z_old) ** 2) / sigma**2, axis=1)
        np.testing.assert_allclose(
            to_numpy(latent_distance(z_new, z_old, sigma)), expected, rtol=1e-5
        )

    def test_actor_loss_is_realism_plus_weighted_distance(self):
        model = tiny_lc(distance_weight=0.5)
        model.latent_std.assign([0.5, 1.0, 2.0, 0.1])
        loss, logs, z, z_new, realism = replay_actor_loss(model, LABELS[:8])
        distance = np.mean(
            np.log1p((z_new - z) ** 2) / np.array([0.5, 1.0, 2.0, 0.1]) ** 2
        )
        np.testing.assert_allclose(to_numpy(logs["distance"]), distance, rtol=1e-4)
        np.testing.assert_allclose(to_numpy(loss), realism + 0.5 * distance, rtol=1e-4)

    def test_fit_attribute_critic_learns_a_separable_attribute(self):
        model = tiny_lc()
        images = RNG.rand(400, 8, 8, 1).astype("float32")
        posteriors, labels = toy_problem(model, images)
        fit_toy_critic(model, {k: v[:300] for k, v in posteriors.items()}, labels[:300])
        assert model.known_attributes == ["toy"]
        scores = model.attribute_scores(images[300:], ["toy"])["toy"]
        accuracy = np.mean((scores > 0.5) == labels[300:, 0])
        assert accuracy > 0.85, accuracy

    def test_fit_attribute_critic_stops_early_on_validation_loss(self):
        model = tiny_lc()
        noise = (RNG.rand(64, 1) > 0.5).astype("float32")  # nothing to learn
        history = model.fit_attribute_critic(
            IMAGES,
            noise,
            ["noise"],
            hidden_units=(64,),
            epochs=60,
            learning_rate=1e-2,
            validation_data=(IMAGES[:16], 1 - noise[:16]),
            patience=2,
            verbose=0,
        )
        assert len(history.epoch) < 60
        best = int(np.argmin(history.history["val_loss"]))
        z = model.encode_posteriors(IMAGES[:16])["z_mean"]
        logits = to_numpy(model.attribute_critic_networks[0](z))[:, 0]
        target = 1 - noise[:16, 0]
        loss = np.mean(np.logaddexp(0, logits) - target * logits)
        # The kept weights are the best epoch's (val uses posterior means too).
        np.testing.assert_allclose(loss, history.history["val_loss"][best], rtol=1e-3)

    def test_fit_attribute_critic_reads_datasets_and_folders(self, tmp_path):
        import tensorflow as tf
        from PIL import Image

        from keras_latent.datasets import image_folder_arrays

        model = tiny_lc(vae=VAE(image_shape=(8, 8, 3), latent_dim=4, hidden_units=(8,)))
        images = RNG.rand(12, 8, 8, 3).astype("float32")
        labels = (RNG.rand(12, 1) > 0.5).astype("float32")
        dataset = tf.data.Dataset.from_tensor_slices((images, labels)).batch(5)
        model.fit_attribute_critic(
            dataset, None, ["x"], hidden_units=(4,), epochs=1, verbose=0
        )
        lines = ["filename,y"]
        for i, image in enumerate(images):
            Image.fromarray((image * 255).astype("uint8")).resize((16, 12)).save(
                tmp_path / f"{i}.png"
            )
            lines.append(f"{i}.png,{int(labels[i, 0])}")
        (tmp_path / "labels.csv").write_text("\n".join(lines) + "\n")
        # Models never read files: a folder is loaded by the datasets package,
        # as the error says.
        for folder in (str(tmp_path), tmp_path):
            with pytest.raises(
                ValueError, match=r"(?s)takes arrays, not files.*image_folder_arrays\("
            ):
                model.fit_attribute_critic(folder, "labels.csv", ["y"], verbose=0)
        folder_images, folder_labels, _ = image_folder_arrays(
            tmp_path, "labels.csv", attributes=["y"], image_size=8
        )
        model.fit_attribute_critic(
            folder_images / 255,
            folder_labels,
            ["y"],
            hidden_units=(4,),
            epochs=1,
            verbose=0,
        )
        assert model.known_attributes == ["x", "y"]
        assert model.attribute_scores(images, ["y"])["y"].shape == (12,)
        z = model.encode_posteriors(images)["z_mean"]
        assert model.attribute_scores(z, ["y"], latents=True)["y"].shape == (12,)
        with pytest.raises(ValueError, match="must be latents of shape"):
            model.attribute_scores(images, ["y"], latents=True)

    def test_transform_optimize_raises_the_target_score(self):
        model = tiny_lc()
        images = RNG.rand(400, 8, 8, 1).astype("float32")
        posteriors, labels = toy_problem(model, images)
        fit_toy_critic(model, posteriors, labels)
        scores = model.attribute_scores(images, ["toy"])["toy"]
        off = images[np.argsort(scores)[:8]]
        before = model.attribute_scores(off, ["toy"])["toy"]
        edited, z = model.transform(
            off,
            {"toy": 1},
            method="optimize",
            steps=200,
            learning_rate=5e-2,
            realism_weight=0.0,
            return_latents=True,
        )
        after = model.attribute_scores(z, ["toy"], latents=True)["toy"]
        assert edited.shape == off.shape
        assert np.all(after > before)
        assert np.mean(after > 0.5) >= 0.75, after
        verdicts = model.satisfies(off, {"toy": 0})
        assert set(verdicts) == {"toy", "realism"}
        assert verdicts["toy"].dtype == bool and verdicts["toy"].shape == (8,)

    def test_generate_and_transform_with_the_actor(self):
        model = tiny_lc()
        model.fit_attribute_critic(
            IMAGES, LABELS, ["a", "b"], hidden_units=(8,), epochs=1, verbose=0
        )
        a = model.generate({"a": 1}, num_samples=5, seed=4)
        assert a.shape == (5, 8, 8, 1) and a.dtype == np.float32
        np.testing.assert_array_equal(
            a, model.generate({"a": 1}, num_samples=5, seed=4)
        )
        assert a.min() >= 0.0 and a.max() <= 1.0
        labels = model.label_vectors({"a": 1}, 50, seed=0)
        assert np.all(labels[:, 0] == 1) and set(np.unique(labels[:, 1])) <= {0, 1}
        array = model.generate(np.array([1.0, 0.0]), num_samples=3, seed=4)
        assert array.shape == (3, 8, 8, 1)
        edited = model.transform(IMAGES[:4], {"b": 0}, method="actor")
        assert edited.shape == (4, 8, 8, 1)
        edited_uint8 = model.transform(
            (IMAGES[:4] * 255).astype("uint8"), {"b": 0}, method="actor"
        )
        assert edited_uint8.shape == (4, 8, 8, 1)

    def test_zero_shot_constraint_on_the_latent(self):
        model = tiny_lc()
        _, z = model.generate(
            num_samples=6,
            seed=1,
            constraint=lambda z: keras.ops.square(z[:, 0] - 3.0),
            constraint_space="latent",
            steps=150,
            learning_rate=5e-2,
            realism_weight=0.0,
            distance_weight=0.0,
            return_latents=True,
        )
        _, z_free = model.generate(num_samples=6, seed=1, return_latents=True)
        assert np.all(np.abs(z[:, 0] - 3.0) < np.abs(z_free[:, 0] - 3.0))
        assert np.all(np.abs(z[:, 0] - 3.0) < 0.5), z[:, 0]

    def test_zero_shot_constraint_on_the_image(self):
        model = tiny_lc()
        dark = model.generate(
            num_samples=4,
            seed=1,
            constraint=lambda x: keras.ops.mean(x, axis=(1, 2, 3)),
            steps=60,
            learning_rate=5e-2,
            realism_weight=0.0,
            distance_weight=0.0,
        )
        plain = model.generate(num_samples=4, seed=1)
        assert dark.mean() < plain.mean()

    def test_fit_actor_on_new_attributes(self, tmp_path):
        model = tiny_lc()
        posteriors, labels = toy_problem(model, IMAGES)
        model.fit_attribute_critic(
            posteriors, labels, ["c"], hidden_units=(8,), epochs=1, verbose=0
        )
        model.compile()
        new = np.concatenate([LABELS, 1 - LABELS[:, :1]], axis=1)
        history = model.fit_actor(
            IMAGES, new, attribute_names=["a", "b", "c"], batch_size=16, verbose=0
        )
        assert model.attribute_names == ["a", "b", "c"]
        assert model.critic.input[1].shape[-1] == 3
        assert np.isfinite(history.history["actor_loss"][-1])
        assert model.generate({"c": 1}, num_samples=2, seed=0).shape == (2, 8, 8, 1)
        np.testing.assert_allclose(to_numpy(model.label_prior), new.mean(0))
        clone = LatentConstraints.from_config(model.get_config())
        assert clone.attribute_names == ["a", "b", "c"]
        # The replaced actor, critic and label prior are gone from the
        # model's variables, so the retrained model saves and reloads.
        assert len(clone.weights) == len(model.weights)
        z = RNG.randn(3, 4).astype("float32")

        def outputs(m):
            return keras.ops.concatenate(
                [
                    keras.ops.reshape(m([z, new[:3]]), (3, -1)),
                    m.critic([z, new[:3]]),
                    m.attribute_critic_networks[0](z),
                ],
                axis=1,
            )

        loaded = self.run_serialization_test(model, outputs, tmp_path)
        assert loaded.attribute_names == ["a", "b", "c"]

    def test_categorical_labels(self):
        model = tiny_lc(
            attribute_names=[str(i) for i in range(3)], label_type="categorical"
        )
        labels = model.label_vectors({"2": 1}, 4, seed=0)
        np.testing.assert_array_equal(labels, np.tile([0, 0, 1], (4, 1)))
        drawn = model.label_vectors(None, 20, seed=0)
        np.testing.assert_array_equal(drawn.sum(axis=1), np.ones(20))
        with pytest.raises(ValueError, match="at most one"):
            model.label_vectors({"1": 1, "2": 1}, 4)

    def test_bad_arguments(self):
        model = tiny_lc()
        with pytest.raises(
            ValueError, match=r"Unknown attribute.*'Smiling'.*\['a', 'b'\]"
        ):
            model.generate({"Smiling": 1})
        with pytest.raises(ValueError, match="num_samples=4"):
            model.generate(4)
        with pytest.raises(ValueError, match="must be set to 0 or 1"):
            model.generate({"a": 2})
        with pytest.raises(ValueError, match=r"shape \(2,\) or \(3, 2\)"):
            model.generate(np.zeros((3, 5)), num_samples=3)
        with pytest.raises(ValueError, match="method"):
            model.transform(IMAGES[:2], {"a": 1}, method="magic")
        with pytest.raises(ValueError, match=r"shape \(batch, 8, 8, 1\)"):
            model.transform(np.zeros((2, 4, 4, 1), "float32"), {"a": 1})
        with pytest.raises(ValueError, match="no attribute critic"):
            model.transform(IMAGES[:2], {"a": 1})
        # With every conditioning attribute given, no critic is needed.
        shape = model.transform(IMAGES[:2], {"a": 1, "b": 0}, method="actor").shape
        assert shape == (2, 8, 8, 1)
        with pytest.raises(ValueError, match=r"`y` must have shape \(batch, 2\)"):
            model.compile()
            model.fit(IMAGES, LABELS[:, :1], verbose=0)
        with pytest.raises(ValueError, match="label vectors"):
            model.fit(IMAGES, verbose=0)
        with pytest.raises(ValueError, match="label_type"):
            tiny_lc(label_type="ordinal")
        with pytest.raises(ValueError, match="`vae` must be"):
            tiny_lc(vae="celeba")
        with pytest.raises(ValueError, match=r"\(N, 1\)"):
            model.fit_attribute_critic(IMAGES, LABELS, ["new"], verbose=0)
        assert model.known_attributes == []

    def test_float_images_outside_the_unit_range_are_rejected(self):
        model = tiny_lc()
        every = {"a": 1, "b": 0}  # every conditioning label: no critic needed
        pixels, signed = IMAGES * 255, IMAGES * 2 - 1
        for call in (
            lambda x: model.transform(x, every),
            lambda x: model.transform(x, every, method="optimize", steps=1),
            lambda x: model.satisfies(x, every),
            lambda x: model.encode_posteriors(x),
            lambda x: model.reconstruct(x),
            # The shared check of `inputs.py`, in the VAE's own methods.
            lambda x: model.vae.reconstruct(x),
            lambda x: model.vae.encode(x),
        ):
            with pytest.raises(ValueError, match=r"`images` must be float .*255"):
                call(pixels)
            with pytest.raises(ValueError, match=r"\(images \+ 1\) / 2"):
                call(signed)
        with pytest.raises(ValueError, match=r"`x` must be float.*`x / 255`"):
            model.fit_attribute_critic(pixels, LABELS[:, :1], ["c"], verbose=0)
        with pytest.raises(ValueError, match=r"`validation_data\[0\]` must be"):
            model.fit_attribute_critic(
                IMAGES,
                LABELS[:, :1],
                ["c"],
                validation_data=(pixels[:8], LABELS[:8, :1]),
                verbose=0,
            )
        with pytest.raises(ValueError, match=r"`x` must be float"):
            model.compute_statistics(signed, LABELS)
        with pytest.raises(ValueError, match=r"`x` must be float"):
            model.fit_actor(pixels, LABELS, attribute_names=["a", "c"], verbose=0)
        assert model.attribute_names == ["a", "b"]
        assert model.known_attributes == []
        # Rounding just past the ends is fine; uint8 is divided by 255.
        edge = IMAGES.copy()
        edge[0, 0, 0, 0], edge[1, 0, 0, 0] = 1.0005, -0.0005
        assert model.transform(edge, every, method="actor").shape == IMAGES.shape
        uint8 = (IMAGES * 255).astype("uint8")
        np.testing.assert_allclose(
            model.reconstruct(uint8), model.reconstruct(uint8 / 255.0), atol=1e-6
        )
        # Backend tensors are not read (that would sync the device), so the
        # training step never checks values.
        model.vae.encode(keras.ops.convert_to_tensor(pixels[:2]))

    def test_labels_must_be_zero_or_one(self):
        model = tiny_lc()
        signed = LABELS * 2 - 1  # the official CelebA file's -1/1 encoding
        with pytest.raises(ValueError, match=r"`y` must hold 0/1.*\(y \+ 1\) // 2"):
            model.fit_attribute_critic(IMAGES, signed[:, :1], ["c"], verbose=0)
        with pytest.raises(ValueError, match=r"`validation_data\[1\]` must hold"):
            model.fit_attribute_critic(
                IMAGES,
                LABELS,
                ["c", "d"],
                validation_data=(IMAGES[:8], signed[:8]),
                verbose=0,
            )
        with pytest.raises(ValueError, match=r"`y` must hold 0/1.*: 0\.5"):
            model.fit_attribute_critic(IMAGES, LABELS[:, :1] / 2, ["c"], verbose=0)
        with pytest.raises(ValueError, match=r"`y` must hold 0/1"):
            model.compute_statistics(IMAGES, signed)
        with pytest.raises(ValueError, match=r"`y` must hold 0/1"):
            model.fit_actor(IMAGES, signed, attribute_names=["a", "c"], verbose=0)
        assert model.attribute_names == ["a", "b"]
        assert model.known_attributes == []
        np.testing.assert_allclose(to_numpy(model.label_prior), [0.5, 0.5])
        categorical = tiny_lc(attribute_names=["0", "1"], label_type="categorical")
        with pytest.raises(ValueError, match=r"`y` must be one-hot"):
            categorical.compute_statistics(IMAGES, np.ones((64, 2), "float32"))
        with pytest.raises(ValueError, match=r"`y` must be one-hot"):
            categorical.fit_attribute_critic(
                IMAGES, LABELS, ["c", "d"], label_type="categorical", verbose=0
            )

    def test_generate_checks_label_arrays_like_dicts(self):
        model = tiny_lc()
        with pytest.raises(
            ValueError, match=r"shape \(2,\) or \(3, 2\).*Received shape \(5,\)"
        ):
            model.generate(np.ones(5), num_samples=3)
        with pytest.raises(ValueError, match=r"`attributes` must hold 0/1.*: 3"):
            model.generate(np.full(2, 3.0), num_samples=2)
        with pytest.raises(
            ValueError, match=r"`attributes` must hold 0/1.*\+ 1\) // 2"
        ):
            model.generate(np.array([[1.0, -1.0]]), num_samples=1)
        for names in (["b"], "b", ("b",), {"b"}, np.array(["b"])):
            with pytest.raises(ValueError, match=r"pass a dict such as \{'b': 1\}"):
                model.generate(names, num_samples=2)
        with pytest.raises(ValueError, match=r"such as \{'a': 1, 'b': 1\}"):
            model.generate(["a", "b"], num_samples=2)
        bools = model.generate(np.array([True, False]), num_samples=2, seed=0)
        floats = model.generate(np.array([1.0, 0.0]), num_samples=2, seed=0)
        np.testing.assert_array_equal(bools, floats)
        categorical = tiny_lc(attribute_names=["0", "1"], label_type="categorical")
        with pytest.raises(ValueError, match="one-hot"):
            categorical.generate(np.array([1.0, 1.0]), num_samples=2)
        assert categorical.generate(np.array([0, 1]), num_samples=2).shape == (
            2,
            8,
            8,
            1,
        )

    def test_transform_takes_lists_and_checks_its_options(self):
        model = tiny_lc()
        every = {"a": 1, "b": 0}
        np.testing.assert_allclose(
            model.transform(list(IMAGES[:3]), every, method="actor"),
            model.transform(IMAGES[:3], every, method="actor"),
            atol=1e-6,
        )
        with pytest.raises(ValueError, match="`images` as a list must hold images"):
            model.transform([IMAGES[0], IMAGES[1, :4]], every)
        with pytest.raises(ValueError, match=r"`images` must hold at least one image"):
            model.transform(IMAGES[:0], every)
        with pytest.raises(ValueError, match="at least one image"):
            model.transform([], every)
        with pytest.raises(ValueError, match=r"`images` must hold at least one image"):
            model.vae.reconstruct(IMAGES[:0])
        with pytest.raises(
            ValueError,
            match=r"`transform` got unknown keyword argument\(s\) \['step'\]\..*"
            r"'return_latents'.*'learning_rate'.*Did you mean 'steps'\?",
        ):
            model.transform(IMAGES[:2], every, method="optimize", step=5)
        with pytest.raises(ValueError, match=r"\['steps'\] are options of the"):
            model.transform(IMAGES[:2], every, method="actor", steps=5)
        # With a constraint the actor's output is optimised: options apply.
        edited = model.transform(
            IMAGES[:2],
            every,
            method="actor",
            constraint=lambda z: keras.ops.sum(z, axis=-1),
            constraint_space="latent",
            steps=2,
        )
        assert edited.shape == (2, 8, 8, 1)
        with pytest.raises(ValueError, match=r"\['steps'\] are options of the"):
            model.generate({"a": 1}, num_samples=2, steps=5)
        with pytest.raises(ValueError, match=r"unknown keyword.*\['lr'\]"):
            model.generate(num_samples=2, constraint=lambda x: x[:, 0, 0, 0], lr=1)
        for option, bad in (
            ("steps", 0),
            ("steps", 2.5),
            ("learning_rate", 0.0),
            ("threshold", 1.0),
            ("realism_weight", -1.0),
            ("distance_weight", "0.1"),
        ):
            with pytest.raises(ValueError, match=f"option `{option}` must be"):
                model.transform(IMAGES[:2], every, method="optimize", **{option: bad})
        # The options named in errors are the optimisation's keywords.
        keywords = list(inspect.signature(optimize_latents).parameters)
        assert keywords[keywords.index("anchor") + 1 :] == list(OPTIMIZE_OPTIONS)


def test_categorical_class_set_to_zero_draws_another_class():
    model = tiny_lc(attribute_names=["a", "b", "c"], label_type="categorical")
    labels = model.label_vectors({"b": 0}, num_samples=300, seed=0)
    # Every row is still one-hot, never on "b", and both others occur.
    np.testing.assert_array_equal(labels.sum(axis=1), 1.0)
    assert labels[:, 1].sum() == 0
    assert labels[:, 0].sum() > 0 and labels[:, 2].sum() > 0
    with pytest.raises(ValueError, match="must stay possible"):
        model.label_vectors({"a": 0, "b": 0, "c": 0}, num_samples=2)


def _reference_search(z_start, a, w, sigma, steps, learning_rate, weights, size):
    """The search as first written: NumPy Adam moments, masked by the stop."""
    realism_weight, distance_weight = weights
    out = []
    for start in range(0, len(z_start), size):
        z = z_start[start : start + size].astype("float64")
        z0, m, v = z.copy(), np.zeros_like(z), np.zeros_like(z)
        active = np.ones((len(z), 1))
        for step in range(1, steps + 1):
            real, attribute = z @ a, z @ w
            active = active * ~((real > 0) & (attribute > 0))[:, None]
            if not active.any():
                break
            d = z - z0
            grad = (
                -realism_weight / (1 + np.exp(real))[:, None] * a
                - 1 / (1 + np.exp(attribute))[:, None] * w
                + distance_weight * 2 * d / (1 + d**2) / sigma**2 / z.shape[1]
            )
            m = 0.9 * m + 0.1 * grad
            v = 0.999 * v + 0.001 * grad**2
            m_hat, v_hat = m / (1 - 0.9**step), v / (1 - 0.999**step)
            z = z - active * learning_rate * m_hat / (np.sqrt(v_hat) + 1e-8)
        out.append(z)
    return np.concatenate(out)


def test_optimize_latents_is_adam_with_a_per_example_stop():
    rng = np.random.default_rng(0)
    a = np.array([0.5, -1.0, 0.25, 0.0], "float32")  # the realism logit's slope
    w = np.array([1.0, 0.5, -0.5, 2.0], "float32")  # the attribute's
    critic = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(1, use_bias=False)]
    )
    critic.set_weights([w[:, None]])
    z_start = rng.standard_normal((10, 4)).astype("float32")
    sigma = np.array([0.5, 1.0, 2.0, 0.8], "float32")
    z = optimize_latents(
        z_start,
        np.zeros((10, 1), "float32"),
        lambda z, y: keras.ops.sum(keras.ops.multiply(z, a), axis=-1),
        [((critic, 0, "multi_label"), np.ones(10, "float32"))],
        sigma,
        batch_size=4,
        steps=150,
        learning_rate=5e-2,
        attribute_weight=1.0,
        realism_weight=0.3,
        distance_weight=0.2,
        threshold=0.5,
    )
    expected = _reference_search(z_start, a, w, sigma, 150, 5e-2, (0.3, 0.2), 4)
    np.testing.assert_allclose(z, expected, atol=1e-4)
    # Examples that pass at the start never move; the others all end passing.
    passing = (z_start @ a > 0) & (z_start @ w > 0)
    assert 0 < passing.sum() < 10
    np.testing.assert_array_equal(z[passing], z_start[passing])
    assert np.all((z @ a > 0) & (z @ w > 0))


# -- NumPy out, NumPy ints, and argument checks (issue 15) -------------------------


def _with_critic():
    model = tiny_lc()
    model.fit_attribute_critic(
        IMAGES, LABELS, ["a", "b"], hidden_units=(8,), epochs=1, verbose=0
    )
    return model


def test_every_inference_method_returns_float32_numpy():
    model = _with_critic()
    mean, std = model.encode(IMAGES[:5])
    assert_numpy_float32(mean, (5, 4))
    assert_numpy_float32(std, (5, 4))
    assert_numpy_float32(model.decode(mean), (5, 8, 8, 1))
    assert_numpy_float32(model.reconstruct(IMAGES[:5]), (5, 8, 8, 1))
    posteriors = model.encode_posteriors(IMAGES[:5])
    assert_numpy_float32(posteriors["z_mean"], (5, 4))
    assert_numpy_float32(posteriors["z_std"], (5, 4))
    np.testing.assert_allclose(posteriors["z_mean"], mean, atol=1e-6)
    labels = model.label_vectors({"a": 1}, 5, seed=0)
    assert_numpy_float32(labels, (5, 2))
    z_new = model.apply_actor(mean, labels)
    assert_numpy_float32(z_new, (5, 4))
    np.testing.assert_allclose(
        z_new, model.apply_actor(keras.ops.convert_to_tensor(mean), labels), atol=1e-6
    )
    images, z = model.generate({"a": 1}, num_samples=3, seed=0, return_latents=True)
    assert_numpy_float32(images, (3, 8, 8, 1))
    assert_numpy_float32(z, (3, 4))
    for method in ("actor", "optimize"):
        edited, z = (
            model.transform(
                IMAGES[:3], {"a": 1}, method=method, steps=2, return_latents=True
            )
            if method == "optimize"
            else model.transform(IMAGES[:3], {"a": 1}, return_latents=True)
        )
        assert_numpy_float32(edited, (3, 8, 8, 1))
        assert_numpy_float32(z, (3, 4))
    for scores in (
        model.attribute_scores(IMAGES[:3]),
        model.attribute_scores(mean, latents=True),
    ):
        for name in ("a", "b"):
            assert_numpy_float32(scores[name], (len(scores[name]),))
    verdicts = model.satisfies(IMAGES[:3], {"a": 1})
    for verdict in verdicts.values():
        assert_numpy_bool(verdict, (3,))


def test_apply_actor_and_decode_check_shapes():
    model = tiny_lc()
    with pytest.raises(ValueError, match=r"`z` must have shape \(N, 4\).*latent_dim=4"):
        model.decode(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"`z` must have shape \(N, 4\)"):
        model.apply_actor(np.zeros((2, 3)), LABELS[:2])
    with pytest.raises(
        ValueError, match=r"`y` must be numeric label vectors .*\(2, 2\)"
    ):
        model.apply_actor(np.zeros((2, 4)), LABELS[:3])
    with pytest.raises(ValueError, match="`images` must be numeric images"):
        model.encode(np.full((2, 8, 8, 1), "a"))
    with pytest.raises(ValueError, match=r"shape \(batch, 8, 8, 1\)"):
        model.transform(np.zeros((2, 1, 1, 1), "float32"), {"a": 1, "b": 0})


def test_numpy_integers_are_ints():
    model = tiny_lc(
        critic_steps=np.int64(2), seed=np.int64(2), label_embedding_dim=np.int64(8)
    )
    json.dumps(model.get_config())
    a = model.generate(
        {"a": 1, "b": 0},
        num_samples=np.int64(3),
        seed=np.int64(4),
        batch_size=np.int32(2),
    )
    # Another batch size: the same draws, up to float rounding.
    np.testing.assert_allclose(
        a, model.generate({"a": 1, "b": 0}, num_samples=3, seed=4), atol=1e-6
    )
    np.testing.assert_array_equal(
        model.label_vectors(None, np.int64(4), seed=np.int64(1)),
        model.label_vectors(None, 4, seed=1),
    )
    edited = model.transform(
        IMAGES[:2],
        {"a": 1, "b": 0},
        method="actor",
        constraint=lambda z: keras.ops.sum(z, axis=-1),
        constraint_space="latent",
        steps=np.int64(2),
        batch_size=np.int64(1),
    )
    assert edited.shape == (2, 8, 8, 1)
    with pytest.raises(ValueError, match="num_samples=4"):
        model.generate(np.int64(4))


def test_one_rule_for_seeds_and_batch_sizes():
    model = tiny_lc()
    for bad in (-1, 2**31, 1.5):
        with pytest.raises(ValueError, match=r"`seed` must be None or an int"):
            model.generate(num_samples=2, seed=bad)
        with pytest.raises(ValueError, match=r"`seed` must be None or an int"):
            model.label_vectors(None, 2, seed=bad)
        with pytest.raises(ValueError, match=r"`seed` must be None or an int"):
            tiny_lc(seed=bad)
    every = {"a": 1, "b": 0}
    for bad in (0, -1):
        with pytest.raises(ValueError, match="`batch_size` must be a positive"):
            model.generate(every, num_samples=2, batch_size=bad)
        with pytest.raises(ValueError, match="`batch_size` must be a positive"):
            model.transform(IMAGES[:2], every, batch_size=bad)
        with pytest.raises(ValueError, match="`batch_size` must be a positive"):
            model.encode_posteriors(IMAGES[:2], batch_size=bad)
        with pytest.raises(ValueError, match="`batch_size` must be a positive"):
            model.fit_attribute_critic(IMAGES, LABELS, ["a", "b"], batch_size=bad)
    assert model.known_attributes == []


def test_constructor_checks_the_weights():
    for argument in ("distance_weight", "gradient_penalty_weight"):
        for bad in (-1.0, float("nan")):
            with pytest.raises(ValueError, match=f"`{argument}` must be a finite"):
                tiny_lc(**{argument: bad})
    assert tiny_lc(distance_weight=0.0).distance_weight == 0.0


def test_a_single_string_is_one_attribute_name():
    model = tiny_lc(attribute_names="abc")
    assert model.attribute_names == ["abc"]
    assert model.critic.input[1].shape[-1] == 1
    model.fit_attribute_critic(
        IMAGES, LABELS[:, :1], "Bangs", hidden_units=(4,), epochs=1, verbose=0
    )
    assert model.known_attributes == ["Bangs"]
    assert set(model.attribute_scores(IMAGES[:3], "Bangs")) == {"Bangs"}
    model.compile()
    model.fit_actor(IMAGES, LABELS[:, :1], attribute_names="Bangs", verbose=0)
    assert model.attribute_names == ["Bangs"]


def test_a_non_finite_constraint_raises_and_a_constant_one_warns():
    model = tiny_lc()
    every = {"a": 1, "b": 0}
    nan = lambda x: keras.ops.mean(x, axis=(1, 2, 3)) * float("nan")  # noqa: E731
    with pytest.raises(ValueError, match="`constraint` returned 3 non-finite"):
        model.generate(every, num_samples=3, seed=0, constraint=nan, steps=2)
    with pytest.raises(ValueError, match="`constraint` returned .* non-finite"):
        model.transform(
            IMAGES[:2],
            every,
            method="actor",
            constraint=lambda z: keras.ops.log(z[:, 0] * 0.0 - 1.0),
            constraint_space="latent",
            steps=2,
        )
    constant = lambda x: keras.ops.ones((keras.ops.shape(x)[0],))  # noqa: E731
    with pytest.warns(UserWarning, match="`constraint` has a zero gradient"):
        model.generate(every, num_samples=2, seed=0, constraint=constant, steps=2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.generate(
            every,
            num_samples=2,
            seed=0,
            constraint=lambda x: keras.ops.mean(x, axis=(1, 2, 3)),
            steps=2,
        )
    # A constraint that depends on z: no warning.
    assert not [w for w in caught if "zero gradient" in str(w.message)]


def test_a_constraint_that_turns_non_finite_mid_search_raises():
    model = tiny_lc()
    # sqrt(z + 10) is finite at z ~ N(0, 1); minimising it with big steps
    # drives z below -10, where its gradient is NaN.
    with pytest.raises(ValueError, match=r"non-finite gradient .* at step \d+"):
        model.generate(
            {"a": 1, "b": 0},
            num_samples=2,
            seed=0,
            constraint=lambda z: keras.ops.sqrt(z[:, 0] + 10.0),
            constraint_space="latent",
            steps=100,
            learning_rate=1.0,
            realism_weight=0.0,
            distance_weight=0.0,
        )


def test_seeds_are_documented_per_backend():
    assert "backend" in LatentConstraints.generate.__doc__

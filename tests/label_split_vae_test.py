"""The label-relevant/irrelevant VAE: phases, learning, inference, errors."""

import keras
import numpy as np
import pytest

from keras_latent.models import LabelRelevantIrrelevantVAE
from keras_latent.trainer import PlayerOptimizers
from tests.test_case import (
    TestCase,
    assert_numpy_float32,
    assert_reads_pixels,
    to_numpy,
)

NAMES = ("a", "b", "c")
CLASS_IDS = np.arange(24) % 3


def toy_images(class_ids, seed=0):
    """8×8 images whose class is a bright vertical band (separable data)."""
    rng = np.random.RandomState(seed)
    images = 0.1 * rng.rand(len(class_ids), 8, 8, 1)
    for i, k in enumerate(class_ids):
        images[i, :, 3 * k : 3 * k + 2] = 0.9
    return images.astype("float32")


IMAGES = toy_images(CLASS_IDS)
ONE_HOT = np.eye(3, dtype="float32")[CLASS_IDS]


def tiny_model(model_class=LabelRelevantIrrelevantVAE, **kwargs):
    config = dict(
        image_shape=(8, 8, 1),
        attribute_names=NAMES,
        relevant_dim=2,
        irrelevant_dim=3,
        filters=(4, 8),
        classifier_units=(8,),
        # One GM update per step unless a test asks for more: JAX compiles
        # each repeat of a phase into the step.
        gm_steps=1,
        seed=1,
    )
    config.update(kwargs)
    return model_class(**config)


def only_phase(name):
    """A subclass whose training step runs only the phase `name`."""

    class OnePhase(LabelRelevantIrrelevantVAE):
        def build_phases(self):
            return [p for p in super().build_phases() if p.name == name]

    return OnePhase


def snapshot(variables):
    return [to_numpy(v).copy() for v in variables]


def changed(before, variables):
    return [not np.allclose(b, to_numpy(v)) for b, v in zip(before, variables)]


NETWORKS = (
    "relevant_encoder",
    "mixture",
    "irrelevant_encoder",
    "decoder",
    "classifier",
)


# -- the players and their phases --------------------------------------------------


def test_players_share_only_the_relevant_encoder():
    model = tiny_model(gm_steps=3)
    players = {k: {id(v) for v in vs} for k, vs in model.players().items()}
    relevant = {id(v) for v in model.relevant_encoder.trainable_variables}
    mixture = {id(v) for v in model.mixture.trainable_variables}
    assert len(mixture) == 2  # the means and the raw variances
    assert players["gaussian_mixture"] == relevant | mixture
    assert players["gaussian_mixture"] & players["autoencoder"] == relevant
    assert not players["classifier"] & (
        players["gaussian_mixture"] | players["autoencoder"]
    )
    assert [p.name for p in model.phases] == ["gm", "joint", "classifier"]
    assert [p.repeat for p in model.phases] == [3, 1, 1]


@pytest.mark.parametrize(
    "phase, moved",
    [
        ("gm", {"relevant_encoder", "mixture"}),
        ("joint", {"relevant_encoder", "irrelevant_encoder", "decoder"}),
        ("classifier", {"classifier"}),
    ],
)
def test_each_phase_changes_only_its_players_variables(phase, moved):
    model = tiny_model(only_phase(phase))
    model.compile()
    groups = {n: getattr(model, n).trainable_variables for n in NETWORKS}
    before = {n: snapshot(vs) for n, vs in groups.items()}
    model.fit(IMAGES, CLASS_IDS, batch_size=12, epochs=1, verbose=0)
    for name, variables in groups.items():
        flags = changed(before[name], variables)
        if name in moved:
            assert any(flags), name
        else:
            assert not any(flags), name


def test_gm_steps_runs_the_gm_stage_that_many_times_per_step():
    # On the MLP architecture, which no other test trains.
    model = tiny_model(gm_steps=2, architecture="mlp", hidden_units=(16,))
    model.compile()
    model.fit(IMAGES, CLASS_IDS, batch_size=12, epochs=2, verbose=0)  # 4 steps
    assert int(model.optimizer["gaussian_mixture"].iterations) == 8
    assert int(model.optimizer["autoencoder"].iterations) == 4
    assert int(model.optimizer["classifier"].iterations) == 4
    assert_numpy_float32(model.reconstruct(IMAGES[:3]), (3, 8, 8, 1))


def test_fit_logs_every_term_and_evaluate_reports_them():
    model = tiny_model(gm_steps=1)
    model.compile()
    history = model.fit(IMAGES, ONE_HOT, batch_size=12, epochs=1, verbose=0)
    keys = {
        "loss",
        "gm_loss",
        "gm_accuracy",
        "gm_classification",
        "gm_likelihood",
        "joint_loss",
        "reconstruction",
        "kl",
        "likelihood",
        "adversarial",
        "classifier_loss",
        "classifier_accuracy",
    }
    assert set(history.history) == keys | {"nonfinite_steps"}
    assert all(np.isfinite(v[0]) for v in history.history.values())
    results = model.evaluate(
        IMAGES, CLASS_IDS, batch_size=12, verbose=0, return_dict=True
    )
    assert set(results) == keys
    # L_adv is a cross-entropy against the uniform guess: at least log K.
    assert results["adversarial"] >= np.log(3) - 1e-4


class TestLearning(TestCase):
    def test_fit_on_separable_toy_data_learns_the_classes(self):
        model = tiny_model(relevant_dim=3, gm_steps=3)
        model.compile(
            optimizer={
                player: keras.optimizers.Adam(3e-3, beta_1=0.5)
                for player in ("gaussian_mixture", "autoencoder", "classifier")
            }
        )
        history = self.run_fit_test(
            model, (IMAGES, CLASS_IDS), "gm_loss", epochs=6, batch_size=12
        )
        logs = history.history
        assert logs["reconstruction"][-1] < logs["reconstruction"][0], logs
        assert logs["gm_accuracy"][-1] > logs["gm_accuracy"][0], logs
        assert logs["gm_accuracy"][-1] >= 0.9, logs
        predicted = model.predict_attributes(IMAGES).argmax(axis=1)
        assert np.mean(predicted == CLASS_IDS) >= 0.9
        # The labels' marginals, for generate(attributes=None).
        np.testing.assert_allclose(to_numpy(model.label_prior), [1 / 3] * 3)


# -- inference ---------------------------------------------------------------------


def test_encode_decode_reconstruct_and_predict_attributes():
    model = tiny_model()
    z_s, z_u = model.encode(IMAGES)
    assert_numpy_float32(z_s, (24, 2))
    assert_numpy_float32(z_u, (24, 3))
    reconstructed = model.reconstruct(IMAGES)
    assert_numpy_float32(reconstructed, IMAGES.shape)
    assert 0.0 <= reconstructed.min() and reconstructed.max() <= 1.0
    np.testing.assert_allclose(model.decode(z_s, z_u), reconstructed, atol=1e-6)
    np.testing.assert_allclose(to_numpy(model(IMAGES)), reconstructed, atol=1e-6)
    probabilities = model.predict_attributes(IMAGES)
    assert_numpy_float32(probabilities, (24, 3))
    # softmax(−d_k) of the GM layer, recomputed in NumPy.
    means = to_numpy(model.mixture.means).astype("float64")
    variances = to_numpy(model.mixture.variances).astype("float64")
    diff = z_s[:, None, :] - means[None]
    d = 0.5 * np.sum(diff**2 / variances, -1) + 0.5 * np.sum(np.log(variances), -1)
    expected = np.exp(-d - np.max(-d, axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(probabilities, expected, atol=1e-5)
    assert_reads_pixels(model.reconstruct, IMAGES[:4])
    assert_reads_pixels(model.predict_attributes, IMAGES[:4])


def test_generate_shapes_range_seeds_and_attribute_forms():
    model = tiny_model()
    images = model.generate({"b": 1}, num_samples=5, seed=3)
    assert_numpy_float32(images, (5, 8, 8, 1))
    assert 0.0 <= images.min() and images.max() <= 1.0
    np.testing.assert_array_equal(
        model.generate({"b": 1}, num_samples=5, seed=3), images
    )
    assert not np.allclose(model.generate({"b": 1}, num_samples=5, seed=4), images)
    one_hot = np.array([0, 1, 0], "float32")
    np.testing.assert_allclose(
        model.generate(one_hot, num_samples=5, seed=3), images, atol=1e-6
    )
    rows = np.tile(one_hot, (5, 1))
    np.testing.assert_allclose(
        model.generate(rows, num_samples=5, seed=3), images, atol=1e-6
    )
    unseeded = model.generate(num_samples=2)
    assert not np.allclose(unseeded, model.generate(num_samples=2))
    # attributes=None draws the classes from the training marginals.
    model.set_label_prior(np.full(10, 1))
    np.testing.assert_allclose(model.generate(num_samples=5, seed=3), images, atol=1e-6)


def test_generate_decodes_class_gaussian_and_standard_normal_codes():
    # z_s = μ_k + σ_k ⊙ ε_s, then z_u = ε_u, both from one generator seeded
    # with `seed`: the draws `generate` makes, reproduced here.
    model = tiny_model()
    images = model.generate({"c": 1}, num_samples=4, seed=5)
    generator = keras.random.SeedGenerator(5)
    eps_s = to_numpy(keras.random.normal((4, 2), seed=generator))
    z_u = to_numpy(keras.random.normal((4, 3), seed=generator))
    mean = to_numpy(model.mixture.means)[2]
    std = np.sqrt(to_numpy(model.mixture.variances)[2])
    np.testing.assert_allclose(images, model.decode(mean + std * eps_s, z_u), atol=1e-5)


def test_transform_keeps_z_u_and_puts_in_the_class_mean():
    model = tiny_model()
    images = IMAGES[:6]
    z_u = model.encode(images)[1]
    means = to_numpy(model.mixture.means)
    edited = model.transform(images, {"c": 1})
    assert_numpy_float32(edited, images.shape)
    expected = model.decode(np.tile(means[2], (6, 1)), z_u)
    np.testing.assert_allclose(edited, expected, atol=1e-6)
    targets = np.array([0, 1, 2, 2, 1, 0])
    per_image = model.transform(images, np.eye(3, dtype="float32")[targets])
    np.testing.assert_allclose(per_image, model.decode(means[targets], z_u), atol=1e-6)
    np.testing.assert_allclose(
        model.transform(images, np.array([0, 0, 1])), edited, atol=1e-6
    )


@pytest.mark.parametrize("code", ["relevant", "irrelevant"])
def test_interpolate_ends_at_the_decoded_endpoint_codes(code):
    model = tiny_model()
    a, b = IMAGES[:2], IMAGES[4:6]
    paths = model.interpolate(a, b, steps=4, code=code)
    assert_numpy_float32(paths, (2, 4, 8, 8, 1))
    s_a, u_a = model.encode(a)
    s_b, u_b = model.encode(b)
    np.testing.assert_allclose(paths[:, 0], model.decode(s_a, u_a), atol=1e-5)
    end = model.decode(s_b, u_a) if code == "relevant" else model.decode(s_a, u_b)
    np.testing.assert_allclose(paths[:, -1], end, atol=1e-5)
    middle = 0.5 * (s_a + s_b) if code == "relevant" else s_a
    u_middle = u_a if code == "relevant" else 0.5 * (u_a + u_b)
    three = model.interpolate(a, b, steps=3, code=code)
    np.testing.assert_allclose(three[:, 1], model.decode(middle, u_middle), atol=1e-5)


def test_inpaint_keeps_the_masked_in_pixels_exactly():
    model = tiny_model()
    images = IMAGES[:4]
    mask = np.zeros((8, 8), "float32")
    mask[:4] = 1.0
    filled = model.inpaint(images, mask)
    assert_numpy_float32(filled, images.shape)
    np.testing.assert_array_equal(filled[:, :4], images[:, :4])
    np.testing.assert_allclose(
        filled[:, 4:], model.reconstruct(images)[:, 4:], atol=1e-6
    )
    per_image = np.ones((4, 8, 8, 1), bool)
    per_image[1] = False
    filled = model.inpaint(images, per_image)
    np.testing.assert_array_equal(filled[[0, 2, 3]], images[[0, 2, 3]])
    np.testing.assert_allclose(filled[1], model.reconstruct(images)[1], atol=1e-6)


# -- serialization -----------------------------------------------------------------


class TestSerialization(TestCase):
    def test_round_trips_keep_outputs(self, tmp_path):
        model = tiny_model(gm_steps=2, margin=0.05, beta=0.5)
        model.set_label_prior(CLASS_IDS[:5])

        def outputs(m):
            return np.concatenate(
                [
                    m.reconstruct(IMAGES[:4]).reshape(4, -1),
                    m.predict_attributes(IMAGES[:4]),
                    m.transform(IMAGES[:4], {"a": 1}).reshape(4, -1),
                ],
                axis=1,
            )

        loaded = self.run_serialization_test(model, outputs, tmp_path)
        np.testing.assert_allclose(
            to_numpy(loaded.label_prior), to_numpy(model.label_prior)
        )
        assert loaded.get_config()["gm_steps"] == 2
        assert loaded.mixture.margin == 0.05


def test_trained_model_keeps_its_optimizers_through_keras_files(tmp_path):
    model = tiny_model()
    model.compile()
    model.fit(IMAGES, CLASS_IDS, batch_size=24, epochs=1, verbose=0)
    model.save(tmp_path / "model.keras")
    restored = keras.saving.load_model(tmp_path / "model.keras")
    assert isinstance(restored.optimizer, PlayerOptimizers)
    for player in ("gaussian_mixture", "autoencoder", "classifier"):
        for a, b in zip(
            model.optimizer[player].variables, restored.optimizer[player].variables
        ):
            np.testing.assert_allclose(to_numpy(a), to_numpy(b), err_msg=a.path)
    np.testing.assert_allclose(
        restored.reconstruct(IMAGES[:3]), model.reconstruct(IMAGES[:3]), atol=1e-6
    )


# -- errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, argument",
    [
        ({"beta": -1.0}, "beta"),
        ({"reconstruction_weight": -0.5}, "reconstruction_weight"),
        ({"adversarial_weight": -1.0}, "adversarial_weight"),
        ({"margin": -0.1}, "margin"),
        ({"likelihood_weight": float("nan")}, "likelihood_weight"),
        ({"gm_steps": 0}, "gm_steps"),
        ({"gm_steps": 1.5}, "gm_steps"),
        ({"relevant_dim": 0}, "relevant_dim"),
        ({"irrelevant_dim": -2}, "irrelevant_dim"),
        ({"architecture": "resnet"}, "architecture"),
        ({"attribute_names": ("only",)}, "attribute_names"),
        ({"attribute_names": ("a", "a")}, "attribute_names"),
        ({"filters": ()}, "filters"),
        ({"image_shape": (8, 8)}, "image_shape"),
        ({"seed": -1}, "seed"),
    ],
)
def test_bad_arguments_raise_naming_the_argument(kwargs, argument):
    with pytest.raises(ValueError, match=f"`{argument}`"):
        tiny_model(**kwargs)


@pytest.mark.parametrize(
    "labels",
    [
        np.full(24, 3),  # an id beyond K − 1
        np.full(24, -1),
        CLASS_IDS.astype("float32"),  # ids must be ints
        np.zeros((24, 4), "float32"),  # K + 1 columns
        np.zeros((24, 3), "float32"),  # rows not one-hot
    ],
)
def test_bad_labels_raise_naming_y(labels):
    model = tiny_model()
    model.compile()
    with pytest.raises(ValueError, match="`y`"):
        model.fit(IMAGES, labels, epochs=1, verbose=0)


def test_fit_without_labels_raises():
    model = tiny_model()
    model.compile()
    with pytest.raises(ValueError, match="`y`"):
        model.fit(IMAGES, epochs=1, verbose=0)


def test_bad_inference_inputs_raise_naming_the_argument():
    model = tiny_model()
    images = IMAGES[:2]
    cases = [
        (lambda: model.generate({"z": 1}), "attributes"),
        (lambda: model.generate(np.ones(4)), "attributes"),
        (lambda: model.generate({"a": 1, "b": 1}), "at most one"),
        (lambda: model.generate(num_samples=0), "num_samples"),
        (lambda: model.transform(images, {"a": 0}), "attributes"),
        (lambda: model.transform(images, None), "attributes"),
        (lambda: model.transform(images, np.ones((2, 3))), "attributes"),
        (lambda: model.inpaint(images, np.ones((7, 8))), "mask"),
        (lambda: model.inpaint(images, np.ones((3, 8, 8, 1))), "mask"),
        (lambda: model.inpaint(images, np.full((8, 8), 2.0)), "mask"),
        (lambda: model.interpolate(images, IMAGES[:3]), "images_a"),
        (lambda: model.interpolate(images, images, steps=1), "steps"),
        (lambda: model.interpolate(images, images, code="both"), "code"),
        (lambda: model.decode(np.zeros((2, 3)), np.zeros((2, 3))), "z_s"),
        (lambda: model.decode(np.zeros((2, 2)), np.zeros((3, 3))), "z_u"),
        (lambda: model.reconstruct(IMAGES * 255), "images"),
    ]
    for call, argument in cases:
        with pytest.raises(ValueError, match=argument):
            call()

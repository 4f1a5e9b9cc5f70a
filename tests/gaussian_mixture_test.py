"""The Gaussian-mixture loss and its `GaussianMixture` layer, against NumPy."""

import keras
import numpy as np
import pytest

from keras_latent import losses
from keras_latent.layers import GaussianMixture
from tests.test_case import assert_same_weights, to_numpy


def np_distances(z, means, variances):
    """d_k(z) = ½ Σ_j (z_j − μ_kj)² / σ²_kj + ½ Σ_j log σ²_kj, in float64."""
    z, means, variances = (np.asarray(a, "float64") for a in (z, means, variances))
    out = np.empty((len(z), len(means)))
    for i, code in enumerate(z):
        for k, (mu, var) in enumerate(zip(means, variances)):
            out[i, k] = 0.5 * np.sum((code - mu) ** 2 / var) + 0.5 * np.sum(np.log(var))
    return out


def np_classification(distances, labels, margin):
    """Mean of −log[e^{−d_y(1+α)} / (e^{−d_y(1+α)} + Σ_{k≠y} e^{−d_k})]."""
    values = []
    for d, y in zip(distances, labels):
        true = np.exp(-d[y] * (1.0 + margin))
        others = np.exp(-np.delete(d, y)).sum()
        values.append(-np.log(true / (true + others)))
    return np.mean(values)


def problem(batch=6, num_classes=3, dim=4, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(batch, dim)).astype("float32")
    means = rng.normal(size=(num_classes, dim)).astype("float32")
    variances = rng.uniform(0.5, 2.0, size=(num_classes, dim)).astype("float32")
    labels = rng.integers(0, num_classes, size=batch)
    return z, labels, means, variances


def test_distances_match_numpy():
    z, _, means, variances = problem()
    distances = losses.gaussian_mixture_distances(z, means, variances)
    assert tuple(distances.shape) == (6, 3)
    np.testing.assert_allclose(
        to_numpy(distances), np_distances(z, means, variances), rtol=1e-5, atol=1e-5
    )


def test_logits_are_negative_distances_and_predict_the_nearest_class():
    _, _, means, _ = problem()
    variances = np.ones_like(means)
    # Codes placed next to the means are classified as those means' classes.
    z = means[[2, 0, 1]] + 0.01
    logits = to_numpy(losses.gaussian_mixture_logits(z, means, variances))
    np.testing.assert_allclose(logits, -np_distances(z, means, variances), rtol=1e-5)
    np.testing.assert_array_equal(logits.argmax(-1), [2, 0, 1])


@pytest.mark.parametrize("margin", [0.0, 0.1, 1.0])
@pytest.mark.parametrize("likelihood_weight", [0.0, 0.1, 2.0])
def test_loss_terms_match_numpy(margin, likelihood_weight):
    z, labels, means, variances = problem()
    terms = losses.gaussian_mixture_loss(
        z, labels, means, variances, margin, likelihood_weight
    )
    assert set(terms) == {"loss", "classification", "likelihood"}
    d = np_distances(z, means, variances)
    classification = np_classification(d, labels, margin)
    likelihood = np.mean(d[np.arange(len(labels)), labels])
    np.testing.assert_allclose(to_numpy(terms["classification"]), classification, 1e-5)
    np.testing.assert_allclose(to_numpy(terms["likelihood"]), likelihood, 1e-5)
    np.testing.assert_allclose(
        to_numpy(terms["loss"]), classification + likelihood_weight * likelihood, 1e-5
    )


def test_defaults_are_no_margin_and_a_tenth_of_the_likelihood():
    z, labels, means, variances = problem()
    terms = losses.gaussian_mixture_loss(z, labels, means, variances)
    d = np_distances(z, means, variances)
    expected = np_classification(d, labels, 0.0) + 0.1 * np.mean(
        d[np.arange(len(labels)), labels]
    )
    np.testing.assert_allclose(to_numpy(terms["loss"]), expected, rtol=1e-5)


def test_margin_raises_the_classification_loss_when_the_distance_is_positive():
    z, labels, means, _ = problem()
    # Unit variances: d_y = ½‖z − μ_y‖² > 0 for codes off their means.
    variances = np.ones_like(means)
    assert (np_distances(z, means, variances)[np.arange(6), labels] > 0).all()
    plain, sharp = (
        float(
            to_numpy(
                losses.gaussian_mixture_loss(z, labels, means, variances, margin=m)[
                    "classification"
                ]
            )
        )
        for m in (0.0, 0.5)
    )
    assert sharp > plain


def test_classification_is_stable_for_far_codes():
    _, labels, means, variances = problem()
    z = np.full((6, 4), 300.0, "float32")  # d_k in the tens of thousands
    terms = losses.gaussian_mixture_loss(z, labels, means, variances, margin=0.1)
    for value in terms.values():
        assert np.isfinite(to_numpy(value))


def test_int_labels_and_one_hot_labels_give_the_same_terms():
    z, labels, means, variances = problem()
    one_hot = np.eye(3, dtype="float32")[labels]
    by_id = losses.gaussian_mixture_loss(z, labels, means, variances, margin=0.2)
    for other in (one_hot, labels[:, None], labels.astype("int64")):
        terms = losses.gaussian_mixture_loss(z, other, means, variances, margin=0.2)
        for name in by_id:
            np.testing.assert_allclose(
                to_numpy(terms[name]), to_numpy(by_id[name]), rtol=1e-6
            )


@pytest.mark.parametrize(
    "kwargs, argument",
    [
        ({"margin": -0.1}, "margin"),
        ({"margin": float("nan")}, "margin"),
        ({"likelihood_weight": -1.0}, "likelihood_weight"),
        ({"likelihood_weight": float("inf")}, "likelihood_weight"),
    ],
)
def test_loss_rejects_bad_weights_naming_them(kwargs, argument):
    z, labels, means, variances = problem()
    value = next(iter(kwargs.values()))
    with pytest.raises(ValueError, match=f"`{argument}`.*{value}"):
        losses.gaussian_mixture_loss(z, labels, means, variances, **kwargs)


def test_loss_rejects_labels_of_the_wrong_shape():
    z, _, means, variances = problem()
    with pytest.raises(ValueError, match="`labels`"):
        losses.gaussian_mixture_loss(z, np.zeros((6, 2)), means, variances)


def built_layer(**kwargs):
    layer = GaussianMixture(3, **kwargs)
    layer.build((None, 4))
    _, _, means, variances = problem()
    raw = np.log(np.expm1(variances))  # softplus⁻¹
    layer.means.assign(means)
    layer.raw_variances.assign(raw)
    return layer, means, variances


def test_layer_weights_start_as_documented():
    layer = GaussianMixture(3, seed=5)
    logits = layer(np.zeros((2, 4), "float32"))
    assert tuple(logits.shape) == (2, 3)
    assert tuple(layer.means.shape) == tuple(layer.raw_variances.shape) == (3, 4)
    np.testing.assert_allclose(to_numpy(layer.raw_variances), 0.54)
    np.testing.assert_allclose(
        to_numpy(layer.variances), np.log1p(np.exp(0.54)), rtol=1e-6
    )
    # The seed fixes the means.
    again = GaussianMixture(3, seed=5)
    again.build((None, 4))
    np.testing.assert_allclose(to_numpy(again.means), to_numpy(layer.means))


def test_layer_call_and_loss_use_its_weights_and_arguments():
    layer, means, variances = built_layer(margin=0.3, likelihood_weight=0.5)
    z, labels, _, _ = problem()
    np.testing.assert_allclose(
        to_numpy(layer.variances), variances, rtol=1e-5, atol=1e-6
    )
    d = np_distances(z, means, variances)
    np.testing.assert_allclose(to_numpy(layer(z)), -d, rtol=1e-4, atol=1e-4)
    terms = layer.loss(z, labels)
    expected = np_classification(d, labels, 0.3) + 0.5 * np.mean(
        d[np.arange(6), labels]
    )
    np.testing.assert_allclose(to_numpy(terms["loss"]), expected, rtol=1e-4)


class MixtureModel(keras.Model):
    """Codes in, logits out; trained on the GM loss of the codes' labels."""

    def __init__(self, **kwargs):
        super().__init__()
        self.mixture = GaussianMixture(2, seed=3, **kwargs)

    def call(self, z):
        return self.mixture(z)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, **kw):
        return self.mixture.loss(x, y)["loss"]


def test_fit_moves_the_means_to_the_class_centroids():
    rng = np.random.default_rng(0)
    centroids = np.array([[2.0, -1.0, 0.5], [-2.0, 1.0, -0.5]], "float32")
    labels = np.repeat([0, 1], 64)
    z = (centroids[labels] + 0.5 * rng.normal(size=(128, 3))).astype("float32")
    # A likelihood weight of 1 pulls the means in within a few dozen steps.
    model = MixtureModel(likelihood_weight=1.0)
    model(z[:1])
    start_means = to_numpy(model.mixture.means).copy()
    start_raw = to_numpy(model.mixture.raw_variances).copy()
    model.compile(optimizer=keras.optimizers.Adam(0.05))
    history = model.fit(z, labels, batch_size=32, epochs=40, verbose=0, shuffle=False)
    loss = history.history["loss"]
    assert loss[-1] < loss[0] - 1.0, loss
    means = to_numpy(model.mixture.means)
    class_centroids = np.stack([z[labels == k].mean(0) for k in (0, 1)])
    start_error = np.linalg.norm(start_means - class_centroids, axis=-1)
    error = np.linalg.norm(means - class_centroids, axis=-1)
    assert (error < 0.5 * start_error).all(), (start_error, error)
    assert not np.allclose(to_numpy(model.mixture.raw_variances), start_raw)
    predicted = to_numpy(model.predict(z, verbose=0)).argmax(-1)
    assert (predicted == labels).mean() > 0.95


def test_sample_matches_the_class_gaussians():
    layer, means, variances = built_layer()
    class_ids = np.repeat([0, 2], 20000)
    codes = to_numpy(layer.sample(class_ids, seed=11))
    assert codes.shape == (40000, 4)
    for k, rows in ((0, codes[:20000]), (2, codes[20000:])):
        scale = np.sqrt(variances[k] / 20000)
        np.testing.assert_array_less(np.abs(rows.mean(0) - means[k]), 5 * scale)
        np.testing.assert_allclose(rows.var(0), variances[k], rtol=0.05)


def test_sample_seeds():
    layer, _, _ = built_layer()
    ids = [0, 1, 2, 1]
    first = to_numpy(layer.sample(ids, seed=7))
    np.testing.assert_array_equal(to_numpy(layer.sample(ids, seed=7)), first)
    assert not np.allclose(to_numpy(layer.sample(ids, seed=8)), first)
    generator = keras.random.SeedGenerator(7)
    drawn = [to_numpy(layer.sample(ids, seed=generator)) for _ in range(2)]
    assert not np.allclose(drawn[0], drawn[1])
    unseeded = [to_numpy(layer.sample(ids)) for _ in range(2)]
    assert unseeded[0].shape == (4, 4)
    assert not np.allclose(unseeded[0], unseeded[1])


def test_sample_rejects_bad_ids_and_seeds():
    layer, _, _ = built_layer()
    with pytest.raises(ValueError, match="`class_ids`"):
        layer.sample([0, 3])
    with pytest.raises(ValueError, match="`seed`"):
        layer.sample([0], seed=-1)
    with pytest.raises(ValueError, match="`seed`"):
        layer.sample([0], seed=1.5)


def test_get_config_round_trip():
    layer = GaussianMixture(
        4, variance_init=-0.2, margin=0.1, likelihood_weight=0.01, seed=9, name="gm"
    )
    config = layer.get_config()
    for key, value in {
        "num_classes": 4,
        "variance_init": -0.2,
        "margin": 0.1,
        "likelihood_weight": 0.01,
        "seed": 9,
    }.items():
        assert config[key] == value
    restored = GaussianMixture.from_config(config)
    assert restored.get_config() == config
    restored.build((None, 2))
    np.testing.assert_allclose(to_numpy(restored.raw_variances), -0.2)


def test_keras_file_round_trip_keeps_the_weights(tmp_path):
    model = keras.Sequential(
        [keras.Input((4,)), GaussianMixture(3, margin=0.1, seed=2)]
    )
    layer = model.layers[-1]
    layer.raw_variances.assign(np.random.default_rng(1).normal(size=(3, 4)))
    z = np.random.default_rng(2).normal(size=(5, 4)).astype("float32")
    model.save(tmp_path / "mixture.keras")
    loaded = keras.saving.load_model(tmp_path / "mixture.keras")
    assert isinstance(loaded.layers[-1], GaussianMixture)
    assert loaded.layers[-1].get_config() == layer.get_config()
    assert_same_weights(loaded, model)
    np.testing.assert_allclose(to_numpy(loaded(z)), to_numpy(model(z)), rtol=1e-6)


@pytest.mark.parametrize(
    "kwargs, argument",
    [
        ({"num_classes": 1}, "num_classes"),
        ({"num_classes": 2.0}, "num_classes"),
        ({"num_classes": True}, "num_classes"),
        ({"variance_init": float("nan")}, "variance_init"),
        ({"variance_init": "big"}, "variance_init"),
        ({"margin": -0.5}, "margin"),
        ({"likelihood_weight": -0.1}, "likelihood_weight"),
        ({"seed": -3}, "seed"),
        ({"seed": 0.5}, "seed"),
    ],
)
def test_layer_rejects_bad_arguments_naming_them(kwargs, argument):
    kwargs = {"num_classes": 3, **kwargs}
    with pytest.raises(ValueError, match=f"`{argument}`"):
        GaussianMixture(**kwargs)


def test_layer_rejects_codes_that_are_not_flat():
    with pytest.raises(ValueError, match="codes"):
        GaussianMixture(3)(np.zeros((2, 3, 4), "float32"))


def test_min_variance_floors_the_variances_and_bounds_the_likelihood():
    from keras_latent.layers import GaussianMixture

    layer = GaussianMixture(num_classes=2, variance_init=-30.0, min_variance=0.25)
    layer.build((None, 3))
    variances = keras.ops.convert_to_numpy(layer.variances)
    np.testing.assert_allclose(variances, 0.25, atol=1e-6)
    # A code on its class mean: d_y is the log-determinant term alone,
    # ½ Σ log 0.25, not the unbounded value of a vanishing variance.
    means = keras.ops.convert_to_numpy(layer.means)
    terms = layer.loss(means[:1], np.array([0]))
    likelihood = float(keras.ops.convert_to_numpy(terms["likelihood"]))
    assert likelihood == pytest.approx(0.5 * 3 * np.log(0.25), abs=1e-4)
    assert GaussianMixture.from_config(layer.get_config()).min_variance == 0.25
    with pytest.raises(ValueError, match="min_variance"):
        GaussianMixture(num_classes=2, min_variance=-1.0)


def test_unlabelled_mixture_likelihood_matches_numpy():
    z, _, means, variances = problem()
    d = np_distances(z, means, variances)
    # −log Σ_k (1/K) exp(−d_k), by the definition, in float64.
    expected = np.mean(-np.log(np.exp(-d).mean(axis=1)))
    value = losses.unlabelled_likelihood_loss(z, means, variances)
    np.testing.assert_allclose(to_numpy(value), expected, rtol=1e-5)


def test_unlabelled_mixture_likelihood_is_the_class_term_near_one_class():
    _, _, means, variances = problem()
    # Means far apart: a code at a class mean belongs to that class alone,
    # and the mixture term is its class's d_y plus log K.
    means = means * 50.0
    z = means[[1, 2, 0]]
    d = np_distances(z, means, variances)
    expected = np.mean(d[np.arange(3), [1, 2, 0]]) + np.log(3)
    value = losses.unlabelled_likelihood_loss(z, means, variances, prior="mixture")
    np.testing.assert_allclose(to_numpy(value), expected, rtol=1e-5)


def test_unlabelled_ambiguous_likelihood_uses_the_mixture_moments():
    z, _, means, variances = problem()
    # The mixture's overall mean and variance, from the law of total variance.
    mean = means.mean(axis=0, dtype="float64")
    variance = variances.mean(axis=0, dtype="float64") + means.astype("float64").var(
        axis=0
    )
    expected = np.mean(np_distances(z, mean[None], variance[None]))
    value = losses.unlabelled_likelihood_loss(z, means, variances, prior="ambiguous")
    np.testing.assert_allclose(to_numpy(value), expected, rtol=1e-4)
    # It differs from the mixture's own density.
    mixture = losses.unlabelled_likelihood_loss(z, means, variances)
    assert not np.isclose(to_numpy(value), to_numpy(mixture))


def test_unlabelled_likelihood_rejects_an_unknown_prior_naming_the_choices():
    z, _, means, variances = problem()
    with pytest.raises(ValueError, match="`prior`.*'mixture', 'ambiguous'"):
        losses.unlabelled_likelihood_loss(z, means, variances, prior="uniform")

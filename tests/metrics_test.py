import os

import keras
import numpy as np
import pytest
import scipy.linalg
import tensorflow as tf
from tensorflow.python.ops import image_ops_impl

from keras_latent import metrics
from keras_latent.models import ImageClassifier


@pytest.fixture
def rng():
    # A fresh generator per test, so a test's data don't depend on which
    # tests ran before it.
    return np.random.default_rng(0)


def structured_images(count, height=64, width=64, channels=3, seed=0):
    """Smooth gratings plus a little noise: image-like, with structure at
    every scale."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width] / max(height, width)
    images = []
    for _ in range(count):
        freq = rng.uniform(1, 6, size=(channels, 2))
        phase = rng.uniform(0, 2 * np.pi, size=channels)
        images.append(
            np.stack(
                [
                    0.5 + 0.4 * np.sin(2 * np.pi * (f[0] * xx + f[1] * yy) + p)
                    for f, p in zip(freq, phase)
                ],
                axis=-1,
            )
        )
    images = np.array(images) + rng.normal(0, 0.03, (count, height, width, channels))
    return np.clip(images, 0, 1).astype("float32")


def degraded(images, seed=1):
    """Pairs of graded similarity: mixes with noise of increasing weight."""
    rng = np.random.default_rng(seed)
    weights = np.linspace(0.05, 0.9, len(images))[:, None, None, None]
    noise = rng.random(images.shape)
    return ((1 - weights) * images + weights * noise).astype("float32")


def tf_ms_ssim(a, b, **kwargs):
    return tf.image.ssim_multiscale(a, b, max_val=1.0, **kwargs).numpy()


def tf_ms_ssim_shrinking_filter(a, b, filter_size=11, filter_sigma=1.5):
    """MS-SSIM from TF's own per-scale SSIM, with the window shrunk to the
    image at scales smaller than it (where tf.image.ssim_multiscale raises)."""
    a, b = tf.constant(a), tf.constant(b)
    terms = []
    for scale in range(5):
        if scale > 0:
            a, b = (tf.nn.avg_pool2d(x, 2, 2, "VALID") for x in (a, b))
        size = min(filter_size, a.shape[1], a.shape[2])
        ssim, cs = image_ops_impl._ssim_per_channel(
            a, b, 1.0, filter_size=size, filter_sigma=filter_sigma * size / filter_size
        )
        terms.append(tf.nn.relu(cs))
    terms[-1] = tf.nn.relu(ssim)
    weights = metrics.MS_SSIM_POWER_FACTORS
    per_channel = tf.reduce_prod(tf.pow(tf.stack(terms, -1), weights), -1)
    return tf.reduce_mean(per_channel, -1).numpy()


class TestMSSSIM:
    @pytest.mark.parametrize(
        "kind, shape, filter_size",
        [
            # 4 is the largest window TF accepts for 64×64 over 5 scales.
            ("random", (6, 64, 64, 3), 4),
            ("structured", (6, 64, 64, 3), 4),
            ("structured", (6, 64, 64, 1), 4),
            ("random", (6, 64, 64, 1), 3),
            # 176 = 11·2⁴: the smallest size where TF's default window fits;
            # odd sizes exercise TF's symmetric padding before pooling.
            ("structured", (3, 176, 176, 3), 11),
            ("structured", (3, 181, 179, 1), 11),
            ("random", (6, 37, 35, 1), 2),
        ],
    )
    def test_matches_tf_ssim_multiscale(self, rng, kind, shape, filter_size):
        if kind == "random":
            a = rng.random(shape).astype("float32")
            noise_std = np.linspace(0.02, 0.6, shape[0])[:, None, None, None]
            noise = rng.normal(size=shape) * noise_std
            b = np.clip(a + noise, 0, 1).astype("float32")
        else:
            a = structured_images(shape[0], *shape[1:])
            b = degraded(a)
        ours = metrics.ms_ssim(a, b, filter_size=filter_size, batch_size=4)
        reference = tf_ms_ssim(a, b, filter_size=filter_size)
        assert ours.shape == (shape[0],)
        # The pairs must span a range of similarities for the match to mean
        # something (and not all sit at the ReLU floor of 0).
        assert reference.max() - reference.min() > 0.05, reference
        np.testing.assert_allclose(ours, reference, atol=1e-4)

    def test_forwards_every_parameter_like_tf(self):
        a = structured_images(4, 64, 64, 3)
        b = degraded(a)
        kwargs = dict(
            power_factors=(0.2, 0.3, 0.5),
            filter_size=7,
            filter_sigma=2.0,
            k1=0.02,
            k2=0.05,
        )
        ours = metrics.ms_ssim(a * 2, b * 2, max_val=2.0, **kwargs)
        reference = tf.image.ssim_multiscale(a * 2, b * 2, 2.0, **kwargs).numpy()
        np.testing.assert_allclose(ours, reference, atol=1e-4)
        # And the parameters matter: the defaults give different numbers.
        assert np.abs(ours - metrics.ms_ssim(a, b, filter_size=4)).max() > 1e-3

    def test_shrinks_the_window_where_tf_raises(self):
        a = structured_images(4, 64, 64, 3)
        b = degraded(a)
        with pytest.raises(tf.errors.InvalidArgumentError):
            tf_ms_ssim(a, b)  # 11×11 window, 8×8 4th scale
        reference = tf_ms_ssim_shrinking_filter(a, b)
        np.testing.assert_allclose(metrics.ms_ssim(a, b), reference, atol=1e-4)
        assert reference.max() - reference.min() > 0.05, reference

    def test_identical_images_score_one(self):
        a = structured_images(3, 64, 64, 3)
        np.testing.assert_allclose(metrics.ms_ssim(a, a), 1.0, atol=1e-6)
        gray = structured_images(2, 64, 64, 1)
        np.testing.assert_allclose(metrics.ms_ssim(gray, gray), 1.0, atol=1e-6)
        assert metrics.ms_ssim(a, degraded(a)).max() < 0.999

    def test_accepts_backend_tensors(self):
        a = structured_images(2, 32, 32, 3)
        b = degraded(a)
        np.testing.assert_allclose(
            metrics.ms_ssim(keras.ops.convert_to_tensor(a), keras.ops.array(b)),
            metrics.ms_ssim(a, b),
        )

    def test_rejects_mismatched_shapes(self):
        with pytest.raises(ValueError, match="same shape"):
            metrics.ms_ssim(np.zeros((2, 32, 32, 3)), np.zeros((2, 32, 32, 1)))


class TestIntraClassDiversity:
    def test_identical_images_give_one_and_noise_gives_low(self, rng):
        repeated = structured_images(2, 64, 64, 3)
        images = np.concatenate(
            [
                np.repeat(repeated[:1], 4, axis=0),
                np.repeat(repeated[1:], 3, axis=0),
                rng.random((5, 64, 64, 3)).astype("float32"),
            ]
        )
        labels = np.array([0] * 4 + [1] * 3 + [2] * 5)
        diversity = metrics.intra_class_diversity(images, labels, num_pairs=10)
        assert set(diversity) == {0, 1, 2}
        assert diversity[0] == pytest.approx(1.0, abs=1e-6)
        assert diversity[1] == pytest.approx(1.0, abs=1e-6)
        assert diversity[2] < 0.2
        # One-hot labels give the same answer; the seed fixes the pairs.
        one_hot = np.eye(3)[labels]
        again = metrics.intra_class_diversity(images, one_hot, num_pairs=10)
        assert again == diversity

    def test_is_the_mean_over_distinct_same_class_pairs(self):
        images = structured_images(6, 32, 32, 1)
        labels = np.array([3, 3, 3, 7, 7, 9])
        diversity = metrics.intra_class_diversity(images, labels, num_pairs=50)
        # Class 7 has a single pair, so its value is exactly that pair's.
        np.testing.assert_allclose(
            diversity[7], metrics.ms_ssim(images[3:4], images[4:5])[0]
        )
        pairs = [(0, 1), (0, 2), (1, 2)]
        values = [
            metrics.ms_ssim(images[i : i + 1], images[j : j + 1])[0] for i, j in pairs
        ]
        assert min(values) <= diversity[3] <= max(values)
        assert diversity[3] < 0.999  # never an image with itself
        assert np.isnan(diversity[9])  # no pair in a one-image class


class TestFrechetDistance:
    def test_closed_form_for_gaussians_sharing_eigenvectors(self, rng):
        q, _ = np.linalg.qr(rng.normal(size=(5, 5)))
        a = np.array([0.5, 1.0, 2.0, 3.0, 4.0])
        b = np.array([1.0, 0.2, 2.0, 6.0, 0.5])
        mu1, mu2 = rng.normal(size=5), rng.normal(size=5)
        expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
        value = metrics.frechet_distance(
            mu1, q @ np.diag(a) @ q.T, mu2, q @ np.diag(b) @ q.T
        )
        assert isinstance(value, float)
        assert value == pytest.approx(expected, rel=1e-10)

    def test_matches_scipy_sqrtm_on_general_covariances(self, rng):
        def scipy_fid(mu1, s1, mu2, s2):
            covmean = scipy.linalg.sqrtm(s1 @ s2).real
            diff = mu1 - mu2
            return diff @ diff + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean)

        for dim in (3, 16):
            x = rng.normal(size=(4 * dim, dim)) @ rng.normal(size=(dim, dim))
            y = rng.normal(size=(4 * dim, dim)) * 0.7 + 0.3
            mu1, s1 = x.mean(0), np.cov(x, rowvar=False)
            mu2, s2 = y.mean(0), np.cov(y, rowvar=False)
            expected = scipy_fid(mu1, s1, mu2, s2)
            assert metrics.frechet_distance(mu1, s1, mu2, s2) == pytest.approx(
                expected, rel=1e-8
            )
            assert metrics.fid(x, y) == pytest.approx(expected, rel=1e-8)
            # Precomputed statistics give the same number.
            stats = metrics.feature_statistics(x)
            assert metrics.fid(stats, y) == pytest.approx(expected, rel=1e-8)

    def test_large_samples_approach_the_population_value(self, rng):
        x = rng.normal(size=(20000, 3))
        y = rng.normal(size=(20000, 3)) * 2.0 + 1.0
        # |Δμ|² = 3, Σ(1 − 2)² = 3.
        assert metrics.fid(x, y) == pytest.approx(6.0, rel=0.05)

    def test_a_set_against_itself_is_zero(self, rng):
        x = rng.normal(size=(500, 32)) @ rng.normal(size=(32, 32))
        scale = np.trace(np.cov(x, rowvar=False))
        assert abs(metrics.fid(x, x)) < 1e-6 * scale
        # Singular covariance (fewer samples than dimensions): still real.
        few = x[:10]
        assert abs(metrics.fid(few, few)) < 1e-6 * scale
        assert metrics.fid(few, x[10:20]) > 0

    def test_rejects_bad_shapes(self):
        with pytest.raises(ValueError, match=r"\(d, d\)"):
            metrics.frechet_distance(np.zeros(3), np.eye(2), np.zeros(3), np.eye(3))


def reference_mmd2(x, y):
    """The unbiased MMD² of Bińkowski et al. written out term by term."""
    m, dim = x.shape

    def k(a, b):
        return (np.dot(a, b) / dim + 1) ** 3

    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j)
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j)
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m))
    return xx / (m * (m - 1)) + yy / (m * (m - 1)) - 2 * xy / m**2


class TestKID:
    def test_matches_the_unbiased_estimator(self, rng):
        x = rng.normal(size=(25, 6))
        y = rng.normal(size=(25, 6)) + 0.5
        mean, std = metrics.kid(x, y, num_subsets=1, subset_size=1000)
        assert mean == pytest.approx(reference_mmd2(x, y), rel=1e-10)
        assert std == 0.0

    def test_same_distribution_near_zero_and_shift_positive(self, rng):
        x = rng.normal(size=(1000, 16))
        y = rng.normal(size=(1000, 16))
        same_mean, same_std = metrics.kid(x, y, num_subsets=20, subset_size=200)
        shifted_mean, _ = metrics.kid(x, y + 0.5, num_subsets=20, subset_size=200)
        assert abs(same_mean) < 0.02
        assert same_std > 0
        assert shifted_mean > 0.5

    def test_subset_size_is_clipped_and_seed_fixes_the_draw(self, rng):
        x = rng.normal(size=(40, 4))
        y = rng.normal(size=(30, 4)) + 1.0
        first = metrics.kid(x, y, num_subsets=5, subset_size=1000, seed=3)
        assert first == metrics.kid(x, y, num_subsets=5, subset_size=1000, seed=3)
        assert first != metrics.kid(x, y, num_subsets=5, subset_size=1000, seed=4)
        assert np.isfinite(first).all() and first[0] > 0


class TestInceptionScore:
    def test_confident_uniform_predictions_give_the_class_count(self):
        k = 5
        # Each of the 10 splits holds every class 4 times.
        probabilities = np.tile(np.eye(k), (40, 1))
        mean, std = metrics.inception_score(probabilities, num_splits=10)
        assert mean == pytest.approx(k, rel=1e-9)
        assert std == pytest.approx(0.0, abs=1e-9)

    def test_identical_predictions_give_one(self):
        probabilities = np.tile([[0.2, 0.3, 0.5]], (100, 1))
        assert metrics.inception_score(probabilities)[0] == pytest.approx(1.0)

    def test_soft_predictions_match_the_hand_computed_value(self):
        probabilities = np.array([[0.9, 0.1], [0.1, 0.9]] * 10)
        kl = 0.9 * np.log(0.9 / 0.5) + 0.1 * np.log(0.1 / 0.5)
        mean, _ = metrics.inception_score(probabilities, num_splits=1)
        assert mean == pytest.approx(np.exp(kl), rel=1e-9)

    def test_rejects_unnormalised_rows(self):
        with pytest.raises(ValueError, match="summing to 1"):
            metrics.inception_score(np.full((20, 3), 0.5))


class TestClassifierScores:
    def test_attribute_scores_on_a_hand_made_case(self):
        probabilities = np.array(
            [[0.9, 0.2, 0.6], [0.8, 0.7, 0.4], [0.1, 0.6, 0.5], [0.3, 0.1, 0.7]]
        )
        targets = np.array([[1, 0, 1], [1, 0, 0], [0, 1, 1], [1, 0, 0]])
        scores = metrics.attribute_scores(
            probabilities, targets, attribute_names=["a", "b", "c"]
        )
        # a: predicted 1,1,0,0 vs 1,1,0,1 → acc 3/4, P 1, R 2/3.
        a = scores["per_attribute"]["a"]
        assert a["accuracy"] == pytest.approx(0.75)
        assert a["precision"] == pytest.approx(1.0)
        assert a["recall"] == pytest.approx(2 / 3)
        assert a["f1"] == pytest.approx(0.8)
        assert a["support"] == 3
        # b: predicted 0,1,1,0 vs 0,0,1,0 → acc 3/4, P 1/2, R 1, F1 2/3.
        b = scores["per_attribute"]["b"]
        assert (b["precision"], b["recall"]) == pytest.approx((0.5, 1.0))
        # c: 0.5 is not above the threshold: predicted 1,0,0,1 vs 1,0,1,0.
        c = scores["per_attribute"]["c"]
        assert (c["accuracy"], c["precision"], c["recall"]) == pytest.approx(
            (0.5, 0.5, 0.5)
        )
        assert scores["accuracy"] == pytest.approx((0.75 + 0.75 + 0.5) / 3)
        assert scores["f1"] == pytest.approx((0.8 + 2 / 3 + 0.5) / 3)

    def test_attribute_scores_without_predicted_positives_are_zero(self):
        scores = metrics.attribute_scores(np.zeros(4), np.array([0, 1, 0, 0]))
        single = scores["per_attribute"]["0"]
        assert single["accuracy"] == pytest.approx(0.75)
        assert single["precision"] == single["recall"] == single["f1"] == 0.0

    def test_edit_success(self):
        p0 = np.array([0.1, 0.6, 0.4, 0.5])  # at most 0.5 counts as class 0
        p1 = np.array([[0.9], [0.2], [0.51], [0.5]])
        result = metrics.edit_success(p0, p1)
        assert result == {"class0": pytest.approx(0.75), "class1": pytest.approx(0.5)}
        assert metrics.edit_success(p0, p1, threshold=0.55) == {
            "class0": pytest.approx(0.75),
            "class1": pytest.approx(0.25),
        }
        assert metrics.edit_success(p0, p1, threshold=0.05)["class0"] == 0.0
        with pytest.raises(ValueError, match="column"):
            metrics.edit_success(np.zeros((4, 2)), p1)

    def test_reconstruction_and_latent_mse(self):
        images = np.zeros((2, 2, 2, 1))
        reconstructions = images.copy()
        reconstructions[0, 0, 0, 0] = 0.4
        assert metrics.reconstruction_mse(images, reconstructions) == pytest.approx(
            0.16 / 8
        )
        z = np.zeros((2, 3))
        z_after = np.array([[1.0, 0.0, 0.0], [0.0, 2.0, 3.0]])
        sigma_bar = np.array([0.5, 2.0, 3.0])
        # ((1/.5)² + 0 + 0)/3 = 4/3 and (0 + (2/2)² + (3/3)²)/3 = 2/3 → mean 1.
        assert metrics.latent_mse(z, z_after, sigma_bar) == pytest.approx(1.0)
        with pytest.raises(ValueError, match="sigma_bar"):
            metrics.latent_mse(z, z_after, np.ones(2))


class TestFeatures:
    def test_classifier_features_are_the_hidden_dense_activations(self):
        classifier = ImageClassifier(
            image_shape=(8, 8, 1), class_names="abc", filters=(4,), dense_units=6
        )
        images = np.random.default_rng(1).random((10, 8, 8, 1)).astype("float32")
        features = metrics.classifier_features(classifier, images, batch_size=4)
        assert features.shape == (10, 6) and features.dtype == np.float32
        assert np.all(features >= 0) and np.any(features > 0)  # ReLU outputs
        np.testing.assert_array_equal(
            features, metrics.classifier_features(classifier, images, batch_size=4)
        )
        np.testing.assert_allclose(
            features, metrics.classifier_features(classifier, images), atol=1e-6
        )
        # The output layer applied to the features gives the probabilities.
        output_layer = classifier.network.layers[-1]
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(output_layer(features)),
            classifier.predict_proba(images),
            atol=1e-5,
        )
        # A `(fn, num_samples)` spec is drawn in batches, in order.
        drawn = []

        def generate(n):
            start = sum(drawn)
            drawn.append(n)
            return images[start : start + n]

        from_fn = metrics.classifier_features(classifier, (generate, 10), batch_size=4)
        assert drawn == [4, 4, 2]
        np.testing.assert_allclose(from_fn, features, atol=1e-6)
        with pytest.raises(ValueError, match="shape"):
            metrics.classifier_features(classifier, np.zeros((2, 9, 9, 1), "float32"))

    def test_inception_features_explain_missing_weights(self, tmp_path, monkeypatch):
        missing = tmp_path / "nowhere.h5"
        with pytest.raises(FileNotFoundError) as error:
            metrics.inception_features(np.zeros((1, 32, 32, 3)), weights_path=missing)
        message = str(error.value)
        assert str(missing) in message and "weights_path" in message
        assert "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5" in message

        monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
        with pytest.raises(FileNotFoundError, match="keras_home"):
            metrics.inception_features(np.zeros((1, 32, 32, 3)))

    def test_inception_features_preprocessing(self, tmp_path, monkeypatch):
        # A stand-in for InceptionV3 that reports what it was fed: the real
        # network needs weights this machine does not have.
        weights = tmp_path / "weights.h5"
        weights.write_bytes(b"")
        built = {}

        def fake_inception(include_top, weights, input_shape, pooling):
            built.update(include_top=include_top, weights=weights, pooling=pooling)
            inputs = keras.Input(input_shape)
            flat = keras.layers.Reshape((-1, 3))(inputs)
            stats = keras.layers.Concatenate()(
                [
                    keras.ops.min(flat, axis=1),
                    keras.ops.max(flat, axis=1),
                    keras.ops.mean(flat, axis=1),
                ]
            )
            return keras.Model(inputs, stats)

        monkeypatch.setattr(keras.applications, "InceptionV3", fake_inception)
        gray = np.linspace(0, 1, 2 * 16 * 16).reshape(2, 16, 16, 1).astype("float32")
        features = metrics.inception_features(gray, weights_path=weights, batch_size=1)
        assert built == {
            "include_top": False,
            "weights": str(weights),
            "pooling": "avg",
        }
        assert features.shape == (2, 9)
        low, high, mean = features[:, :3], features[:, 3:6], features[:, 6:]
        # Grayscale repeated to RGB, [0, 1] mapped to [-1, 1].
        np.testing.assert_allclose(low, low[:, :1].repeat(3, 1))
        np.testing.assert_allclose(
            low[:, 0], 2 * gray.min(axis=(1, 2, 3)) - 1, atol=1e-3
        )
        np.testing.assert_allclose(
            high[:, 0], 2 * gray.max(axis=(1, 2, 3)) - 1, atol=1e-3
        )
        np.testing.assert_allclose(
            mean[:, 0], 2 * gray.mean(axis=(1, 2, 3)) - 1, atol=1e-2
        )

    @pytest.mark.slow
    def test_inception_features_with_a_weights_file(self, tmp_path):
        path = str(tmp_path / "inception.weights.h5")
        keras.applications.InceptionV3(
            include_top=False, weights=None, input_shape=(299, 299, 3), pooling="avg"
        ).save_weights(path)
        images = np.random.default_rng(2).random((3, 32, 32, 3)).astype("float32")
        features = metrics.inception_features(images, weights_path=path)
        assert features.shape == (3, 2048) and np.all(np.isfinite(features))


def test_metrics_module_imports_no_backend_library_directly():
    package = os.path.dirname(metrics.__file__)
    for name in os.listdir(package):
        if name.endswith(".py"):
            with open(os.path.join(package, name)) as f:
                source = f.read()
            for library in ("tensorflow", "jax", "torch", "scipy"):
                assert f"import {library}" not in source, (name, library)
                assert f"from {library}" not in source, (name, library)


# Non-finite inputs (issue 15): every metric refuses NaN and infinite values
# with an error naming the argument and counting them, instead of returning a
# number (a NaN fails every range check) or failing deep inside NumPy
# ("Eigenvalues did not converge").


def _poison(array, value, count=1):
    array = np.array(array, dtype="float32", copy=True)
    array.reshape(-1)[:count] = value
    return array


def _non_finite_cases():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(12, 4)).astype("float32")
    images = rng.random((4, 16, 16, 1)).astype("float32")
    probabilities = np.full((6, 3), 1 / 3, "float32")
    targets = (np.arange(12).reshape(6, 2) % 2).astype("float32")
    z = rng.normal(size=(5, 3)).astype("float32")
    stats = metrics.feature_statistics(features)
    return {
        # name: (call with a poisoning function `bad`, argument named)
        "fid_real": (lambda bad: metrics.fid(bad(features), features), "real_features"),
        "fid_fake": (lambda bad: metrics.fid(features, bad(features)), "fake_features"),
        "fid_statistics": (
            lambda bad: metrics.fid((bad(stats[0]), stats[1]), features),
            "The mean of `real_features`",
        ),
        "kid": (lambda bad: metrics.kid(features, bad(features)), "fake_features"),
        "feature_statistics": (
            lambda bad: metrics.feature_statistics(bad(features)),
            "`features`",
        ),
        "frechet_distance": (
            lambda bad: metrics.frechet_distance(*stats, stats[0], bad(stats[1])),
            "`sigma2`",
        ),
        "inception_score": (
            lambda bad: metrics.inception_score(bad(probabilities), 2),
            "`probabilities`",
        ),
        "attribute_scores": (
            lambda bad: metrics.attribute_scores(bad(probabilities[:, :2]), targets),
            "`probabilities`",
        ),
        "attribute_targets": (
            lambda bad: metrics.attribute_scores(probabilities[:, :2], bad(targets)),
            "`targets`",
        ),
        "edit_success": (
            lambda bad: metrics.edit_success(
                probabilities[:, 0], bad(probabilities[:, 0])
            ),
            "`probabilities_for_target_1`",
        ),
        "reconstruction_mse": (
            lambda bad: metrics.reconstruction_mse(images, bad(images)),
            "`reconstructions`",
        ),
        "latent_mse": (lambda bad: metrics.latent_mse(bad(z), z, 1.0), "`z_before`"),
        "latent_mse_sigma": (
            lambda bad: metrics.latent_mse(z, z, bad(np.ones(3))),
            "`sigma_bar`",
        ),
        "ms_ssim": (lambda bad: metrics.ms_ssim(images, bad(images)), "`images_b`"),
        "ms_ssim_tensor": (
            lambda bad: metrics.ms_ssim(
                keras.ops.convert_to_tensor(bad(images)), images
            ),
            "`images_a`",
        ),
        "intra_class_diversity": (
            lambda bad: metrics.intra_class_diversity(bad(images), np.arange(4) % 2),
            "`images`",
        ),
    }


@pytest.mark.parametrize("value, found", [(np.nan, "NaN"), (np.inf, "infinite")])
@pytest.mark.parametrize("case", sorted(_non_finite_cases()))
def test_every_metric_refuses_non_finite_inputs(case, value, found):
    call, argument = _non_finite_cases()[case]
    with pytest.raises(ValueError) as info:
        call(lambda array: _poison(array, value, count=2))
    message = str(info.value)
    assert message.startswith(argument) or message.startswith(f"`{argument}`")
    assert f"holds 2 {found} values" in message


def test_feature_networks_refuse_non_finite_images(monkeypatch, tmp_path):
    classifier = ImageClassifier(
        image_shape=(8, 8, 1), class_names="abc", filters=(4,), dense_units=6
    )
    images = np.random.default_rng(1).random((10, 8, 8, 1)).astype("float32")
    bad = images.copy()
    bad[5, 2, 2, 0] = np.nan
    with pytest.raises(ValueError, match=r"^`images` \(images 4 to 7\) holds 1 NaN"):
        metrics.classifier_features(classifier, bad, batch_size=4)

    # From a `(fn, num_samples)` spec: the error names the batch.
    drawn = []

    def generate(n):
        start = sum(drawn)
        drawn.append(n)
        return bad[start : start + n]

    with pytest.raises(
        ValueError,
        match=r"^Batch 1 of the generated images \(images 4 to 7\) holds 1 NaN",
    ):
        metrics.classifier_features(classifier, (generate, 10), batch_size=4)

    # InceptionV3 (a stand-in: no weights here) gets the same check.
    weights = tmp_path / "weights.h5"
    weights.write_bytes(b"")

    def fake_inception(include_top, weights, input_shape, pooling):
        inputs = keras.Input(input_shape)
        return keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(inputs))

    monkeypatch.setattr(keras.applications, "InceptionV3", fake_inception)
    inf = images.copy()
    inf[9] = np.inf
    with pytest.raises(ValueError, match=r"\(images 8 to 9\) holds 64 infinite"):
        metrics.inception_features(inf, weights_path=weights, batch_size=4)

"""FID and KID: distances between feature distributions of real and fake images."""

from __future__ import annotations

import numpy as np

from keras_latent.utils.batching import check_finite, collect, to_numpy


def _features(x, argument: str) -> np.ndarray:
    x = to_numpy(x, "float64")
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(
            f"`{argument}` must be a 2-D array (num_images, feature_dim) with at "
            f"least two rows. Received shape {x.shape}."
        )
    check_finite(x, f"`{argument}`")
    return x


def _symmetric(matrix: np.ndarray) -> np.ndarray:
    return 0.5 * (matrix + matrix.T)


def _psd_sqrt(matrix: np.ndarray) -> np.ndarray:
    """Square root of a symmetric PSD matrix by eigendecomposition."""
    values, vectors = np.linalg.eigh(matrix)
    # Round-off can leave tiny negative eigenvalues on a singular covariance.
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def feature_statistics(features) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance of features, the sufficient statistics of FID.

    Args:
        features: array of shape `(num_images, feature_dim)`.

    Returns:
        A tuple `(mu, sigma)`: the float64 mean `(feature_dim,)` and the
        unbiased (`ddof=1`) covariance `(feature_dim, feature_dim)`.

    Example:

    ```python
    reference = keras_latent.metrics.feature_statistics(real_features)
    score = keras_latent.metrics.fid(reference, fake_features)
    ```
    """
    features = _features(features, "features")
    return features.mean(axis=0), np.cov(features, rowvar=False)


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """Fréchet distance between two Gaussians, in float64.

    d² = ‖μ₁ − μ₂‖² + tr(Σ₁) + tr(Σ₂) − 2·tr((Σ₁Σ₂)^½).

    The trace of the matrix square root is computed without a general
    (non-symmetric) `sqrtm`: Σ₁Σ₂ is similar to the symmetric PSD matrix
    Σ₁^½ Σ₂ Σ₁^½, so both have the same eigenvalues and
    tr((Σ₁Σ₂)^½) = Σᵢ √λᵢ(Σ₁^½ Σ₂ Σ₁^½). Both steps are symmetric
    eigendecompositions (`numpy.linalg.eigh`), which are stable and never
    return complex parts, even for singular covariances (fewer samples than
    feature dimensions); eigenvalues below zero from round-off are clipped.
    The result may be slightly negative (about 1e-12 relative) for identical
    inputs.

    Args:
        mu1: array of shape `(d,)`. Mean of the first Gaussian.
        sigma1: array of shape `(d, d)`. Covariance of the first Gaussian.
        mu2: array of shape `(d,)`. Mean of the second Gaussian.
        sigma2: array of shape `(d, d)`. Covariance of the second Gaussian.

    Returns:
        The squared Fréchet distance, a Python float.

    Example:

    ```python
    d = keras_latent.metrics.frechet_distance(
        np.zeros(2), np.eye(2), np.ones(2), 4 * np.eye(2)
    )  # 2 + 2 + 8 - 2·2·2 = 4.0
    ```
    """
    mu1, mu2 = to_numpy(mu1, "float64"), to_numpy(mu2, "float64")
    sigma1, sigma2 = to_numpy(sigma1, "float64"), to_numpy(sigma2, "float64")
    for name, value in (
        ("mu1", mu1),
        ("sigma1", sigma1),
        ("mu2", mu2),
        ("sigma2", sigma2),
    ):
        check_finite(value, f"`{name}`")
    dim = mu1.shape[-1] if mu1.ndim == 1 else -1
    if (
        mu1.shape != (dim,)
        or mu2.shape != (dim,)
        or sigma1.shape != (dim, dim)
        or sigma2.shape != (dim, dim)
    ):
        raise ValueError(
            "Expected means of shape (d,) and covariances of shape (d, d). "
            f"Received {mu1.shape}, {sigma1.shape}, {mu2.shape}, {sigma2.shape}."
        )
    sigma1, sigma2 = _symmetric(sigma1), _symmetric(sigma2)
    root1 = _psd_sqrt(sigma1)
    middle = _symmetric(root1 @ sigma2 @ root1)
    trace_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh(middle), 0.0, None)).sum()
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * trace_sqrt)


def fid(real_features, fake_features) -> float:
    """Fréchet Inception Distance (Heusel et al. 2017) between two feature sets.

    Fits a Gaussian (mean, unbiased covariance) to each set and returns
    `frechet_distance` between them. Lower is better; the estimate is biased
    upwards for small sets, so compare only numbers computed with the same
    feature network, resizer and numbers of images
    (docs/models.md, "Metrics and their protocol").

    Args:
        real_features: array `(num_real, d)`, or a `(mu, sigma)` tuple from
            `feature_statistics` (e.g. cached reference statistics).
        fake_features: array `(num_fake, d)`, or a `(mu, sigma)` tuple.

    Returns:
        FID, a Python float.

    Example:

    ```python
    real = keras_latent.metrics.classifier_features(judge, test_images)
    fake = keras_latent.metrics.classifier_features(
        judge, (lambda n: model.generate(n), 10000)
    )
    score = keras_latent.metrics.fid(real, fake)
    ```
    """

    def statistics(x, argument):
        if isinstance(x, tuple) and len(x) == 2:
            mu, sigma = to_numpy(x[0], "float64"), to_numpy(x[1], "float64")
            check_finite(mu, f"The mean of `{argument}`")
            check_finite(sigma, f"The covariance of `{argument}`")
            return mu, sigma
        return feature_statistics(_features(x, argument))

    return frechet_distance(
        *statistics(real_features, "real_features"),
        *statistics(fake_features, "fake_features"),
    )


def _unbiased_mmd2(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD² of two equal-size samples, cubic polynomial kernel."""
    m, dim = x.shape

    def kernel(a, b):
        return (a @ b.T / dim + 1.0) ** 3

    k_xx, k_yy, k_xy = kernel(x, x), kernel(y, y), kernel(x, y)
    # The unbiased estimator leaves out the k(xᵢ, xᵢ) terms of the
    # within-sample sums.
    within = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
    return float(within - 2.0 * k_xy.sum() / (m * m))


def kid(
    real_features,
    fake_features,
    num_subsets: int = 100,
    subset_size: int = 1000,
    seed: int = 0,
    *,
    verbose: bool = False,
) -> tuple[float, float]:
    """Kernel Inception Distance (Bińkowski et al. 2018).

    The unbiased estimate of MMD² with the polynomial kernel
    `k(x, y) = (x·y / d + 1)³`, averaged over `num_subsets` random subsets
    of `subset_size` real and `subset_size` fake features (each drawn
    without replacement). Unlike FID it is unbiased, so it can be slightly
    negative when the two distributions are the same.

    Args:
        real_features: array of shape `(num_real, d)`.
        fake_features: array of shape `(num_fake, d)`.
        num_subsets: int. Number of random subsets. Defaults to `100`.
        subset_size: int. Features per subset and per set; clipped to the
            smaller set. Defaults to `1000`.
        seed: int. Seed of the subset draws. Defaults to `0`.
        verbose: bool. Show a progress bar. Defaults to `False`.

    Returns:
        A tuple `(mean, std)` of the MMD² estimates over the subsets (Python
        floats; `std` with `ddof=0`).

    Example:

    ```python
    kid_mean, kid_std = keras_latent.metrics.kid(real, fake, num_subsets=50)
    ```
    """
    real = _features(real_features, "real_features")
    fake = _features(fake_features, "fake_features")
    if real.shape[1] != fake.shape[1]:
        raise ValueError(
            "Real and fake features must have the same dimension. Received "
            f"{real.shape[1]} and {fake.shape[1]}."
        )
    if num_subsets < 1 or subset_size < 2:
        raise ValueError(
            "`num_subsets` must be ≥ 1 and `subset_size` ≥ 2. Received "
            f"num_subsets={num_subsets}, subset_size={subset_size}."
        )
    size = min(subset_size, real.shape[0], fake.shape[0])
    rng = np.random.default_rng(seed)
    # A generator: each subset is drawn (in the same order) as the bar moves.
    estimates = collect(
        (
            _unbiased_mmd2(
                real[rng.choice(real.shape[0], size, replace=False)],
                fake[rng.choice(fake.shape[0], size, replace=False)],
            )
            for _ in range(num_subsets)
        ),
        num_subsets,
        verbose,
        size=lambda _: 1,
    )
    return float(np.mean(estimates)), float(np.std(estimates))

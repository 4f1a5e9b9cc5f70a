"""MS-SSIM (Wang, Simoncelli & Bovik 2003) and AC-GAN's intra-class diversity."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from keras_latent.utils.batching import check_finite, collect, to_numpy

MS_SSIM_POWER_FACTORS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


def _gaussian_window(size: int, sigma: float) -> np.ndarray:
    # TF's `_fspecial_gauss` is a softmax over the 2-D grid of
    # -(x² + y²) / 2σ², which is exactly the outer product of this normalised
    # 1-D window with itself, so the filter can be applied separably.
    coords = np.arange(size, dtype="float64") - (size - 1) / 2.0
    window = np.exp(-0.5 * np.square(coords) / sigma**2)
    return window / window.sum()


def _valid_filter(x: np.ndarray, window: np.ndarray) -> np.ndarray:
    """Separable 'valid' filtering of `(..., H, W, C)` arrays over H and W."""
    size = len(window)
    height = x.shape[-3] - size + 1
    width = x.shape[-2] - size + 1
    rows = sum(w * x[..., i : i + height, :, :] for i, w in enumerate(window))
    return sum(w * rows[..., :, i : i + width, :] for i, w in enumerate(window))


def _ssim_and_cs(x, y, max_val, filter_size, filter_sigma, k1, k2):
    """Per-channel SSIM and contrast-structure term, each `(batch, channels)`."""
    height, width = x.shape[1], x.shape[2]
    # tf.image.ssim_multiscale raises when a scale is smaller than the filter
    # (e.g. 64×64 inputs, whose 4th scale is 8×8). There we shrink the filter
    # to the image and its width with it, as the original MS-SSIM reference
    # code does (tensorflow/models `msssim.py`); where TF is defined, `size`
    # equals `filter_size` and nothing changes.
    size = min(filter_size, height, width)
    sigma = filter_sigma * size / filter_size
    window = _gaussian_window(size, sigma)

    c1 = (k1 * max_val) ** 2
    c2 = (k2 * max_val) ** 2
    # One filtering pass for all four local moments.
    moments = _valid_filter(np.stack([x, y, x * y, x * x + y * y]), window)
    mean_x, mean_y, mean_xy, mean_sq = moments
    num0 = 2.0 * mean_x * mean_y
    den0 = mean_x**2 + mean_y**2
    luminance = (num0 + c1) / (den0 + c1)
    # Biased local covariances, as in TF and Wang et al.'s MATLAB code.
    cs = (2.0 * mean_xy - num0 + c2) / (mean_sq - den0 + c2)
    ssim = (luminance * cs).mean(axis=(1, 2))
    return ssim, cs.mean(axis=(1, 2))


def _downsample(x: np.ndarray) -> np.ndarray:
    # TF pads odd sizes by one row/column with SYMMETRIC padding (the edge
    # pixel repeated) before a 2×2 average pool with stride 2.
    pad_h, pad_w = x.shape[1] % 2, x.shape[2] % 2
    if pad_h or pad_w:
        x = np.pad(x, ((0, 0), (0, pad_h), (0, pad_w), (0, 0)), mode="symmetric")
    n, h, w, c = x.shape
    return x.reshape(n, h // 2, 2, w // 2, 2, c).mean(axis=(2, 4))


def _ms_ssim_batch(a, b, max_val, power_factors, filter_size, filter_sigma, k1, k2):
    factors = np.asarray(power_factors, dtype="float64")
    terms = []
    for scale in range(len(factors)):
        if scale > 0:
            a, b = _downsample(a), _downsample(b)
        ssim, cs = _ssim_and_cs(a, b, max_val, filter_size, filter_sigma, k1, k2)
        terms.append(cs)
    # Contrast-structure at every scale but the coarsest, where the full SSIM
    # (luminance included) is used; TF clamps each at 0 (ReLU) so that the
    # fractional powers stay real.
    terms[-1] = ssim
    stacked = np.maximum(np.stack(terms, axis=-1), 0.0)
    per_channel = np.prod(stacked**factors, axis=-1)
    return per_channel.mean(axis=-1)


def ms_ssim(
    images_a,
    images_b,
    max_val: float = 1.0,
    power_factors: Sequence[float] = MS_SSIM_POWER_FACTORS,
    filter_size: int = 11,
    filter_sigma: float = 1.5,
    k1: float = 0.01,
    k2: float = 0.03,
    *,
    batch_size: int = 64,
    verbose: bool = False,
) -> np.ndarray:
    """Multi-scale structural similarity of image pairs (Wang et al. 2003).

    Follows `tf.image.ssim_multiscale` exactly: a Gaussian window applied with
    'valid' padding, biased local covariances, contrast-structure terms at
    every scale but the coarsest and the full SSIM there, each clamped at 0
    before being raised to its power factor, a 2×2 average pool (after
    symmetric padding of odd sizes) between scales, and the mean over
    channels at the end. Computed in float64 with NumPy, so it runs the same
    on every backend. One deliberate extension: where a scale is smaller than
    `filter_size` (TF raises an error there, e.g. for 64×64 images with the
    default 11-pixel window and 5 scales), the window shrinks to the image
    size and its `filter_sigma` shrinks in proportion, as in the original
    MS-SSIM reference code.

    Args:
        images_a: array of shape `(batch, height, width, channels)`,
            channels last, values in `[0, max_val]`.
        images_b: array of the same shape as `images_a`.
        max_val: float. Dynamic range of the pixel values. Defaults to `1.0`.
        power_factors: sequence of float. Exponent of each scale; its length
            is the number of scales. Defaults to
            `(0.0448, 0.2856, 0.3001, 0.2363, 0.1333)` (Wang et al.).
        filter_size: int. Width of the Gaussian window. Defaults to `11`.
        filter_sigma: float. Standard deviation of the Gaussian window.
            Defaults to `1.5`.
        k1: float. Luminance stabiliser, `c1 = (k1·max_val)²`. Defaults to
            `0.01`.
        k2: float. Contrast stabiliser, `c2 = (k2·max_val)²`. Defaults to
            `0.03`.
        batch_size: int. Pairs processed at a time. Defaults to `64`.
        verbose: bool. Show a progress bar. Defaults to `False`.

    Returns:
        A float64 NumPy array of shape `(batch,)`: one MS-SSIM per pair, in
        `[0, 1]`, `1` for identical images.

    Example:

    ```python
    scores = keras_latent.metrics.ms_ssim(real_images, reconstructions)
    print(scores.mean())
    ```
    """
    a = to_numpy(images_a, "float64")
    b = to_numpy(images_b, "float64")
    if a.ndim != 4 or a.shape != b.shape:
        raise ValueError(
            "`images_a` and `images_b` must have the same shape (batch, height, "
            f"width, channels), channels last. Received {a.shape} and {b.shape}."
        )
    check_finite(a, "`images_a`")
    check_finite(b, "`images_b`")
    if len(power_factors) < 1:
        raise ValueError("`power_factors` needs at least one scale.")
    if filter_size < 1 or filter_sigma <= 0:
        raise ValueError(
            "`filter_size` must be a positive int and `filter_sigma` positive. "
            f"Received filter_size={filter_size}, filter_sigma={filter_sigma}."
        )
    scores = collect(
        (
            _ms_ssim_batch(
                a[start : start + batch_size],
                b[start : start + batch_size],
                float(max_val),
                power_factors,
                int(filter_size),
                float(filter_sigma),
                k1,
                k2,
            )
            for start in range(0, a.shape[0], batch_size)
        ),
        a.shape[0],
        verbose,
    )
    return np.concatenate(scores) if scores else np.zeros((0,), "float64")


def intra_class_diversity(
    images,
    labels,
    num_pairs: int = 100,
    seed: int = 0,
    *,
    max_val: float = 1.0,
    batch_size: int = 64,
    verbose: bool = False,
    **ms_ssim_kwargs,
) -> dict[int, float]:
    """Mean MS-SSIM of random same-class pairs, per class (AC-GAN protocol).

    Odena et al. (2017) judge the diversity of a class by the mean MS-SSIM of
    100 random pairs of its images: lower means more diverse, and a class of
    generated images is diverse enough when its value is below that of the
    real images of the class. Each pair is two distinct images of the class;
    pairs are drawn independently (so a pair can repeat in small classes).

    Args:
        images: array of shape `(num_images, height, width, channels)`,
            values in `[0, max_val]`.
        labels: int class ids of shape `(num_images,)`, or one-hot labels of
            shape `(num_images, num_classes)`.
        num_pairs: int. Pairs drawn per class. Defaults to `100`.
        seed: int. Seed of the pair draw. Defaults to `0`.
        max_val: float. Dynamic range of the pixel values. Defaults to `1.0`.
        batch_size: int. Pairs compared at a time. Defaults to `64`.
        verbose: bool. Show a progress bar. Defaults to `False`.
        **ms_ssim_kwargs: further arguments of `ms_ssim` (`filter_size`, …).

    Returns:
        A dict from class id (int) to mean MS-SSIM (float). A class with
        fewer than two images has no pair and maps to `nan`.

    Example:

    ```python
    real = keras_latent.metrics.intra_class_diversity(test_images, test_labels)
    fake = keras_latent.metrics.intra_class_diversity(generated, generated_labels)
    too_similar = [c for c in real if fake[c] > real[c]]
    ```
    """
    images = to_numpy(images)
    labels = to_numpy(labels)
    # Checked once here, not only per batch of pairs in `ms_ssim`, so that
    # the error names this function's argument.
    check_finite(images, "`images`")
    check_finite(labels, "`labels`")
    if labels.ndim == 2:
        labels = labels.argmax(axis=-1)
    labels = labels.reshape(-1)
    if labels.shape[0] != images.shape[0]:
        raise ValueError(
            f"Got {images.shape[0]} images but {labels.shape[0]} labels; pass "
            "one class id per image."
        )
    if num_pairs < 1:
        raise ValueError(f"`num_pairs` must be a positive int. Received: {num_pairs}")
    rng = np.random.default_rng(seed)
    classes = [int(c) for c in np.unique(labels)]
    first, second, owner = [], [], []
    for label in classes:
        members = np.flatnonzero(labels == label)
        if len(members) < 2:
            continue
        i = rng.integers(0, len(members), num_pairs)
        # An offset in [1, n) makes the partner always a different image.
        j = (i + rng.integers(1, len(members), num_pairs)) % len(members)
        first.append(members[i])
        second.append(members[j])
        owner.append(np.full(num_pairs, label))
    result = {label: float("nan") for label in classes}
    if not first:
        return result
    first, second = np.concatenate(first), np.concatenate(second)
    owner = np.concatenate(owner)
    # Gather pairs batch by batch: copying every pair up front would take
    # 2·num_classes·num_pairs images of memory.
    scores = collect(
        (
            ms_ssim(
                images[first[start : start + batch_size]],
                images[second[start : start + batch_size]],
                max_val=max_val,
                batch_size=batch_size,
                **ms_ssim_kwargs,
            )
            for start in range(0, len(first), batch_size)
        ),
        len(first),
        verbose,
    )
    scores = np.concatenate(scores)
    for label in np.unique(owner):
        result[int(label)] = float(scores[owner == label].mean())
    return result

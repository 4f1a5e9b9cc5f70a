"""The attribute-editing measurements and figures shared by the editing recipes.

The class-swap measures (MNIST, CIFAR-10) are below; `attribute_edit_grid`
draws the CelebA edit figures.

An editing model has `transform(images, labels)` (change the class, keep
the rest) and `reconstruct(images)`. The dataset's independent judge
(`mnist_classifier`, `cifar10_classifier`) says whether an edit reached the
class asked for; pixel distances to the model's own reconstruction say how
much else the edit changed. Each function returns metadata metrics,
`{"value": ..., "protocol": ...}` with `real_test` where the real test
images give a reference. What the model's samples are measured by (class
accuracy, per-class diversity, FID/KID/IS) is in `generator_measures.py`.
"""

from __future__ import annotations

import numpy as np

import keras_latent

# The swap grid of the card: this many test digits, one per row.
GRID_DIGITS = 8


def pick_test_digits(x_test, y_test, count: int, seed: int):
    """`count` test digits (all if fewer) drawn without replacement, seeded."""
    rng = np.random.default_rng(seed)
    picked = np.sort(rng.choice(len(x_test), min(count, len(x_test)), replace=False))
    return x_test[picked], y_test[picked]


def edits_to_every_class(model, images) -> np.ndarray:
    """`transform` of every image to every class: `(K, N, H, W, C)`.

    Row k asks for class k; where k is the image's own class the edit is a
    no-op in intent, which the identity measure uses.
    """
    eye = np.eye(len(model.attribute_names), dtype="float32")
    return np.stack(
        [model.transform(images, np.repeat(row[None], len(images), 0)) for row in eye]
    )


def swap_grid(model, images) -> np.ndarray:
    """The card's swap grid: per image a row `[image, its edit to each class]`."""
    images = images[:GRID_DIGITS]
    edits = edits_to_every_class(model, images)  # (K, N, ...)
    rows = np.concatenate([images[:, None], np.swapaxes(edits, 0, 1)], axis=1)
    return rows.reshape(-1, *images.shape[1:])


def _mse(a, b) -> np.ndarray:
    """Per-image pixel MSE over the trailing image axes."""
    return np.mean((a - b) ** 2, axis=(-3, -2, -1))


def _real_swap_distance(images, digits, x_test, y_test, rng) -> float:
    """Mean pixel MSE between each digit and a random real test digit of each
    other class: what a class change costs when everything else changes too."""
    distances = []
    for k in np.unique(y_test):
        others = digits != k
        if not others.any():
            continue
        pool = np.flatnonzero(y_test == k)
        partners = x_test[rng.choice(pool, int(others.sum()))]
        distances.append(_mse(images[others], partners))
    return float(np.concatenate(distances).mean())


def swap_measures(model, judge_name, x_test, y_test, count, seed) -> dict:
    """`swap_accuracy` and `identity` of edits of `count` test digits to
    every other class."""
    judge = keras_latent.from_preset(judge_name)
    images, digits = pick_test_digits(x_test, y_test, count, seed)
    num_classes = len(model.attribute_names)
    edits = edits_to_every_class(model, images)
    judged = np.stack([judge.predict_proba(e).argmax(-1) for e in edits])
    targets = np.arange(num_classes)[:, None]
    swapped = targets != digits[None]  # (K, N): the edits that change the class
    hits = judged == targets
    distance = _mse(edits, model.reconstruct(images)[None])
    real_accuracy = float((judge.predict_proba(images).argmax(-1) == digits).mean())
    real_distance = _real_swap_distance(
        images, digits, x_test, y_test, np.random.default_rng(seed)
    )
    where = (
        f"{len(images):,} test images (drawn without replacement, seed {seed}), "
        f"each transformed to each of the {num_classes - 1} other classes "
        f"({int(swapped.sum()):,} edits)"
    )
    return {
        "swap_accuracy": {
            "value": round(float(hits[swapped].mean()), 4),
            "per_class": {
                name: round(float(hits[k][swapped[k]].mean()), 4)
                for k, name in enumerate(model.attribute_names)
                if swapped[k].any()
            },
            "still_source_share": round(
                float((judged == digits[None])[swapped].mean()), 4
            ),
            "real_test": round(real_accuracy, 4),
            "protocol": f"share of the edits of {where} that '{judge_name}' "
            "classifies as the class asked for (per_class: by class asked "
            "for; still_source_share: classified as the image's own class); "
            "real_test: the judge's accuracy on those test images",
        },
        "identity": {
            "value": round(float(distance[swapped].mean()), 5),
            "same_class": round(float(distance[~swapped].mean()), 5),
            "real_test": round(real_distance, 5),
            "protocol": f"mean pixel MSE (pixels in [0, 1]) between the edits "
            f"of {where} and the model's reconstruction of the image: how "
            "much the edit changed (the class change included); same_class: "
            "the same for the edit to the image's own class (a no-op asked "
            "for); real_test: between each of those test images and a random "
            f"test image of each other class (seed {seed})",
        },
    }


def reconstruction_measures(model, judge_name, x_test, y_test) -> dict:
    """`reconstruction_mse` of the test digits, and how many of the
    reconstructions the judge still reads as the digit."""
    reconstructions = model.reconstruct(x_test)
    judge = keras_latent.from_preset(judge_name)
    kept = judge.predict_proba(reconstructions).argmax(-1) == y_test
    return {
        "reconstruction_mse": {
            "value": round(float(_mse(reconstructions, x_test).mean()), 5),
            "judged_as_digit": round(float(kept.mean()), 4),
            "protocol": f"mean squared error of `reconstruct` on the "
            f"{len(x_test):,} real test images, pixels in [0, 1]; "
            f"judged_as_digit: share of the reconstructions '{judge_name}' "
            "classifies as the test image's label",
        }
    }


def edits_to_the_opposite(model, faces, targets, name, **options) -> np.ndarray:
    """`transform` of each face to its 0/1 `targets` `(N,)` for `name`.

    One call per target value: `transform` takes one value per name.
    """
    edited = np.empty_like(faces)
    for value in (0.0, 1.0):
        rows = np.flatnonzero(targets == value)
        if len(rows):
            edited[rows] = model.transform(faces[rows], {name: value}, **options)
    return edited


def attribute_edit_grid(model, faces, labels, names, **options) -> np.ndarray:
    """Per face a row: the face, its reconstruction, each attribute flipped.

    Args:
        model: a multi-label editor (`transform`, `reconstruct`).
        faces: float images in [0, 1], `(N, H, W, C)`.
        labels: their 0/1 attributes `(N, len(names))`.
        names: the attributes, one column each, in this order.
        **options: passed to `transform` (Latent Constraints' `method=`).

    Returns:
        `(N * (2 + len(names)), H, W, C)`, row by row.
    """
    columns = [faces, model.reconstruct(faces)]
    for j, name in enumerate(names):
        columns.append(
            edits_to_the_opposite(model, faces, 1.0 - labels[:, j], name, **options)
        )
    return np.stack(columns, axis=1).reshape(-1, *faces.shape[1:])

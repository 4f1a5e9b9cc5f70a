"""Scores computed from a judge classifier's probabilities."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from keras_latent.utils.batching import check_finite, to_numpy


def inception_score(probabilities, num_splits: int = 10) -> tuple[float, float]:
    """Inception Score (Salimans et al. 2016): exp(E_x KL(p(y|x) ‖ p(y))).

    The images are cut into `num_splits` consecutive, near-equal splits; in
    each, p(y) is the mean of the split's predictions, and the score is the
    exponential of the mean KL divergence. It ranges from 1 (every image
    gets the same prediction) to the number of classes (confident
    predictions spread evenly over the classes). Name the classifier with
    every number (docs/models.md, "Metrics and their protocol"): InceptionV3
    scores and zoo-classifier scores are not comparable.

    Args:
        probabilities: array of shape `(num_images, num_classes)`: softmax
            outputs, rows summing to 1.
        num_splits: int. Number of splits. Defaults to `10`.

    Returns:
        A tuple `(mean, std)` over the splits (Python floats; `std` with
        `ddof=0`, as in the original code).

    Example:

    ```python
    probabilities = judge.predict_proba(model.generate(5000))
    score, spread = keras_latent.metrics.inception_score(probabilities)
    ```
    """
    p = to_numpy(probabilities, "float64")
    if p.ndim != 2:
        raise ValueError(
            "`probabilities` must have shape (num_images, num_classes). "
            f"Received shape {p.shape}."
        )
    check_finite(p, "`probabilities`")
    if np.any(p < 0) or not np.allclose(p.sum(axis=1), 1.0, atol=1e-3):
        raise ValueError(
            "`probabilities` must be non-negative rows summing to 1 (softmax "
            "outputs of a single-label classifier)."
        )
    if not 1 <= num_splits <= p.shape[0]:
        raise ValueError(
            f"`num_splits` must be between 1 and the number of images "
            f"({p.shape[0]}). Received: {num_splits}"
        )
    # 0·log 0 = 0: clipping inside the log leaves those terms at exactly 0.
    tiny = np.finfo("float64").tiny
    scores = []
    for split in np.array_split(p, num_splits):
        marginal = split.mean(axis=0, keepdims=True)
        kl = np.sum(
            split
            * (np.log(np.maximum(split, tiny)) - np.log(np.maximum(marginal, tiny))),
            axis=1,
        )
        scores.append(np.exp(kl.mean()))
    return float(np.mean(scores)), float(np.std(scores))


def attribute_scores(
    probabilities,
    targets,
    threshold: float = 0.5,
    *,
    attribute_names: Sequence[str] | None = None,
) -> dict:
    """Accuracy, precision, recall and F1 of a multi-label judge, per attribute.

    The Latent Constraints evaluation (docs/models.md, "Metrics and their
    protocol"): an independent attribute classifier judges generated or edited
    images against the attributes they were asked to have. An attribute counts
    as present when its probability is above `threshold`. Precision (recall,
    F1) of an attribute with no predicted (actual, either) positives is defined
    as 0.

    Args:
        probabilities: array of shape `(num_images, num_attributes)`
            (or `(num_images,)` for one attribute): sigmoid outputs.
        targets: 0/1 array of the same shape: the requested attributes.
        threshold: float. Decision threshold. Defaults to `0.5`.
        attribute_names: sequence of str, optional. Keys of
            `"per_attribute"`. Defaults to `"0"`, `"1"`, ….

    Returns:
        A dict with `"accuracy"`, `"precision"`, `"recall"` and `"f1"`: the
        means over attributes (macro averages), and `"per_attribute"`: a dict
        from attribute name to a dict of the same four scores plus
        `"support"` (the number of positive targets).

    Example:

    ```python
    probabilities = judge.predict_proba(edited_images)
    scores = keras_latent.metrics.attribute_scores(probabilities, target_labels)
    print(scores["accuracy"], scores["per_attribute"]["Smiling"]["f1"])
    ```
    """
    # Keras' BinaryAccuracy convention: positive when strictly above.
    probabilities = to_numpy(probabilities, "float64")
    check_finite(probabilities, "`probabilities`")
    predicted = probabilities > threshold
    truth = to_numpy(targets, "float64")
    check_finite(truth, "`targets`")
    if predicted.ndim == 1:
        predicted = predicted[:, None]
    if truth.ndim == 1:
        truth = truth[:, None]
    if predicted.shape != truth.shape or predicted.ndim != 2:
        raise ValueError(
            "`probabilities` and `targets` must have the same shape "
            f"(num_images, num_attributes). Received {predicted.shape} and "
            f"{truth.shape}."
        )
    if not np.all((truth == 0) | (truth == 1)):
        raise ValueError("`targets` must be 0/1 attribute labels.")
    truth = truth.astype(bool)
    num_attributes = truth.shape[1]
    names = (
        [str(i) for i in range(num_attributes)]
        if attribute_names is None
        else [str(n) for n in attribute_names]
    )
    if len(names) != num_attributes:
        raise ValueError(
            f"Got {len(names)} attribute names for {num_attributes} attributes."
        )

    def ratio(numerator, denominator):
        return numerator / denominator if denominator else 0.0

    per_attribute = {}
    for name, pred, true in zip(names, predicted.T, truth.T):
        tp = float(np.sum(pred & true))
        precision = ratio(tp, float(pred.sum()))
        recall = ratio(tp, float(true.sum()))
        per_attribute[name] = {
            "accuracy": float(np.mean(pred == true)),
            "precision": precision,
            "recall": recall,
            "f1": ratio(2 * precision * recall, precision + recall),
            "support": int(true.sum()),
        }
    result = {
        key: float(np.mean([scores[key] for scores in per_attribute.values()]))
        for key in ("accuracy", "precision", "recall", "f1")
    }
    result["per_attribute"] = per_attribute
    return result


def edit_success(
    probabilities_for_target_0,
    probabilities_for_target_1,
    threshold: float = 0.5,
) -> dict[str, float]:
    """IFcVAE-GAN's Class0 / Class1: the fraction of edits that worked.

    Creswell et al. (2017, Table 1; docs/models.md, "Metrics and their
    protocol") encode test images, set the attribute to 0 (and, separately, to
    1), decode, and let an independent classifier judge the results: Class0 is
    the fraction of the target-0 edits judged not to have the attribute
    (probability ≤ `threshold`), Class1 the fraction of the target-1 edits
    judged to have it (probability > `threshold`).

    Args:
        probabilities_for_target_0: array of shape `(num_images,)` or
            `(num_images, 1)`: the judge's probability of the attribute on
            the images edited towards 0.
        probabilities_for_target_1: the same for the images edited towards 1.
        threshold: float. Decision threshold. Defaults to `0.5`.

    Returns:
        A dict `{"class0": float, "class1": float}`.

    Example:

    ```python
    # edited_to_0 / edited_to_1: the same test images decoded with the
    # attribute set to 0 / to 1.
    p0 = smile_judge.predict_proba(edited_to_0)[:, 0]
    p1 = smile_judge.predict_proba(edited_to_1)[:, 0]
    keras_latent.metrics.edit_success(p0, p1)  # {"class0": …, "class1": …}
    ```
    """

    def positives(probabilities, argument):
        p = to_numpy(probabilities, "float64")
        if p.ndim == 2 and p.shape[1] == 1:
            p = p[:, 0]
        if p.ndim != 1 or p.shape[0] == 0:
            raise ValueError(
                f"`{argument}` must be a non-empty vector of one attribute's "
                f"probabilities, shape (num_images,). Received shape {p.shape}; "
                "select the attribute's column first."
            )
        check_finite(p, f"`{argument}`")
        return p > threshold

    zero = positives(probabilities_for_target_0, "probabilities_for_target_0")
    one = positives(probabilities_for_target_1, "probabilities_for_target_1")
    return {"class0": float(np.mean(~zero)), "class1": float(np.mean(one))}

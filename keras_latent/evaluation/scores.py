"""The numbers: FID/KID of feature statistics, IS, diversity, attributes, edits.

Each `_score_*` function adds its metric's value to `results` and a one-line
description of how it was measured to `descriptions` (the report's
`protocol["metrics"]`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from keras_latent import metrics as metrics_lib
from keras_latent.evaluation.edits import _score_edits
from keras_latent.evaluation.run import _Run
from keras_latent.evaluation.streaming import _Judged

# AC-GAN's protocol (Odena et al. 2017): 100 random same-class pairs per class.
DIVERSITY_PAIRS = 100
IS_SPLITS = 10


def _nan_to_none(value: float) -> float | None:
    return None if math.isnan(value) else value


def _sizes(run: _Run) -> str:
    return (
        f"{run.num_samples} generated vs {len(run.real)} real ({run.reference['name']})"
    )


def _score_fid_kid(run: _Run, judged: _Judged, results: dict, descriptions: dict):
    """FID and KID of the real and generated feature statistics."""
    features_text = (
        f"{run.feature_dim}-d penultimate features of the judge "
        f"({run.judge_preset or type(run.judge).__name__})"
        if run.feature_network == "judge"
        else "2048-d InceptionV3 pool3 features"
    )
    real, fake = judged.real_features, judged.fake_features
    if "fid" in run.names:
        results["fid"] = metrics_lib.fid(real, fake)
        descriptions["fid"] = f"FID, {features_text}; {_sizes(run)}"
    if "kid" in run.names:
        mean, std = metrics_lib.kid(real, fake, seed=run.seed or 0)
        results["kid"] = {"mean": mean, "std": std}
        subset = min(1000, len(run.real), run.num_samples)
        descriptions["kid"] = (
            f"KID (cubic polynomial kernel), mean ± std over 100 subsets of "
            f"{subset}, {features_text}; {_sizes(run)}"
        )


def _score_is(run: _Run, judged: _Judged, results: dict, descriptions: dict):
    """The Inception Score of the generated and of the real images."""
    splits = min(IS_SPLITS, run.num_samples)
    mean, std = metrics_lib.inception_score(judged.fake_probabilities, splits)
    real_mean, real_std = metrics_lib.inception_score(
        judged.real_probabilities, min(IS_SPLITS, len(run.real))
    )
    results["is"] = {
        "mean": mean,
        "std": std,
        "real_mean": real_mean,
        "real_std": real_std,
    }
    descriptions["is"] = (
        f"Inception Score of the judge's softmax ({run.judge_preset or 'judge'}), "
        f"mean ± std over {splits} splits of {run.num_samples} generated images; "
        f"real: the same on {run.reference['name']}"
    )


def _diversity_summary(fake_div: dict, real_div: dict, class_names) -> dict:
    """Per-class MS-SSIM keyed by class name, their means, the collapsed classes."""

    def by_name(values):
        return {
            class_names[c] if 0 <= c < len(class_names) else str(c): _nan_to_none(v)
            for c, v in sorted(values.items())
        }

    def mean_of(values):
        finite = [v for v in values.values() if not math.isnan(v)]
        return float(np.mean(finite)) if finite else None

    return {
        "generated": by_name(fake_div),
        "real": by_name(real_div),
        "generated_mean": mean_of(fake_div),
        "real_mean": mean_of(real_div),
        "less_diverse_than_real": [
            class_names[c]
            for c in sorted(fake_div)
            if c in real_div
            and not math.isnan(fake_div[c])
            and not math.isnan(real_div[c])
            and fake_div[c] > real_div[c]
        ],
    }


def _score_diversity(run: _Run, judged: _Judged, results: dict, descriptions: dict):
    """AC-GAN's intra-class diversity (MS-SSIM) of generated and real images."""
    class_names = run.judge.class_names
    generated = judged.fake_images
    fake_labels = judged.fake_probabilities.argmax(axis=-1)
    labels = run.reference["labels"]
    real_labels_from = "dataset labels"
    if labels is None or (labels.ndim == 2 and labels.shape[1] != len(class_names)):
        labels = judged.real_probabilities.argmax(axis=-1)
        real_labels_from = "the judge's argmax"
    seed = run.seed or 0
    fake_div = metrics_lib.intra_class_diversity(
        generated, fake_labels, DIVERSITY_PAIRS, seed=seed, verbose=run.verbose
    )
    real_div = metrics_lib.intra_class_diversity(
        run.real, labels, DIVERSITY_PAIRS, seed=seed, verbose=run.verbose
    )
    results["diversity"] = _diversity_summary(fake_div, real_div, class_names)
    descriptions["diversity"] = (
        f"mean MS-SSIM of {DIVERSITY_PAIRS} random same-class pairs per class "
        "(AC-GAN; lower = more diverse); generated classes: the judge's argmax; "
        f"real classes ({run.reference['name']}): {real_labels_from}"
    )


def _score_attributes(run: _Run, judged: _Judged, results: dict, descriptions: dict):
    """The judge's accuracy on images generated from real attribute vectors."""
    plan = run.plan
    probabilities = judged.fake_probabilities[:, plan["judge_columns"]]
    results["attributes"] = metrics_lib.attribute_scores(
        probabilities, plan["labels"], attribute_names=plan["names"]
    )
    descriptions["attributes"] = (
        "accuracy / precision / recall / F1 (macro over attributes, threshold "
        f"0.5) of the judge on {run.num_samples} images generated from attribute "
        f"vectors drawn from {run.reference['name']}"
    )


def _score(run: _Run, judged: _Judged | None) -> tuple[dict[str, Any], dict[str, str]]:
    """The results of every asked metric, and how each was measured.

    `judged` is `None` when no metric needs generated images ("edits" alone).
    """
    results: dict[str, Any] = {}
    descriptions: dict[str, str] = {}
    if {"fid", "kid"} & set(run.names):
        _score_fid_kid(run, judged, results, descriptions)
    if "is" in run.names:
        _score_is(run, judged, results, descriptions)
    if "diversity" in run.names:
        _score_diversity(run, judged, results, descriptions)
    if "attributes" in run.names:
        _score_attributes(run, judged, results, descriptions)
    if "edits" in run.names:
        _score_edits(run, results, descriptions)
    return results, descriptions

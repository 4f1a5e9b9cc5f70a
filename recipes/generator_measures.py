"""The class-conditional measurements (MNIST, CIFAR-10), shared by the recipes.

Each function returns metadata metrics: `{"value": ..., "protocol": ...}`
or a dict of them. The judge is the dataset's independent classifier preset
(`mnist_classifier`, `cifar10_classifier`); the real reference is the
recipe's report split (MNIST's test digits, CIFAR-10's held-out images).
"""

from __future__ import annotations

import numpy as np

import keras_latent
from keras_latent import metrics

CONFIDENCE = 0.9
COVERAGE_SAMPLES = 1000
DIVERSITY_PAIRS = 100


def is_conditional(model) -> bool:
    return hasattr(model, "attribute_names")


def class_samples(model, per_class: int, seed: int):
    """`(images, asked class ids)`: `per_class` samples asked for each class
    of a conditional model, class by class."""
    num_classes = len(model.attribute_names)
    labels = np.repeat(np.arange(num_classes), per_class)
    images = model.generate(
        np.eye(num_classes, dtype="float32")[labels],
        num_samples=len(labels),
        seed=seed,
    )
    return images, labels


def unconditional_samples(model, count: int, seed: int):
    if is_conditional(model):
        return model.generate(num_samples=count, seed=seed)
    return model.generate(count, seed=seed)


def judge_measures(model, judge_name, x_test, y_test, num_samples, seed) -> dict:
    """Confident share, classes covered, and (conditional models) the share
    classified as asked, with the real test images' values beside them."""
    judge = keras_latent.from_preset(judge_name)
    real_p = judge.predict_proba(x_test)
    samples = unconditional_samples(model, num_samples, seed)
    fake_p = judge.predict_proba(samples)
    covered = np.unique(fake_p[:COVERAGE_SAMPLES].argmax(-1))
    results = {
        "judge_confident_share": {
            "value": round(float((fake_p.max(-1) > CONFIDENCE).mean()), 4),
            "real_test": round(float((real_p.max(-1) > CONFIDENCE).mean()), 4),
            "protocol": f"share of {num_samples} samples (seed {seed}; labels "
            "drawn from the training marginals for conditional models) that "
            f"'{judge_name}' assigns to one class with p > {CONFIDENCE}; "
            f"real_test: the {len(x_test):,} real test images",
        },
        "classes_covered": {
            "value": int(len(covered)),
            "protocol": f"distinct argmax classes of '{judge_name}' among the "
            f"first {COVERAGE_SAMPLES} samples (10 = no class missing)",
        },
    }
    if is_conditional(model):
        per_class = max(1, num_samples // len(model.attribute_names))
        images, asked = class_samples(model, per_class, seed)
        hits = judge.predict_proba(images).argmax(-1) == asked
        results["class_accuracy"] = {
            "value": round(float(hits.mean()), 4),
            "per_class": {
                name: round(float(hits[asked == k].mean()), 4)
                for k, name in enumerate(model.attribute_names)
            },
            "real_test": round(float((real_p.argmax(-1) == y_test).mean()), 4),
            "protocol": f"share of {per_class} samples per asked class (seed "
            f"{seed}) that '{judge_name}' classifies as the class asked for; "
            "real_test: its accuracy on the real test images",
        }
    return results


def diversity(model, judge_name, x_test, y_test, per_class, seed) -> dict:
    """AC-GAN's per-class diversity: mean MS-SSIM of random same-class pairs
    of samples and of real test images (lower = more diverse)."""
    if is_conditional(model):
        images, labels = class_samples(model, per_class, seed)
        classes_from = "the class asked for"
    else:
        images = unconditional_samples(model, 10 * per_class, seed)
        judge = keras_latent.from_preset(judge_name)
        labels = judge.predict_proba(images).argmax(-1)
        classes_from = f"'{judge_name}''s argmax"
    fake = metrics.intra_class_diversity(images, labels, DIVERSITY_PAIRS, seed=seed)
    real = metrics.intra_class_diversity(x_test, y_test, DIVERSITY_PAIRS, seed=seed)
    less = [str(k) for k in sorted(fake) if k in real and fake[k] > real[k]]
    return {
        "value": len(real) - len(less),
        "generated": {str(k): round(float(v), 4) for k, v in sorted(fake.items())},
        "real_test": {str(k): round(float(v), 4) for k, v in sorted(real.items())},
        "less_diverse_than_real": less,
        "protocol": f"classes (of {len(real)}) whose samples are at least as "
        f"diverse as the real test images: mean MS-SSIM of {DIVERSITY_PAIRS} "
        f"random same-class pairs (seed {seed}) among {per_class} samples per "
        f"class (classes: {classes_from}) vs the real test images of that class",
    }


def feature_scores(model, judge_name, x_test, y_test, num_samples, seed) -> dict:
    """FID, KID and IS on the judge's features (`keras_latent.evaluate`)
    against the real test images."""
    report = keras_latent.evaluation.evaluate(
        model,
        metrics=("fid", "kid", "is"),
        data=(x_test, y_test),
        num_samples=num_samples,
        judge=judge_name,
        seed=seed,
        verbose=False,
    )
    results, protocol = report["results"], report["protocol"]
    features = protocol["feature_network"]
    common = (
        f"keras_latent.evaluate, {protocol['num_fake']} samples vs "
        f"{protocol['num_real']} real test images, features: "
        f"{features if isinstance(features, str) else features.get('name', features)}"
    )
    return {
        "fid": {"value": round(results["fid"], 3), "protocol": common},
        "kid": {"value": round(results["kid"]["mean"], 5), "protocol": common},
        "inception_score": {
            "value": round(results["is"]["mean"], 3),
            "real_test": round(results["is"]["real_mean"], 3),
            "protocol": protocol["metrics"]["is"],
        },
    }

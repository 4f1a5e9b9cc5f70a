"""The report's `"protocol"`: everything a number was measured under.

Numbers are comparable only under the same protocol (docs/models.md,
"Metrics and their protocol"), so the report records the model, the
reference split, the numbers of real and fake images, the feature network,
the resizer, the judge, the seed, the generation scheme and the backend.
"""

from __future__ import annotations

import keras

from keras_latent.evaluation.edits import _edit_record
from keras_latent.evaluation.run import _Run
from keras_latent.version import __version__


def _feature_record(run: _Run) -> tuple[dict, str]:
    """The feature network's record, and how images are resized for it."""
    if run.feature_network == "judge":
        record = {
            "name": "judge",
            "preset": run.judge_preset,
            "layer": run.feature_layer,
            "dim": run.feature_dim,
        }
        return record, f"none (native {'×'.join(map(str, run.image_shape[:2]))})"
    record = {
        "name": "inception",
        "preset": "InceptionV3 (ImageNet, no top, pool3)",
        "weights": run.inception_path,
        "dim": 2048,
    }
    resizer = (
        "bilinear to 299×299 (keras.ops.image.resize), grayscale repeated to "
        "3 channels, inception_v3.preprocess_input"
    )
    return record, resizer


def _judge_record(run: _Run) -> dict | None:
    if run.judge is None:
        return None
    return {
        "preset": run.judge_preset,
        "class": type(run.judge).__name__,
        "multi_label": bool(run.judge.multi_label),
        "classes": list(run.judge.class_names),
    }


def _protocol(run: _Run, descriptions: dict[str, str]) -> dict:
    """The report's protocol dict; `descriptions` describe each metric."""
    feature_record, resizer = _feature_record(run)
    generation = f"generate(count ≤ {run.generation_batch}, seed=seed + batch index)"
    if run.plan is not None:
        generation += "; attributes drawn from the reference labels"
    if not run.generates:
        generation = "none (the edit protocol edits reference images)"
    record = {
        "model": run.model_preset or type(run.model).__name__,
        "model_class": type(run.model).__name__,
        "reference": run.reference["name"],
        "num_real": int(len(run.real)),
        "num_fake": run.num_samples if run.generates else 0,
        "image_shape": list(run.image_shape),
        "seed": run.seed,
        "generation": generation,
        "feature_network": feature_record,
        "resizer": resizer,
        "judge": _judge_record(run),
        "backend": keras.backend.backend(),
        "keras_latent_version": __version__,
        "metrics": descriptions,
    }
    if run.edit_plan is not None:
        record["edits"] = _edit_record(run)
    return record

"""The evaluated generator and the judge classifier that scores it.

A judge is a zoo `ImageClassifier`: its penultimate Dense layer gives the
features of FID/KID (with `feature_network="judge"`) and its output the
probabilities of IS, diversity and attribute accuracy. `_judge_model` gets
both from one forward pass.
"""

from __future__ import annotations

import os
from typing import Any

import keras
import numpy as np

from keras_latent.metrics.features import _feature_model
from keras_latent.utils.batching import to_numpy

# The zoo's independent judge of each dataset: a domain classifier trained
# apart from the generators (docs/models.md, "Metrics and their protocol").
DEFAULT_JUDGES = {
    "mnist": "mnist_classifier",
    "celeba": "celeba_attribute_classifier",
    "cifar10": "cifar10_classifier",
}


def _resolve_model(model_or_preset) -> tuple[Any, str | None]:
    """The generator to evaluate and its preset name (`None` for a model)."""
    if isinstance(model_or_preset, (str, os.PathLike)):
        from keras_latent.presets import from_preset

        model = from_preset(model_or_preset)
        preset = str(model_or_preset)
    else:
        model, preset = model_or_preset, None
    if not callable(getattr(model, "generate", None)):
        where = f"Preset '{preset}' holds" if preset else "`model_or_preset` is"
        raise ValueError(
            f"{where} a {type(model).__name__}, which has no "
            "`generate(num_samples, seed)`; only generators can be evaluated."
        )
    return model, preset


def _resolve_judge(judge, dataset: str | None) -> tuple[Any, str | None]:
    """The judge classifier and its preset name; `None` picks the dataset's."""
    if judge is None:
        if dataset not in DEFAULT_JUDGES:
            raise ValueError(
                "No default judge for this data: defaults exist for "
                f"{', '.join(DEFAULT_JUDGES)} ({DEFAULT_JUDGES}). Pass `judge=` an "
                "ImageClassifier or a preset name."
            )
        name = DEFAULT_JUDGES[dataset]
        from keras_latent.presets import resolve_preset

        try:
            resolve_preset(name)
        except ValueError as e:
            raise ValueError(
                f"The default judge for {dataset} is the preset '{name}', which is "
                f"missing ({e}). Train it with its recipe (recipes/train_{name}.py) "
                "or pass `judge=` an ImageClassifier or another preset."
            ) from e
        judge = name
    if isinstance(judge, (str, os.PathLike)):
        from keras_latent.presets import from_preset

        preset = str(judge)
        judge = from_preset(preset)
    else:
        preset = None
    if not callable(getattr(judge, "predict_proba", None)) or not hasattr(
        judge, "network"
    ):
        raise ValueError(
            "`judge` must be a keras_latent ImageClassifier (or its preset name). "
            f"Received a {type(judge).__name__}."
        )
    return judge, preset


def _judge_model(judge):
    """One network with two outputs: penultimate features and probabilities.

    A single forward pass gives both FID/KID features and IS/diversity
    probabilities, instead of running the judge's conv stack twice.
    """
    features = _feature_model(judge, None)
    network = judge.network
    # A single input tensor, not a list: a list makes Keras warn about the
    # structure of every batch on torch.
    model = keras.Model(features.inputs[0], [features.outputs[0], network.outputs[0]])
    # Described by position: Keras's auto-generated layer names ('dense_6')
    # depend on what else the session built, so they mean nothing in a report.
    dim = int(features.outputs[0].shape[-1])
    return model, f"penultimate Dense ({dim} units, before the output layer)", dim


def _run_judge(model, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Features and probabilities of one batch, from a `_judge_model` network."""
    features, probabilities = model.predict_on_batch(images)
    return to_numpy(features, "float32"), to_numpy(probabilities, "float32")

"""Argument checks, and everything `evaluate` resolves before generating.

`_prepare` checks the arguments and resolves the model, the reference data,
the judge, the InceptionV3 weights and the attribute plan into one `_Run`,
so that a bad argument fails before any image is generated.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

from keras_latent.evaluation.attributes import _accepts_attributes, _attribute_plan
from keras_latent.evaluation.edits import _check_editor, _edit_plan
from keras_latent.evaluation.judges import _judge_model, _resolve_judge, _resolve_model
from keras_latent.evaluation.reference import _resolve_data, _to_unit_float
from keras_latent.metrics import features as feature_lib
from keras_latent.utils.batching import format_bytes, memory_budget, to_numpy

METRICS = ("fid", "kid", "is", "diversity", "attributes", "edits")
DEFAULT_METRICS = ("fid", "kid", "is", "diversity")
FEATURE_NETWORKS = ("judge", "inception")
# The metrics that read the judge's probabilities of generated images.
JUDGED_METRICS = {"is", "diversity", "attributes"}
# The metrics that edit reference images instead of generating any.
EDIT_METRICS = {"edits"}
# InceptionV3 at 299×299 needs far more memory per image than the judge.
INCEPTION_BATCH_SIZE = 64
INCEPTION_FEATURE_DIM = 2048


@dataclasses.dataclass
class _Run:
    """One evaluation's resolved inputs (see `evaluate` for the arguments)."""

    names: list[str]
    feature_network: str
    num_samples: int
    batch_size: int
    seed: int | None
    verbose: bool
    model: Any
    model_preset: str | None
    reference: dict
    # The reference images as float32 in [0, 1].
    real: np.ndarray
    image_shape: tuple
    judge: Any = None
    judge_preset: str | None = None
    inception_path: str | None = None
    # `_attribute_plan`'s dict when the generator is conditioned, else None.
    plan: dict | None = None
    # The judge's `_judge_model`: network, feature layer description, dim.
    two_headed: Any = None
    feature_layer: str | None = None
    feature_dim: int | None = None
    # `edits._edit_plan`'s dict when "edits" is asked for, else None.
    edit_plan: dict | None = None

    @property
    def generates(self) -> bool:
        """Whether a metric needs generated images ("edits" alone does not)."""
        return bool(set(self.names) - EDIT_METRICS)

    @property
    def wants_features(self) -> bool:
        return bool({"fid", "kid"} & set(self.names))

    @property
    def wants_probabilities(self) -> bool:
        return self.judge is not None and bool(JUDGED_METRICS & set(self.names))

    @property
    def uses_inception(self) -> bool:
        """Whether InceptionV3 computes the features (and paces generation)."""
        return self.feature_network == "inception" and self.wants_features

    @property
    def generation_batch(self) -> int:
        """How many images each `generate` call makes at most."""
        if self.uses_inception:
            return min(self.batch_size, INCEPTION_BATCH_SIZE)
        return self.batch_size


def _parse_metrics(metrics: str | Sequence[str]) -> list[str]:
    if isinstance(metrics, str):
        metrics = metrics.split(",")
    names = [str(m).strip().lower() for m in metrics if str(m).strip()]
    if not names:
        raise ValueError(f"`metrics` is empty. Valid metrics: {', '.join(METRICS)}.")
    unknown = [m for m in names if m not in METRICS]
    if unknown:
        raise ValueError(
            f"Unknown metric(s): {', '.join(repr(m) for m in unknown)}. "
            f"Valid metrics: {', '.join(METRICS)}."
        )
    return list(dict.fromkeys(names))


def _check_arguments(metrics, feature_network, num_samples, batch_size, edit_method):
    """The metric names, `num_samples` and `batch_size`, checked."""
    names = _parse_metrics(metrics)
    if edit_method is not None and "edits" not in names:
        raise ValueError(
            f"`edit_method={edit_method!r}` applies to the 'edits' metric only; "
            f"the metrics are {names}."
        )
    if feature_network not in FEATURE_NETWORKS:
        raise ValueError(
            f"`feature_network` must be one of {list(FEATURE_NETWORKS)}. "
            f"Received: {feature_network!r}"
        )
    for argument, value in (("num_samples", num_samples), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise ValueError(
                f"`{argument}` must be a positive int. Received: {value!r}"
            )
        if value < 1:
            raise ValueError(f"`{argument}` must be a positive int. Received: {value}")
    num_samples, batch_size = int(num_samples), int(batch_size)
    if num_samples < 2 and ({"fid", "kid"} & set(names)):
        raise ValueError("FID and KID need at least two generated images.")
    return names, num_samples, batch_size


def _reference_for(model, data, seed) -> tuple[dict, np.ndarray, tuple]:
    """The reference dict, its images in [0, 1] and their shape."""
    image_shape = getattr(model, "image_shape", None)
    if image_shape is None and data is None:
        # Only to infer the default reference split; costs one sample.
        image_shape = tuple(
            to_numpy(model.generate(num_samples=1, seed=seed)).shape[1:]
        )
    reference = _resolve_data(data, tuple(image_shape) if image_shape else None)
    real = _to_unit_float(
        reference["images"], "data", f"The reference data ({reference['name']})"
    )
    image_shape = tuple(real.shape[1:])
    if (
        getattr(model, "image_shape", None) is not None
        and tuple(model.image_shape) != image_shape
    ):
        raise ValueError(
            f"The model generates {tuple(model.image_shape)} images but the "
            f"reference data ({reference['name']}) has {image_shape} images."
        )
    return reference, real, image_shape


def _checked_judge(judge, names, dataset, image_shape) -> tuple[Any, str | None]:
    """The judge, checked against the images and the metrics it serves."""
    judge_model, judge_preset = _resolve_judge(judge, dataset)
    if tuple(judge_model.image_shape) != image_shape:
        raise ValueError(
            f"The judge takes {tuple(judge_model.image_shape)} images but the "
            f"evaluated images are {image_shape}."
        )
    single = [m for m in names if m in ("is", "diversity")]
    if judge_model.multi_label and single:
        raise ValueError(
            f"{single} need a single-label (softmax) judge; "
            f"{judge_preset or 'the judge'} is multi-label (attributes). Use "
            "metrics such as ('fid', 'kid', 'attributes') with it, or pass a "
            "single-label `judge=`."
        )
    if "attributes" in names and not judge_model.multi_label:
        raise ValueError(
            "The 'attributes' metric needs a multi-label (sigmoid) judge; "
            f"{judge_preset or 'the judge'} is single-label."
        )
    return judge_model, judge_preset


def _prepare(
    model_or_preset,
    metrics,
    data,
    num_samples,
    judge,
    feature_network,
    batch_size,
    seed,
    verbose,
    edit_method=None,
) -> _Run:
    """Checks `evaluate`'s arguments and resolves them into a `_Run`."""
    names, num_samples, batch_size = _check_arguments(
        metrics, feature_network, num_samples, batch_size, edit_method
    )
    model, model_preset = _resolve_model(model_or_preset)
    if "edits" in names:
        _check_editor(model)
    takes_attributes, needs_attributes = _accepts_attributes(model)
    if "attributes" in names and not takes_attributes:
        raise ValueError(
            f"The 'attributes' metric needs a conditional model, but this "
            f"{type(model).__name__} is unconditional: its `generate` takes no "
            "`attributes=`."
        )
    reference, real, image_shape = _reference_for(model, data, seed)
    run = _Run(
        names=names,
        feature_network=feature_network,
        num_samples=num_samples,
        batch_size=batch_size,
        seed=seed,
        verbose=verbose,
        model=model,
        model_preset=model_preset,
        reference=reference,
        real=real,
        image_shape=image_shape,
    )
    if feature_network == "judge" or bool((JUDGED_METRICS | EDIT_METRICS) & set(names)):
        run.judge, run.judge_preset = _checked_judge(
            judge, names, reference["dataset"], image_shape
        )
    if feature_network == "inception":
        # Fails before any generation when the weights are not on disk.
        run.inception_path = feature_lib._find_inception_weights(None)
    if "edits" in names:
        run.edit_plan = _edit_plan(
            model, run.judge, reference, real, num_samples, seed, edit_method
        )
    if (needs_attributes and run.generates) or "attributes" in names:
        # The judge's columns matter only when it scores the attributes.
        scorer = run.judge if "attributes" in names else None
        run.plan = _attribute_plan(model, scorer, reference, num_samples, seed)
    if run.judge is not None:
        run.two_headed, run.feature_layer, run.feature_dim = _judge_model(run.judge)
    _check_memory(run)
    return run


def _kept_bytes(run: _Run, count: int, generated: bool) -> int:
    """Bytes that `evaluate` keeps for `count` images until it scores them."""
    per_image = 0
    if run.wants_features:
        dim = INCEPTION_FEATURE_DIM if run.uses_inception else run.feature_dim or 0
        per_image += 4 * dim
    if run.wants_probabilities:
        per_image += 4 * len(run.judge.class_names)
    if generated and "diversity" in run.names:
        # Diversity draws its pairs after all images are judged.
        per_image += 4 * int(np.prod(run.image_shape))
    return count * per_image


def _check_memory(run: _Run) -> None:
    """Refuses, before generating, a run whose kept arrays exceed the budget.

    Generation streams, but the features, the probabilities and (for
    diversity) the generated images of every sample are kept until the end.
    """
    # The real images are in memory already; their features are not yet.
    need = _kept_bytes(run, run.num_samples, True) + _kept_bytes(
        run, len(run.real), False
    )
    budget = memory_budget()
    if need <= budget:
        return
    hint = (
        " Leave out 'diversity', which keeps every generated image."
        if "diversity" in run.names
        else ""
    )
    raise ValueError(
        f"`num_samples`={run.num_samples} would keep {format_bytes(need)} of "
        "features, probabilities and images in memory, more than half of the "
        f"available memory ({format_bytes(2 * budget)}). Lower `num_samples` "
        f"(-n on the command line).{hint}"
    )

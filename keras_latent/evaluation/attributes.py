"""The attribute protocol: conditioning a generator on real attribute vectors.

A conditional generator's `generate` takes `attributes=`, a batch of 0/1
vectors. `evaluate` draws those vectors from the reference labels, so the
generated set has the attribute distribution of the real split, and matches
them by name to the judge's outputs for the `"attributes"` metric.
"""

from __future__ import annotations

import inspect

import numpy as np


def _accepts_attributes(model) -> tuple[bool, bool]:
    """Whether `model.generate` takes `attributes=`, and whether it must."""
    try:
        parameters = inspect.signature(model.generate).parameters
    except (TypeError, ValueError):
        return False, False
    parameter = parameters.get("attributes")
    if parameter is None:
        return False, False
    return True, parameter.default is inspect.Parameter.empty


def _attribute_names(model, judge, labels, label_names) -> tuple[np.ndarray, list]:
    """The reference labels in the model's attribute order, and their names."""
    model_names = getattr(model, "attribute_names", None)
    if model_names is not None:
        names = [str(n) for n in model_names]
        if label_names is not None:
            missing = [n for n in names if n not in label_names]
            if missing:
                raise ValueError(
                    f"The model is conditioned on {missing}, which the reference "
                    f"data lacks (it has {label_names})."
                )
            labels = labels[:, [list(label_names).index(n) for n in names]]
        elif labels.shape[1] != len(names):
            raise ValueError(
                f"The model is conditioned on {len(names)} attributes but the "
                f"reference labels have {labels.shape[1]} columns."
            )
    elif label_names is not None:
        names = [str(n) for n in label_names]
    elif judge is None:
        names = [str(i) for i in range(labels.shape[1])]
    elif labels.shape[1] == len(judge.class_names):
        names = list(judge.class_names)
    else:
        raise ValueError(
            f"The reference labels have {labels.shape[1]} columns and the judge "
            f"{len(judge.class_names)} outputs; pass "
            "`data=(images, attributes, attribute_names)` to match them by name."
        )
    return labels, names


def _judge_columns(judge, names: list) -> list | None:
    """The judge's output column of each conditioned attribute."""
    if judge is None:
        # Conditioning only (e.g. FID of a conditional model): nothing to judge.
        return None
    if all(n in judge.class_names for n in names):
        return [judge.class_names.index(n) for n in names]
    if len(names) == len(judge.class_names):
        return list(range(len(names)))
    raise ValueError(
        f"The judge predicts {judge.class_names}, which does not cover the "
        f"conditioned attributes {names}."
    )


def _attribute_plan(model, judge, reference: dict, num_samples: int, seed) -> dict:
    """The attribute vectors to condition on, and the judge's matching columns."""
    labels = reference["labels"]
    if labels is None or labels.ndim != 2:
        raise ValueError(
            "Conditioning on attributes needs 0/1 attribute vectors of the "
            "reference data, shape (num_images, num_attributes): pass "
            "`data=(images, attributes)` or a split such as 'celeba:val'."
        )
    labels, names = _attribute_names(model, judge, labels, reference["label_names"])
    columns = _judge_columns(judge, names)
    # Draw the conditioning vectors from the real data, so the generated set
    # has the attribute distribution of the reference split.
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, labels.shape[0], num_samples)
    return {
        "labels": labels[rows].astype("float32"),
        "names": names,
        "judge_columns": columns,
    }

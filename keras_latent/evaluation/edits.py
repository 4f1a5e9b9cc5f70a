"""The edit protocol: how well an attribute editor changes what it is asked to.

`evaluate(..., metrics=["edits"])` takes the first `min(num_samples, N)`
real reference images with their labels, edits them with the model's
`transform` and lets the independent judge read the results:

- multi-label models (CelebA attributes), for each attribute a:
  - flip rate: every image is edited to the opposite of its own label for a
    (`transform(images, {a: 1 - y_a})`, the two target values as two
    batches); the share that the judge reads as the target value
    (probability above 0.5 for 1, at most 0.5 for 0);
  - identity: the mean pixel MSE between each edit and the model's own
    `reconstruct` of the image (how much else the edit changed);
  - Class0 / Class1 / MSE of Creswell et al. (2017, Table 1): the images
    that have a are edited to 0 and to 1; Class0 is the share judged
    without a after the edit to 0, Class1 the share judged with a after the
    edit to 1 (`metrics.edit_success`), MSE the reconstruction error
    (image vs `reconstruct(image)`) on those images.
- categorical models (classes, e.g. digits): each image is edited to
  another class, drawn uniformly among the other classes with NumPy's
  generator seeded by `seed`; the flip rate is the share judged as the
  target class (the judge's argmax, or its target probability above 0.5
  for a multi-label judge); identity as above; Class0 / Class1 do not apply.
- both: the wall seconds of `transform` per edited image.

Nothing is generated for this metric: no `generate` call, no seed per
batch. Latent Constraints' `transform(..., method=)` gets `edit_method`
when given (else its default), and the report records it.
"""

from __future__ import annotations

import inspect
import time
from typing import TYPE_CHECKING, Any

import numpy as np

from keras_latent import metrics as metrics_lib
from keras_latent.evaluation.attributes import _attribute_names
from keras_latent.evaluation.reference import _to_unit_float
from keras_latent.utils.batching import advance, progress_bar

if TYPE_CHECKING:
    from keras_latent.evaluation.run import _Run

# The judge's decision threshold: an attribute is present above it.
EDIT_THRESHOLD = 0.5


def _check_editor(model) -> None:
    """Raises unless `model` has `transform` and `reconstruct`."""
    missing = [
        method
        for method in ("transform", "reconstruct")
        if not callable(getattr(model, method, None))
    ]
    if missing:
        raise ValueError(
            f"The 'edits' metric needs an attribute editor with `transform` and "
            f"`reconstruct`; this {type(model).__name__} has no "
            f"{' or '.join(f'`{m}`' for m in missing)}."
        )
    if getattr(model, "attribute_names", None) is None:
        raise ValueError(
            f"The 'edits' metric needs the model's `attribute_names`; this "
            f"{type(model).__name__} has none."
        )


def _transform_options(model, edit_method: str | None) -> tuple[dict, str | None]:
    """The `method=` to pass to `transform` (if it takes one), and its value."""
    try:
        parameters = inspect.signature(model.transform).parameters
    except (TypeError, ValueError):
        parameters = {}
    if "method" not in parameters:
        if edit_method is not None:
            raise ValueError(
                f"`edit_method={edit_method!r}` needs a model whose `transform` "
                f"takes `method` (such as LatentConstraints); this "
                f"{type(model).__name__}'s does not."
            )
        return {}, None
    if edit_method is None:
        default = parameters["method"].default
        if default is inspect.Parameter.empty:
            return {}, None
        return {}, str(default)
    return {"method": edit_method}, str(edit_method)


def _reference_classes(labels: np.ndarray, label_names, model, count: int):
    """The class of each of the first `count` reference images, in model order."""
    names = [str(n) for n in model.attribute_names]
    if labels.ndim == 2:
        labels, _ = _attribute_names(model, None, labels, label_names)
        labels = labels[:count]
        if not np.all(np.isin(labels, (0, 1))) or np.any(labels.sum(axis=1) != 1):
            raise ValueError(
                "The 'edits' metric of a categorical model needs class indices or "
                "one-hot rows as reference labels."
            )
        return labels.argmax(axis=1)
    labels = labels[:count].astype("int64")
    known = len(names) if label_names is None else len(label_names)
    if labels.size and (labels.min() < 0 or labels.max() >= known):
        raise ValueError(
            f"The reference labels hold classes {int(labels.min())} to "
            f"{int(labels.max())}; the model has {len(names)} classes {names}."
        )
    if label_names is not None:
        label_names = [str(n) for n in label_names]
        unknown = sorted({label_names[c] for c in labels} - set(names))
        if unknown:
            raise ValueError(
                f"The reference classes {unknown} are not among the model's "
                f"classes {names}."
            )
        return np.array([names.index(label_names[c]) for c in labels])
    return labels


def _judge_columns(judge, names: list, label_type: str) -> list:
    """The judge's column of each attribute (or class), matched by name."""
    missing = [n for n in names if n not in judge.class_names]
    if missing:
        raise ValueError(
            f"The 'edits' metric matches the model's attributes to the judge's "
            f"classes by name; the judge lacks {missing} (it predicts "
            f"{list(judge.class_names)})."
        )
    if label_type != "categorical" and not judge.multi_label:
        raise ValueError(
            "The 'edits' metric of a multi-label model needs a multi-label "
            "(sigmoid) judge; this judge is single-label."
        )
    return [judge.class_names.index(n) for n in names]


def _edit_plan(
    model, judge, reference: dict, real: np.ndarray, num_samples: int, seed, method
) -> dict:
    """What the edit protocol edits: images, labels or target classes, columns.

    Args:
        model: the attribute editor (checked with `_check_editor`).
        judge: the judge `ImageClassifier`.
        reference: `_resolve_data`'s dict.
        real: the reference images in [0, 1].
        num_samples: int. At most this many reference images are edited.
        seed: int or None. Seed of the categorical target classes.
        method: str or None. `evaluate`'s `edit_method`.
    """
    _check_editor(model)
    names = [str(n) for n in model.attribute_names]
    label_type = str(getattr(model, "label_type", "multi_label"))
    labels = reference["labels"]
    if labels is None:
        raise ValueError(
            "The 'edits' metric needs the labels of the reference images: pass "
            "`data=(images, labels)` or a labelled split such as 'celeba:val'."
        )
    count = min(num_samples, len(real))
    options, method_name = _transform_options(model, method)
    plan = {
        "names": names,
        "label_type": label_type,
        "count": count,
        "columns": _judge_columns(judge, names, label_type),
        "options": options,
        "method": method_name,
    }
    if label_type == "categorical":
        if len(names) < 2:
            raise ValueError(
                "Editing the class needs a model with at least two classes."
            )
        classes = _reference_classes(labels, reference["label_names"], model, count)
        # Uniform among the other classes: an offset of 1 … K-1.
        offsets = np.random.default_rng(seed).integers(1, len(names), count)
        plan.update(classes=classes, targets=(classes + offsets) % len(names))
        return plan
    if labels.ndim != 2:
        raise ValueError(
            "The 'edits' metric of a multi-label model needs 0/1 attribute "
            "vectors of the reference images, shape (num_images, "
            "num_attributes): pass `data=(images, attributes, names)` or a "
            "split such as 'celeba:val'."
        )
    labels, _ = _attribute_names(model, None, labels, reference["label_names"])
    labels = np.asarray(labels[:count], "float32")
    if not np.all((labels == 0) | (labels == 1)):
        raise ValueError("The reference attribute labels must be 0/1.")
    plan["labels"] = labels
    return plan


class _Editor:
    """Calls the model's `transform` and `reconstruct`, and times `transform`."""

    def __init__(self, run: _Run):
        self.run = run
        self.options = run.edit_plan["options"]
        self.seconds = 0.0
        self.edited = 0

    def _checked(self, images, expected: int, what: str) -> np.ndarray:
        images = _to_unit_float(images, "edited images", what)
        if tuple(images.shape) != (expected, *self.run.image_shape):
            raise ValueError(
                f"{what} returned shape {tuple(images.shape)}; expected "
                f"{(expected, *self.run.image_shape)}."
            )
        return images

    def transform(self, images: np.ndarray, attributes: dict) -> np.ndarray:
        if not len(images):
            return np.zeros((0, *self.run.image_shape), "float32")
        started = time.perf_counter()
        edited = self.run.model.transform(images, attributes, **self.options)
        edited = self._checked(edited, len(images), f"`transform(…, {attributes})`")
        self.seconds += time.perf_counter() - started
        self.edited += len(images)
        return edited

    def reconstruct(self, images: np.ndarray) -> np.ndarray:
        return self._checked(
            self.run.model.reconstruct(images), len(images), "`reconstruct`"
        )

    def judge(self, images: np.ndarray) -> np.ndarray:
        probabilities = self.run.judge.predict_proba(
            images, batch_size=self.run.batch_size
        )
        return np.asarray(probabilities, "float32")


def _mse(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The mean squared pixel difference of each pair of images."""
    return np.mean((a - b) ** 2, axis=tuple(range(1, a.ndim)), dtype="float64")


def _batches(run: _Run):
    """`(start, stop)` of each batch of the edited reference images."""
    count = run.edit_plan["count"]
    bar = progress_bar(count, run.verbose)
    for start in range(0, count, run.batch_size):
        stop = min(start + run.batch_size, count)
        yield start, stop
        advance(bar, stop - start)


def _edit_multi_label(run: _Run, editor: _Editor) -> dict:
    """Per image and attribute: the judge's readings of the edits, and MSEs."""
    plan = run.edit_plan
    labels = plan["labels"]
    count, num_attributes = labels.shape
    flipped = np.zeros((count, num_attributes), "float32")
    # The edit to 1 of the images that have the attribute (Class1); NaN elsewhere.
    kept = np.full((count, num_attributes), np.nan, "float32")
    identity = np.zeros((count, num_attributes), "float64")
    reconstruction = np.zeros(count, "float64")
    for start, stop in _batches(run):
        images = run.real[start:stop]
        reconstructed = editor.reconstruct(images)
        reconstruction[start:stop] = _mse(images, reconstructed)
        for j, name in enumerate(plan["names"]):
            have = np.flatnonzero(labels[start:stop, j] == 1)
            # Two batches: the images with a, to 0; every image, to 1 (the
            # flip of those without a, and Class1 of those with it).
            to_zero = editor.transform(images[have], {name: 0})
            to_one = editor.transform(images, {name: 1})
            read = editor.judge(np.concatenate([to_zero, to_one]))[
                :, plan["columns"][j]
            ]
            read_zero, read_one = read[: len(have)], read[len(have) :]
            flipped[start:stop, j] = read_one
            flipped[start + have, j] = read_zero
            kept[start + have, j] = read_one[have]
            edits = to_one.copy()
            edits[have] = to_zero
            identity[start:stop, j] = _mse(edits, reconstructed)
    return {
        "flipped": flipped,
        "kept": kept,
        "identity": identity,
        "reconstruction": reconstruction,
    }


def _multi_label_results(run: _Run, editor: _Editor) -> dict:
    """The edit results of a multi-label model (see the module docstring)."""
    plan = run.edit_plan
    labels, names = plan["labels"], plan["names"]
    read = _edit_multi_label(run, editor)
    flips = metrics_lib.attribute_scores(
        read["flipped"], 1 - labels, EDIT_THRESHOLD, attribute_names=names
    )["per_attribute"]
    per_attribute = {}
    for j, name in enumerate(names):
        have = labels[:, j] == 1
        scores = {
            "flip_rate": flips[name]["accuracy"],
            "identity_mse": float(read["identity"][:, j].mean()),
            "class0": None,
            "class1": None,
            "mse": None,
            "support": int(have.sum()),
        }
        if have.any():
            scores.update(
                metrics_lib.edit_success(
                    read["flipped"][have, j], read["kept"][have, j], EDIT_THRESHOLD
                )
            )
            scores["mse"] = float(read["reconstruction"][have].mean())
        per_attribute[name] = scores
    return {
        "flip_rate": float(np.mean([s["flip_rate"] for s in per_attribute.values()])),
        "identity_mse": float(read["identity"].mean()),
        "per_attribute": per_attribute,
    }


def _categorical_results(run: _Run, editor: _Editor) -> dict:
    """The edit results of a categorical model: each image to another class."""
    plan = run.edit_plan
    names, targets = plan["names"], plan["targets"]
    columns = np.asarray(plan["columns"])
    judged = np.zeros(plan["count"], bool)
    identity = np.zeros(plan["count"], "float64")
    for start, stop in _batches(run):
        images = run.real[start:stop]
        reconstructed = editor.reconstruct(images)
        batch_targets = targets[start:stop]
        edits = np.empty_like(images)
        for target in np.unique(batch_targets):
            rows = np.flatnonzero(batch_targets == target)
            edits[rows] = editor.transform(images[rows], {names[target]: 1})
        probabilities = editor.judge(edits)
        wanted = columns[batch_targets]
        if run.judge.multi_label:
            hit = probabilities[np.arange(len(wanted)), wanted] > EDIT_THRESHOLD
        else:
            hit = probabilities.argmax(axis=1) == wanted
        judged[start:stop] = hit
        identity[start:stop] = _mse(edits, reconstructed)
    per_class = {}
    for c, name in enumerate(names):
        rows = targets == c
        per_class[name] = {
            "flip_rate": float(judged[rows].mean()) if rows.any() else None,
            "identity_mse": float(identity[rows].mean()) if rows.any() else None,
            "support": int(rows.sum()),
        }
    return {
        "flip_rate": float(judged.mean()),
        "identity_mse": float(identity.mean()),
        "per_class": per_class,
    }


def _score_edits(run: _Run, results: dict, descriptions: dict) -> None:
    """Edits the reference images and adds the edit protocol's numbers."""
    plan = run.edit_plan
    if run.verbose:
        kind = "classes" if _categorical(plan) else "attributes"
        print(
            f"Editing {plan['count']} images of {run.reference['name']} "
            f"({len(plan['names'])} {kind})"
        )
    editor = _Editor(run)
    if _categorical(plan):
        scores = _categorical_results(run, editor)
    else:
        scores = _multi_label_results(run, editor)
    results["edits"] = {
        "label_type": plan["label_type"],
        "num_images": plan["count"],
        "num_edits": editor.edited,
        "seconds_per_edit": editor.seconds / max(editor.edited, 1),
        **scores,
    }
    descriptions["edits"] = _description(run)


def _categorical(plan: dict) -> bool:
    return plan["label_type"] == "categorical"


def _description(run: _Run) -> str:
    """The one-line description of the edit protocol, for `protocol["metrics"]`."""
    plan = run.edit_plan
    judge = run.judge_preset or type(run.judge).__name__
    method = f"(method={plan['method']!r})" if plan["method"] else ""
    if _categorical(plan):
        what = (
            "flip rate: share of the edits to another class (uniform among the "
            f"others, seed {run.seed}) that the judge ({judge}) reads as the "
            "target class"
        )
    else:
        what = (
            "flip rate: share of the edits to the opposite of each image's label "
            f"that the judge ({judge}) reads as the target (threshold "
            f"{EDIT_THRESHOLD}); Class0 / Class1 / MSE (Creswell et al. 2017, "
            "Table 1) on the images with the attribute"
        )
    return (
        f"{what}; identity: mean pixel MSE of each edit vs `reconstruct`; "
        f"`transform{method}` on the first {plan['count']} images of "
        f"{run.reference['name']}; seconds: wall time of `transform` per edit"
    )


def _edit_record(run: _Run) -> dict[str, Any]:
    """The edit protocol's entry of the report's `"protocol"`."""
    plan = run.edit_plan
    return {
        "reference": run.reference["name"],
        "num_images": plan["count"],
        "images": f"the first {plan['count']} of {len(run.real)}",
        "label_type": plan["label_type"],
        "attributes": list(plan["names"]),
        "judge": run.judge_preset or type(run.judge).__name__,
        "judge_columns": "matched by name",
        "threshold": EDIT_THRESHOLD,
        "seed": run.seed,
        "method": plan["method"],
        "targets": (
            "another class, uniform among the others (NumPy, seeded)"
            if _categorical(plan)
            else "1 - y_a for each attribute a, and 0 and 1 for the images with a"
        ),
        "class0_class1": (
            "not applicable: categorical labels"
            if _categorical(plan)
            else "Creswell et al. 2017, Table 1 (metrics.edit_success)"
        ),
        "identity": "mean pixel MSE between each edit and `reconstruct(image)`",
        "timing": "wall seconds of `transform` per edited image",
    }

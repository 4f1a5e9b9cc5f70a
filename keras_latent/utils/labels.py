"""Attribute names and label vectors: what users ask for, checked and filled.

Users name attributes in a dict (`{"Smiling": 1}`) or pass 0/1 label vectors
in the order of the model's `attribute_names` (one-hot rows when the labels
are categorical, e.g. MNIST digits). Attributes left out are drawn from the
training set's label marginals, or read from an image by the attribute
critics (docs/models.md, "Latent Constraints").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import keras
import numpy as np

from keras_latent.utils.inputs import validate_num_samples, validate_seed

LABEL_TYPES = ("multi_label", "categorical")


def attribute_name_list(attribute_names: Sequence[str] | str) -> list[str]:
    """`attribute_names` as a list of str; raises unless non-empty and distinct.

    A single string is one name (`"Bangs"` → `["Bangs"]`), not a sequence of
    one-letter names.
    """
    if isinstance(attribute_names, str):
        attribute_names = [attribute_names]
    names = [str(n) for n in attribute_names]
    if not names or len(set(names)) != len(names):
        raise ValueError(
            "`attribute_names` must be a non-empty list of distinct names. "
            f"Received: {attribute_names!r}"
        )
    return names


def check_binary_labels(y: np.ndarray, argument: str) -> None:
    """Raises a ValueError unless every value of the float array `y` is 0 or 1."""
    bad = y[(y != 0.0) & (y != 1.0)]
    if not bad.size:
        return
    values = np.unique(bad)
    shown = ", ".join(f"{v:g}" for v in values[:5]) + (
        ", ..." if len(values) > 5 else ""
    )
    hint = ""
    if np.all(values == -1.0) and not np.any(y == 0.0):
        hint = (
            " These look like -1/1 labels (the encoding of CelebA's official "
            f"attribute file): convert them with `({argument} + 1) // 2`."
        )
    raise ValueError(
        f"`{argument}` must hold 0/1 labels (1 = the attribute is present). "
        f"Received other values: {shown}.{hint}"
    )


def check_label_matrix(
    y, names: Sequence[str], argument: str, label_type: str
) -> np.ndarray:
    """`y` as float32 NumPy, checked to be 0/1 labels `(N, len(names))`.

    Args:
        y: array-like of labels.
        names: the attribute names of the columns.
        argument: str. The argument's name, for errors.
        label_type: `"multi_label"` or `"categorical"` (rows must be one-hot).
    """
    y = np.asarray(keras.ops.convert_to_numpy(y), dtype="float32")
    if y.ndim != 2 or y.shape[1] != len(names):
        raise ValueError(
            f"`{argument}` must have shape (N, {len(names)}), one column per "
            f"attribute in {list(names)}. Received shape {y.shape}."
        )
    check_binary_labels(y, argument)
    if label_type == "categorical":
        rows = np.flatnonzero(y.sum(axis=1) != 1.0)
        if len(rows):
            raise ValueError(
                f"`{argument}` must be one-hot rows for categorical labels "
                f"(exactly one 1 per row). Row {rows[0]} is {y[rows[0]]}."
            )
    return y


def _label_values(attributes):
    """`attributes` as a NumPy array, or `None` if it cannot be one."""
    try:
        if isinstance(attributes, (set, frozenset)):
            # No order, so never label vectors; maybe names for the hint.
            return np.asarray(list(attributes), dtype=object)
        if isinstance(attributes, (str, bytes, list, tuple)):
            return np.asarray(attributes)
        return np.asarray(keras.ops.convert_to_numpy(attributes))
    except (TypeError, ValueError, RuntimeError):
        return None


class LabelsMixin:
    """Label handling of `LatentConstraints`.

    Reads the model's `attribute_names`, `label_type`, `label_prior` (the
    training marginals) and `known_attributes` (what the attribute critics
    judge).
    """

    def _label_matrix(self, y, argument: str = "y") -> np.ndarray:
        """Training labels checked, float32 `(N, K)`; class ids made one-hot."""
        y = np.asarray(keras.ops.convert_to_numpy(y))
        if self.label_type == "categorical" and y.ndim == 1:
            k = len(self.attribute_names)
            if y.dtype.kind not in "iu" or not y.size or y.min() < 0 or y.max() >= k:
                seen = f" with values in [{y.min()}, {y.max()}]" if y.size else ""
                raise ValueError(
                    f"`{argument}` as class ids must be ints in [0, {k - 1}] "
                    f"for the classes {self.attribute_names}, at least one. "
                    f"Received dtype {y.dtype}, shape {y.shape}{seen}."
                )
            y = np.eye(k, dtype="float32")[y]
        return check_label_matrix(y, self.attribute_names, argument, self.label_type)

    def set_label_prior(self, y) -> None:
        """Sets the label marginals `generate` draws from, from labels `y`.

        `fit` calls it with NumPy labels; call it yourself when training on
        a dataset of `(images, labels)`.

        Args:
            y: 0/1 label vectors `(N, K)`, or int class ids `(N,)` for
                categorical labels.
        """
        y = self._label_matrix(y)
        # Clipped: a class absent from the data stays (barely) possible.
        self.label_prior.assign(np.clip(y.mean(axis=0), 1e-3, 1.0 - 1e-3))

    def label_vectors(self, attributes, num_samples: int, seed=None) -> np.ndarray:
        """Full label vectors `(num_samples, K)` for the actor.

        Args:
            attributes: a dict of name → 0/1 (names left out are drawn from
                the training marginals), a 0/1 array `(K,)` or
                `(num_samples, K)` (one-hot rows for categorical labels), or
                `None` (everything drawn).
            num_samples: int. Number of label vectors.
            seed: int in [0, 2**31 - 1] or None. Seed of the draws (NumPy's,
                so the same on every backend). Defaults to `None`.

        Returns:
            A float32 NumPy array `(num_samples, K)`.
        """
        num_samples = validate_num_samples(num_samples)
        seed = validate_seed(seed)
        if isinstance(attributes, (int, np.integer)) and not isinstance(
            attributes, (bool, np.bool_)
        ):
            raise ValueError(
                "The first argument of `generate` is `attributes` (a dict such "
                f"as {{'{self.attribute_names[0]}': 1}}); received the int "
                f"{attributes}. To ask for a number of images, pass "
                f"`num_samples={attributes}`."
            )
        if attributes is not None and not isinstance(attributes, Mapping):
            return self._label_array(attributes, num_samples)
        targets = self._target_dict(attributes)
        rng = np.random.default_rng(seed)
        labels = self._draw_labels(num_samples, rng, self._excluded_classes(targets))
        return self._apply_targets(labels, targets)

    def _check_attribute_names(self, names):
        valid = set(self.attribute_names) | set(self.known_attributes)
        unknown = [n for n in names if n not in valid]
        if not unknown:
            return
        hint = ""
        if any(str(n) in valid for n in unknown):
            hint = " Names are strings: write {'7': 1}, not {7: 1}."
        elif hasattr(self, "fit_attribute_critic"):  # a model that can learn more
            hint = " Teach new ones with `fit_attribute_critic`."
        raise ValueError(
            f"Unknown attribute(s) {unknown} in `attributes`. Valid names: "
            f"{sorted(valid)}.{hint}"
        )

    def _target_dict(self, attributes) -> dict:
        """`attributes` checked: a dict of known name → 0.0/1.0."""
        if attributes is None:
            return {}
        if not isinstance(attributes, Mapping):
            raise ValueError(
                "`attributes` must be a dict of name → 0/1 (for example "
                f"{{'{self.attribute_names[0]}': 1}}). Received: {attributes!r}"
            )
        self._check_attribute_names(list(attributes))
        targets = {}
        for name, value in attributes.items():
            if value not in (0, 1, True, False):
                raise ValueError(
                    f"Attribute {name!r} must be set to 0 or 1. Received: {value!r}"
                )
            targets[str(name)] = float(value)
        if self.label_type == "categorical":
            on = [n for n, v in targets.items() if v == 1 and n in self.attribute_names]
            if len(on) > 1:
                raise ValueError(
                    f"This model's labels are categorical: set at most one of "
                    f"{self.attribute_names} to 1. Received: {on}"
                )
        return targets

    def _excluded_classes(self, targets) -> list[int]:
        """Categorical columns set to 0: labels must fall on another class."""
        if self.label_type != "categorical":
            return []
        excluded = [
            self.attribute_names.index(n)
            for n, v in targets.items()
            if v == 0 and n in self.attribute_names
        ]
        if len(excluded) == len(self.attribute_names):
            raise ValueError(
                "This model's labels are categorical: at least one of "
                f"{self.attribute_names} must stay possible. Received every "
                "class set to 0."
            )
        return excluded

    def _draw_labels(self, num_samples: int, rng: np.random.Generator, excluded=()):
        prior = keras.ops.convert_to_numpy(self.label_prior)
        if self.label_type == "categorical":
            # "Not a 7": draw among the other classes, by their marginals.
            prior = prior.astype("float64")
            prior[list(excluded)] = 0.0
            classes = rng.choice(len(prior), size=num_samples, p=prior / prior.sum())
            return np.eye(len(prior), dtype="float32")[classes]
        return (rng.random((num_samples, len(prior))) < prior).astype("float32")

    def _draw_label_tensors(self, batch_size, seed):
        """Label vectors `(batch_size, K)` drawn in-graph from `label_prior`.

        One-hot classes for categorical labels, independent 0/1 attributes
        otherwise; `seed` is a `keras.random.SeedGenerator`. The training
        steps' counterpart of `_draw_labels`.
        """
        # Kept off 0 and 1 so that the Gumbel noise stays finite.
        uniform = keras.random.uniform(
            (batch_size, self.label_dim), minval=1e-6, maxval=1.0 - 1e-6, seed=seed
        )
        prior = keras.ops.cast(self.label_prior, "float32")
        if self.label_type == "categorical":
            # Gumbel-max: argmax(log p − log(−log u)) is a class drawn from p.
            scores = keras.ops.log(prior) - keras.ops.log(-keras.ops.log(uniform))
            return keras.ops.one_hot(keras.ops.argmax(scores, axis=-1), self.label_dim)
        return keras.ops.cast(uniform < prior, "float32")

    def _apply_targets(self, labels, targets):
        """A copy of `labels` with the conditioning attributes of `targets` set."""
        labels = labels.copy()
        for name, value in targets.items():
            if name not in self.attribute_names:
                continue
            column = self.attribute_names.index(name)
            if self.label_type == "categorical" and value == 1:
                labels[:] = 0.0
            labels[:, column] = value
        return labels

    def _label_array(self, attributes, num_samples: int) -> np.ndarray:
        """Checks label vectors given as an array; returns `(num_samples, K)`."""
        k = len(self.attribute_names)
        example = f"{{'{self.attribute_names[0]}': 1}}"
        labels = _label_values(attributes)
        if labels is None or labels.dtype.kind not in "biuf":
            names = []
            if labels is not None and labels.dtype.kind in "USO":
                names = [str(n) for n in labels.ravel() if isinstance(n, str)]
            hint = (
                f" To ask for attributes by name, pass a dict such as "
                f"{dict.fromkeys(names, 1)}."
                if names
                else ""
            )
            raise ValueError(
                f"`attributes` must be a dict of name → 0/1 (for example "
                f"{example}) or an array of 0/1 label vectors in the order of "
                f"{self.attribute_names}. Received: {attributes!r}.{hint}"
            )
        if labels.shape not in ((k,), (num_samples, k)):
            raise ValueError(
                f"`attributes` as an array must have shape ({k},) or "
                f"({num_samples}, {k}) for the attributes {self.attribute_names}."
                f" Received shape {labels.shape}. To set a few attributes by "
                f"name, pass a dict such as {example}."
            )
        labels = np.array(np.broadcast_to(labels, (num_samples, k)), "float32")
        return check_label_matrix(
            labels, self.attribute_names, "attributes", self.label_type
        )

"""The keyword arguments of `generate` and `transform`, checked up front.

Both methods pass `**optimize_kwargs` to the optimisation of latents
(`latent_search.optimize_latents`). A misspelt option, or one given to a call
that never optimises, would otherwise be silently ignored.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable, Mapping

import numpy as np

TRANSFORM_METHODS = ("actor", "optimize")
CONSTRAINT_SPACES = ("image", "latent")
# The keyword arguments `generate` and `transform` pass to the optimisation,
# in the order of `optimize_latents`'s signature.
OPTIMIZE_OPTIONS = (
    "steps",
    "learning_rate",
    "attribute_weight",
    "realism_weight",
    "distance_weight",
    "constraint_weight",
    "threshold",
)


def check_optimize_options(
    method: Callable, options: Mapping, runs: bool, when: str
) -> None:
    """Raises a ValueError for optimisation options that are unknown or unused.

    Args:
        method: the bound method the options were given to (`model.transform`);
            its name and keyword arguments go into the errors.
        options: dict of the options given.
        runs: bool. Whether this call optimises.
        when: str. When the method would optimise, for the error.
    """
    name = method.__name__
    unknown = [k for k in options if k not in OPTIMIZE_OPTIONS]
    if unknown:
        own = [
            p.name
            for p in inspect.signature(method).parameters.values()
            if p.kind is p.POSITIONAL_OR_KEYWORD
        ]
        close = difflib.get_close_matches(unknown[0], OPTIMIZE_OPTIONS + tuple(own), 1)
        raise ValueError(
            f"`{name}` got unknown keyword argument(s) {unknown}. Its keyword "
            f"arguments are {own} and the optimisation's options "
            f"{list(OPTIMIZE_OPTIONS)}."
            + (f" Did you mean {close[0]!r}?" if close else "")
        )
    if options and not runs:
        raise ValueError(
            f"{sorted(options)} are options of the optimisation, which "
            f"`{name}` runs only {when}. This call does not optimise, so "
            "they would be ignored: drop them, or ask for the optimisation."
        )
    for option, value in options.items():
        _check_optimize_value(name, option, value)


def _check_optimize_value(method: str, name: str, value) -> None:
    """Raises a ValueError for an optimisation option that cannot work."""
    if name == "distance_weight" and value is None:
        return  # None: the model's own λ_dist
    number = isinstance(value, (int, float, np.integer, np.floating)) and not (
        isinstance(value, bool)
    )
    if name == "steps":
        valid, rule = number and value == int(value) and value >= 1, "an int >= 1"
    elif name == "learning_rate":
        valid, rule = number and value > 0, "a number > 0"
    elif name == "threshold":
        valid, rule = number and 0 < value < 1, "a number in (0, 1)"
    else:  # the loss weights
        valid, rule = number and value >= 0, "a number >= 0"
    if not valid:
        raise ValueError(
            f"`{method}`'s optimisation option `{name}` must be {rule}. "
            f"Received: {name}={value!r}"
        )

"""A progress bar over work that the metrics do piece by piece."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from keras_latent.utils.batching import advance, progress_bar


def collect(
    results: Iterable,
    total: int,
    verbose: bool,
    size: Callable[[object], int] = len,
) -> list:
    """Lists `results`, advancing a progress bar as each one arrives.

    `results` is usually a generator, so the bar moves while the work runs.

    Args:
        results: iterable of per-piece results (e.g. one array per batch).
        total: the bar's length, in the units `size` counts.
        verbose: bool. Show the bar.
        size: callable. How far one result advances the bar. Defaults to
            `len` (a batch's number of rows).
    """
    bar = progress_bar(total, verbose)
    collected = []
    for result in results:
        collected.append(result)
        advance(bar, size(result))
    return collected

"""One process per Keras backend: the plumbing the benchmarks share.

Keras fixes its backend when it is first imported, so a benchmark that compares
backends re-runs itself once per backend (`--worker --backend=B`) and reads the
JSON that each worker prints on its last line of stdout.

A benchmark built on this module:

    import backend_workers  # benchmarks/ is on sys.path when run as a script
    from absl import app, flags

    backend_workers.define_flags()  # --backends, --torch_threads, --output, ...
    flags.adopt_module_key_flags(backend_workers)  # list them in its --help
    ...

    def main(argv):
        backend_workers.check_no_arguments(argv)
        backend_workers.run(__file__, FORWARDED, benchmark, report)

    if __name__ == "__main__":
        app.run(main)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from absl import app, flags, logging

REPO_ROOT = Path(__file__).resolve().parents[1]
BACKENDS = ("tensorflow", "jax", "torch")
TORCH_THREADS_HELP = "torch.set_num_threads for the torch worker (0: default)."


# -- flags ----------------------------------------------------------------------------


def define_torch_threads_flag(help_text: str = TORCH_THREADS_HELP) -> None:
    """Defines `--torch_threads` (0: torch's default thread count)."""
    flags.DEFINE_integer("torch_threads", 0, help_text)


def define_flags() -> None:
    """Defines the flags of every benchmark that runs one worker per backend.

    `--backends`, `--torch_threads` and `--output` for users; `--worker` and
    `--backend`, with which the parent starts a worker. absl files them under
    this module: the benchmark then calls
    `flags.adopt_module_key_flags(backend_workers)` so that its `--help` lists
    them next to its own flags.
    """
    flags.DEFINE_list(
        "backends", list(BACKENDS), "Keras backends, one subprocess each."
    )
    define_torch_threads_flag()
    flags.DEFINE_string("output", None, "Optional JSON file for all results.")
    # Internal: how the parent starts a worker.
    flags.DEFINE_bool("worker", False, "Internal: run one backend and print JSON.")
    flags.DEFINE_enum(
        "backend", None, list(BACKENDS), "Internal: the worker's backend."
    )


def check_no_arguments(argv: Sequence[str]) -> None:
    """A usage error for positional arguments: the benchmarks take only flags."""
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")


# -- the worker -----------------------------------------------------------------------


def enter_worker(backend: str, torch_threads: int | None) -> None:
    """Checks the worker runs on `backend` and makes the repo importable."""
    if os.environ.get("KERAS_BACKEND") != backend:
        raise RuntimeError(f"--backend={backend} needs KERAS_BACKEND={backend}.")
    sys.path.insert(0, str(REPO_ROOT))
    if backend == "torch" and torch_threads:
        import torch

        torch.set_num_threads(torch_threads)
    import keras

    if keras.backend.backend() != backend:
        raise RuntimeError(f"Keras runs on {keras.backend.backend()}, not {backend}.")


def torch_threads() -> int | None:
    """torch's thread count in the torch worker; `None` on other backends."""
    if flags.FLAGS.backend != "torch":
        return None
    import torch

    return torch.get_num_threads()


def print_result(result) -> None:
    """What a worker hands back: one JSON line, the last on stdout."""
    print(json.dumps(result), flush=True)


def step_clock():
    """A `keras.callbacks.Callback` timing one epoch of `fit`'s steps.

    After `fit`, `clock.stop - clock.start` is the time from the first step's
    start to the end of the epoch. Only begin hooks and `on_epoch_end` are
    overridden: a batch-end hook would turn off Keras's asynchronous callback
    dispatch and slow `fit` down. By `on_epoch_end` Keras has read the logs
    back to the host, so every step has finished. Keras is imported here, in
    the worker, so the parent process never fixes a backend.
    """
    import keras

    class StepClock(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            if batch == 0:
                self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.stop = time.perf_counter()

    return StepClock()


# -- the parent -----------------------------------------------------------------------


def run_worker(script, backend: str, flag_values, forwarded, env=None):
    """Runs `script --worker --backend=backend` and returns its JSON result.

    Args:
        script: path of the benchmark script.
        backend: Keras backend of the worker.
        flag_values: the parent's absl `FLAGS`.
        forwarded: names of the flags passed on to the worker.
        env: extra environment variables for the worker.
    """
    command = [sys.executable, str(Path(script).resolve()), "--worker"]
    command.append(f"--backend={backend}")
    command += [flag_values[name].serialize() for name in forwarded]
    command = [arg for arg in command if arg]  # an unset flag serializes to ""
    worker_env = dict(os.environ, KERAS_BACKEND=backend, **(env or {}))
    worker_env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    # stderr goes straight through, so progress and errors show as they come.
    completed = subprocess.run(
        command, env=worker_env, stdout=subprocess.PIPE, text=True
    )
    lines = [line for line in completed.stdout.splitlines() if line.strip()]
    if completed.returncode or not lines:
        raise RuntimeError(f"The {backend} worker failed ({completed.returncode}).")
    return json.loads(lines[-1])


def run_all(backends, known, run_one):
    """Runs `run_one(backend)` for each backend; returns `(results, failed)`.

    A backend whose worker fails is logged and skipped, so one broken backend
    still leaves a table for the others.
    """
    unknown = set(backends) - set(known)
    if unknown:
        raise app.UsageError(f"Unknown --backends {sorted(unknown)}; use {known}.")
    results, failed = [], []
    for backend in backends:
        try:
            results.append(run_one(backend))
        except RuntimeError as error:
            logging.error("%s", error)
            failed.append(backend)
    return results, failed


def markdown_table(header: Sequence[str], rows, text_columns: int = 1) -> str:
    """A Markdown table of strings; columns after `text_columns` align right.

    Args:
        header: the column titles.
        rows: iterable of rows, each a sequence of strings (one per column).
        text_columns: how many leading columns hold text (left-aligned); the
            others hold numbers. Defaults to `1`.
    """
    align = ["---"] * text_columns + ["---:"] * (len(header) - text_columns)
    lines = [header, None, *rows]
    return "\n".join(
        "|" + "|".join(align) + "|" if line is None else "| " + " | ".join(line) + " |"
        for line in lines
    )


def run(
    script,
    forwarded: Sequence[str],
    benchmark: Callable[[str], object],
    report: Callable[[list], list],
    env: dict | None = None,
) -> None:
    """A benchmark's `main` once its own flags are checked: worker or parent.

    With `--worker`, runs `benchmark(backend)` on `--backend` and prints its
    JSON result. Otherwise runs one worker per `--backends`, passes their
    results to `report`, writes what `report` returns to `--output` (when
    set) and exits with an error naming the backends whose worker failed.

    Args:
        script: path of the benchmark script (its `__file__`).
        forwarded: names of the flags passed on to the workers.
        benchmark: `benchmark(backend)` runs in the worker and returns its
            JSON-serialisable result.
        report: `report(results)` gets the workers' results, in the order of
            `--backends` (failed backends left out); it prints the tables and
            returns the list that `--output` holds.
        env: extra environment variables for the workers. Defaults to `None`.
    """
    flag_values = flags.FLAGS
    if flag_values.worker:
        enter_worker(flag_values.backend, flag_values.torch_threads)
        print_result(benchmark(flag_values.backend))
        return
    results, failed = run_all(
        flag_values.backends,
        BACKENDS,
        lambda backend: run_worker(script, backend, flag_values, forwarded, env),
    )
    saved = report(results)
    if flag_values.output:
        Path(flag_values.output).write_text(json.dumps(saved, indent=2) + "\n")
    if failed:
        sys.exit(f"Failed backends: {', '.join(failed)}")

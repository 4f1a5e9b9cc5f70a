"""One process per Keras backend: the plumbing the benchmarks share.

Keras fixes its backend when it is first imported, so a benchmark that compares
backends re-runs itself once per backend (`--worker --backend=B`) and reads the
JSON that each worker prints on its last line of stdout.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


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


def print_result(result) -> None:
    """What a worker hands back: one JSON line, the last on stdout."""
    print(json.dumps(result), flush=True)


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
    from absl import app, logging

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

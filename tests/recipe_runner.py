"""Runs `recipes/*.py` as a person runs them, for the recipe smoke tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import keras
import pytest

from keras_latent.datasets import DATA_ENV_VAR

REPO = Path(__file__).resolve().parents[1]


# Recipes are backend-agnostic scripts over a library whose every path the
# unit tests run on all three backends, and each recipe process costs 10-40 s
# (imports, JAX's compiles). The default run smoke-tests them on torch, the
# quickest here; `-m slow` runs them on every backend. Test modules set
# `pytestmark = SMOKE_MARKS`.
SMOKE_MARKS = [] if keras.backend.backend() == "torch" else [pytest.mark.slow]


def recipe_environment(scratch: Path) -> dict:
    """The environment of every recipe run: this process's backend, no data.

    `$KERAS_LATENT_DATA` names a folder that does not exist, so a recipe that
    ignored `--data_dir` fails instead of quietly reading the shared data next
    to the checkout. The rest is for speed only: JAX runs share a compilation
    cache in `scratch` and compile unoptimised (compiling, not arithmetic,
    dominates them), and torch gets one thread, as in `conftest.py`.
    """
    env = dict(
        os.environ,
        KERAS_BACKEND=keras.backend.backend(),
        TF_CPP_MIN_LOG_LEVEL="3",
        PYTHONPATH=str(REPO),
    )
    env[DATA_ENV_VAR] = str(scratch / "no_data")
    if keras.backend.backend() == "jax":
        env.update(
            JAX_COMPILATION_CACHE_DIR=str(scratch / "jax_cache"),
            JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0",
            JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES="0",
        )
        flags = env.get("XLA_FLAGS", "")
        env["XLA_FLAGS"] = f"{flags} --xla_backend_optimization_level=0".strip()
    if keras.backend.backend() == "torch":
        env["OMP_NUM_THREADS"] = "1"
    return env


def _snapshot(path: Path):
    if not path.exists():
        return None
    return sorted(
        (str(p.relative_to(path)), p.stat().st_mtime_ns)
        for p in path.rglob("*")
        if "__pycache__" not in p.parts
    )


def run_recipe(script: str, *flags, env: dict, data_env=None, guarded=()):
    """Runs `recipes/<script>.py` from the repository root; returns the process.

    `data_env`, if given, replaces `$KERAS_LATENT_DATA` (a recipe that reads
    the default data, like `evaluate_preset.py`). `guarded` are the repository
    folders the recipe writes by default; they must come out untouched, or
    the recipe ignored an `--output` or `--backup_dir`.
    """
    env = dict(env)
    if data_env is not None:
        env[DATA_ENV_VAR] = str(data_env)
    guarded = [REPO / p for p in guarded]
    before = [_snapshot(p) for p in guarded]
    result = subprocess.run(
        [sys.executable, f"recipes/{script}.py", *map(str, flags)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, (
        f"{script} exited with {result.returncode}; the end of its output:\n"
        f"{result.stdout[-2000:]}\n{result.stderr[-4000:]}"
    )
    for path, snapshot in zip(guarded, before):
        assert _snapshot(path) == snapshot, f"{script} wrote into {path}"
    return result

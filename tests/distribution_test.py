"""Data-parallel training with each backend's own distribution.

tests/distributed_worker.py fits the same two-player model (gradient penalty
inside, SGD, no randomness) on the same global batches, once on one device
and once on two (tensorflow MirroredStrategy, jax keras.distribution
DataParallel, torch two gloo processes). Data parallelism must not change
the math: the weights and the logged losses must agree.
"""

import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np

WORKER = Path(__file__).with_name("distributed_worker.py")
REPO_ROOT = WORKER.parents[1]


def run_worker(tmp_path, num_devices):
    output = tmp_path / f"devices_{num_devices}.npz"
    env = dict(os.environ, KERAS_BACKEND=keras.backend.backend())
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p
    )
    result = subprocess.run(
        [sys.executable, str(WORKER), str(output), str(num_devices)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return dict(np.load(output))


def test_two_devices_train_like_one(tmp_path):
    single = run_worker(tmp_path, 1)
    parallel = run_worker(tmp_path, 2)
    assert set(single) == set(parallel)
    assert any(k.startswith("log_") for k in single)
    for key in single:
        np.testing.assert_allclose(
            parallel[key], single[key], rtol=1e-5, atol=1e-6, err_msg=key
        )

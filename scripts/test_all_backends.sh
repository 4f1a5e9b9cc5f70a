#!/usr/bin/env bash
# Lint, then run the test suite once per Keras backend. Extra arguments go to
# pytest (e.g. `-m slow` for the long checks, `-x` to stop early).
set -uo pipefail
cd "$(dirname "$0")/.."
export TF_CPP_MIN_LOG_LEVEL=3 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"

ruff check . && ruff format --check . || { echo "lint failed"; exit 1; }

# One pytest worker per core, at most 4 (each holds a backend, 1-2 GB):
# the tiny test models leave a core mostly idle, and the recipe smoke tests
# wait on their subprocesses. A test file stays on one worker
# (`--dist loadfile`), so its module fixtures are built once.
# PYTEST_WORKERS=0 runs in this process.
workers=${PYTEST_WORKERS:-$(python -c \
  "import os; print(min(4, len(os.sched_getaffinity(0))))")}
parallel=()
if [ "$workers" -gt 0 ]; then
  parallel=(-n "$workers" --dist loadfile)
fi

status=0
for backend in tensorflow jax torch; do
  echo "=== KERAS_BACKEND=$backend"
  # The slowest tests are listed, so that CI's log shows where its time goes.
  KERAS_BACKEND=$backend python -m pytest -q -p no:cacheprovider --durations=15 \
    "${parallel[@]}" "$@" || status=1
done
exit $status

#!/usr/bin/env bash
# Lint, then run the test suite once per Keras backend. Extra arguments go to
# pytest (e.g. `-m slow` for the long checks, `-x` to stop early).
set -uo pipefail
cd "$(dirname "$0")/.."
export TF_CPP_MIN_LOG_LEVEL=3 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"

ruff check . && ruff format --check . || { echo "lint failed"; exit 1; }

status=0
for backend in tensorflow jax torch; do
  echo "=== KERAS_BACKEND=$backend"
  # The slowest tests are listed, so that CI's log shows where its time goes.
  KERAS_BACKEND=$backend python -m pytest -q -p no:cacheprovider --durations=15 \
    "$@" || status=1
done
exit $status

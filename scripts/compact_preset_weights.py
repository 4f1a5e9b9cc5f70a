"""Stores a preset's weights in float16 and records what that changed.

    python scripts/compact_preset_weights.py zoo/celeba_latent_constraints

The preset's metrics were measured with its float32 weights. This rewrites
`model.weights.h5` in float16 (about half the size), then compares
`generate(num_samples=256, seed=0)` before and after and records the largest
and mean absolute pixel change under `float16_check` in `metadata.json`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

import keras_latent
from keras_latent import presets


def main(preset_dir: str) -> None:
    path = Path(preset_dir)
    weights = path / presets.WEIGHTS_FILE
    before_size = weights.stat().st_size
    model = keras_latent.from_preset(path)
    before = model.generate(num_samples=256, seed=0)
    presets.store_weights_as(weights, "float16")
    after = keras_latent.from_preset(path).generate(num_samples=256, seed=0)
    change = np.abs(after - before)
    metadata_path = path / presets.METADATA_FILE
    metadata = json.loads(metadata_path.read_text())
    metadata["weights_dtype"] = "float16"
    metadata["float16_check"] = {
        "max_abs_pixel_change": round(float(change.max()), 5),
        "mean_abs_pixel_change": round(float(change.mean()), 6),
        "bytes": {"float32": before_size, "float16": weights.stat().st_size},
        "protocol": "generate(num_samples=256, seed=0) with the float32 weights "
        "and again after storing them in float16, pixels in [0, 1], backend "
        f"{metadata.get('backend')}; every other metric in this file was "
        "measured with the float32 weights",
    }
    metadata_path.write_text(json.dumps(metadata, indent=2) + "\n")
    print(json.dumps(metadata["float16_check"], indent=2))


if __name__ == "__main__":
    main(sys.argv[1])

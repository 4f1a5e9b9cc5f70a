"""`.keras` files saved by an earlier layout of the package, and their outputs.

`tests/data/legacy/` holds tiny models of every class saved with
`model.save(...)` by keras-latent before the models moved into one package
each (commit cbf37b0), with their outputs on fixed inputs. The test loads
them with the current code: a user's saved models must keep loading and
computing the same thing.

The files were written by running this module against that commit:

```
git worktree add /tmp/old cbf37b0
KERAS_BACKEND=tensorflow PYTHONPATH=/tmp/old python tests/legacy_files.py
```
"""

from __future__ import annotations

import os
from pathlib import Path

import keras
import numpy as np

LEGACY_DIR = Path(__file__).parent / "data" / "legacy"
OUTPUTS_FILE = LEGACY_DIR / "outputs.npz"
RNG_SEED = 0


def fixed_inputs() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(RNG_SEED)
    return {
        "images": rng.uniform(size=(3, 8, 8, 1)).astype("float32"),
        "z4": rng.standard_normal((3, 4)).astype("float32"),
        "labels": (rng.uniform(size=(3, 2)) > 0.5).astype("float32"),
    }


def outputs_of(name: str, model) -> dict[str, np.ndarray]:
    """What each saved model computes on `fixed_inputs()`."""
    inputs = fixed_inputs()
    numpy = keras.ops.convert_to_numpy
    if name.startswith("vae"):
        mean, std = model.encode(inputs["images"])
        return {
            "encode_mean": numpy(mean),
            "encode_std": numpy(std),
            "decode": numpy(model.decode(inputs["z4"])),
        }
    if name == "wgan_gp":
        return {"generator": numpy(model(inputs["z4"]))}
    if name == "classifier":
        return {"predict_proba": model.predict_proba(inputs["images"])}
    if name == "latent_constraints":
        scores = model.attribute_scores(inputs["z4"], latents=True)
        return {
            "apply_actor": numpy(model.apply_actor(inputs["z4"], inputs["labels"])),
            **{f"score_{k}": v for k, v in scores.items()},
        }
    raise ValueError(f"Unknown legacy model {name!r}.")


def _legacy_models() -> dict:
    from keras_latent import optimizers
    from keras_latent.models import (
        VAE,
        WGANGP,
        ImageClassifier,
        LatentConstraints,
    )

    vae = VAE(image_shape=(8, 8, 1), latent_dim=4, hidden_units=(8,), seed=1)
    conv_vae = VAE(
        image_shape=(8, 8, 1), latent_dim=4, architecture="conv", filters=(4, 8)
    )
    conv_vae.compile(optimizer=optimizers.Adam(1e-3))
    wgan_gp = WGANGP(
        image_shape=(8, 8, 1),
        latent_dim=4,
        generator_filters=(8, 4),
        critic_filters=(4, 8),
    )
    classifier = ImageClassifier(
        image_shape=(8, 8, 1), class_names=("x", "y", "z"), filters=(4,), dense_units=8
    )
    latent_constraints = LatentConstraints(
        vae=vae,
        attribute_names=["a", "b"],
        critic_units=(16, 16),
        actor_units=(16,),
        seed=2,
    )
    rng = np.random.default_rng(RNG_SEED + 1)
    latent_constraints.fit_attribute_critic(
        rng.uniform(size=(16, 8, 8, 1)).astype("float32"),
        (rng.uniform(size=(16, 1)) > 0.5).astype("float32"),
        ["c"],
        hidden_units=(8,),
        epochs=1,
        verbose=0,
    )
    return {
        "vae": vae,
        "vae_conv_compiled": conv_vae,
        "wgan_gp": wgan_gp,
        "classifier": classifier,
        "latent_constraints": latent_constraints,
    }


def write_legacy_files() -> None:
    keras.utils.set_random_seed(RNG_SEED)
    LEGACY_DIR.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for name, model in _legacy_models().items():
        model.save(LEGACY_DIR / f"{name}.keras")
        for key, value in outputs_of(name, model).items():
            arrays[f"{name}/{key}"] = np.asarray(value, "float32")
    temporary = OUTPUTS_FILE.with_name("outputs.tmp.npz")
    np.savez_compressed(temporary, **arrays)
    os.replace(temporary, OUTPUTS_FILE)
    print(f"Wrote {len(arrays)} arrays to {LEGACY_DIR}")


if __name__ == "__main__":
    write_legacy_files()

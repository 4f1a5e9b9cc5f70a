"""Reference outputs of every built-in preset, stored to catch silent changes.

A refactor that moves a model, a layer or a loss must leave what the published
presets compute unchanged. `reference_outputs(name)` runs one preset on fixed
NumPy inputs (no backend random draws, so every backend sees the same
numbers) through its public inference methods; the test compares them with
the outputs stored in `tests/data/preset_reference_outputs.npz`.

Rewrite the stored outputs only when a preset's weights are republished on
purpose:

```
KERAS_BACKEND=tensorflow python tests/preset_reference.py
```
"""

from __future__ import annotations

import os
from pathlib import Path

import keras
import numpy as np

REFERENCE_FILE = Path(__file__).parent / "data" / "preset_reference_outputs.npz"
NUM_EXAMPLES = 3


def _images(shape, seed):
    """Smooth, image-like inputs in [0, 1]: low-frequency noise, upsampled."""
    rng = np.random.default_rng(seed)
    height, width, channels = shape
    coarse = rng.uniform(size=(NUM_EXAMPLES, height // 4, width // 4, channels))
    return np.kron(coarse, np.ones((1, 4, 4, 1))).astype("float32")


def _latents(dim, seed):
    return np.random.default_rng(seed).standard_normal((NUM_EXAMPLES, dim))


def _numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x), "float32")


def _vae_outputs(vae, prefix=""):
    images = _images(vae.image_shape, seed=1)
    mean, std = vae.encode(images)
    z = _latents(vae.latent_dim, seed=2).astype("float32")
    return {
        f"{prefix}encode_mean": _numpy(mean),
        f"{prefix}encode_std": _numpy(std),
        f"{prefix}decode": _numpy(vae.decode(z)),
        f"{prefix}reconstruct": _numpy(vae.reconstruct(images)),
    }


def _latent_constraints_outputs(model):
    outputs = _vae_outputs(model.vae, prefix="vae_")
    images = _images(model.image_shape, seed=3)
    z = _latents(model.vae.latent_dim, seed=4).astype("float32")
    labels = model.label_vectors(None, NUM_EXAMPLES, seed=5)
    outputs["label_vectors"] = labels.astype("float32")
    outputs["apply_actor"] = _numpy(model.apply_actor(z, labels))
    for name, scores in model.attribute_scores(images).items():
        outputs[f"attribute_scores_{name}"] = scores
    target = {model.attribute_names[0]: 1}
    outputs["transform_actor"] = model.transform(images, target, method="actor")
    outputs["transform_optimize"] = model.transform(
        images, target, method="optimize", steps=10
    )
    return outputs


def _editing_vae_outputs(model):
    """Encoder, label reading and decoder of an editing VAE on fixed inputs."""
    images = _images(model.image_shape, seed=10)
    first, second = model.encode(images)
    outputs = {
        "encode_0": first,
        "encode_1": second,
        "predict_attributes": model.predict_attributes(images),
    }
    if type(model).__name__ == "LabelRelevantIrrelevantVAE":
        z_s = _latents(model.relevant_dim, seed=11).astype("float32")
        z_u = _latents(model.irrelevant_dim, seed=12).astype("float32")
        outputs["decode"] = model.decode(z_s, z_u)
    else:
        z = _latents(model.latent_dim, seed=11).astype("float32")
        labels = np.eye(len(model.attribute_names))[np.arange(NUM_EXAMPLES) % 2]
        outputs["decode"] = model.decode(z, labels.astype("float32"))
    return outputs


def reference_outputs(name: str) -> dict[str, np.ndarray]:
    """Outputs of built-in preset `name` on fixed inputs, a dict of arrays."""
    import keras_latent

    model = keras_latent.from_preset(name)
    kind = type(model).__name__
    if kind == "VAE":
        outputs = _vae_outputs(model)
    elif kind in ("WGANGP", "GAN"):
        outputs = {"generator": _numpy(model(_latents(model.latent_dim, seed=6)))}
    elif kind in ("CGAN", "ACGAN"):
        z = _latents(model.latent_dim, seed=8)
        shape = (NUM_EXAMPLES, model.label_dim)
        labels = np.random.default_rng(9).integers(0, 2, shape)
        if model.label_type == "categorical":
            labels = np.eye(model.label_dim)[np.arange(NUM_EXAMPLES) * 3]
        outputs = {"generator": _numpy(model([z, labels.astype("float32")]))}
    elif kind == "ImageClassifier":
        images = _images(model.image_shape, seed=7)
        outputs = {"predict_proba": model.predict_proba(images)}
    elif kind == "LatentConstraints":
        outputs = _latent_constraints_outputs(model)
    elif kind in ("LabelRelevantIrrelevantVAE", "CVAE", "CVAEGAN", "IFcVAEGAN"):
        outputs = _editing_vae_outputs(model)
    else:
        raise ValueError(f"No reference outputs defined for class {kind}.")
    return {key: np.asarray(value, "float32") for key, value in outputs.items()}


def write_reference_file(path: Path = REFERENCE_FILE) -> None:
    import keras_latent

    arrays = {}
    for name in keras_latent.list_presets():
        for key, value in reference_outputs(name).items():
            arrays[f"{name}/{key}"] = value
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp.npz")
    np.savez_compressed(temporary, **arrays)
    os.replace(temporary, path)
    print(f"Wrote {len(arrays)} arrays to {path}")


if __name__ == "__main__":
    write_reference_file()

"""Steps the two Latent Constraints recipes share.

`train_latent_constraints.py` and `teach_new_attributes.py` fit attribute
critics and actors, edit images and draw conditional samples the same way
(docs/models.md, "Latent Constraints"; the samples are LC Table 1's, see
"Metrics and their protocol"). Like `publishing`, it reads the recipes' flags
(`--learning_rate`) after `app.run` parsed them.
"""

from __future__ import annotations

import keras
import numpy as np
from absl import flags

from keras_latent.utils.inputs import predict_in_batches

FLAGS = flags.FLAGS
# A flag defined below belongs to the recipe that calls its function.
flags.disclaim_key_flags()


def define_optimize_steps_flag() -> None:
    """Defines `--optimize_steps` of `transform(method="optimize")` edits."""
    flags.DEFINE_integer(
        "optimize_steps", 300, "Adam steps of each transform(method='optimize')."
    )


def transform_options(method: str, optimize_steps: int) -> dict:
    """`LatentConstraints.transform`'s options for `method`.

    Only `"optimize"` takes a step count; the actor rejects options.
    """
    return {"steps": optimize_steps} if method == "optimize" else {}


def actor_critic_optimizers() -> dict:
    """Adam(`--learning_rate`, β1 = 0, β2 = 0.9) for the critic and the actor."""
    return {
        p: keras.optimizers.Adam(FLAGS.learning_rate, beta_1=0.0, beta_2=0.9)
        for p in ("critic", "actor")
    }


def conditional_samples(model, labels, seed: int):
    """Actor outputs for prior samples conditioned on `labels`: `(z, z', images)`.

    z ~ N(0, I) from a NumPy generator seeded with `seed`, one per label vector.
    """
    z = np.random.default_rng(seed).standard_normal(
        (len(labels), model.latent_dim), dtype="float32"
    )
    z_new = predict_in_batches(model.apply_actor, (z, labels.astype("float32")), 512)
    return z, z_new, predict_in_batches(model.decode, z_new, 512)


def fit_attribute_critic(model, posteriors, labels, names, units, epochs, **options):
    """`model.fit_attribute_critic` with `units` hidden widths (strings allowed).

    Returns the `History`; `options` go to `fit_attribute_critic`.
    """
    return model.fit_attribute_critic(
        posteriors,
        labels,
        names,
        hidden_units=[int(u) for u in units],
        epochs=epochs,
        verbose=2,
        **options,
    )


def best_epoch_logs(history) -> dict:
    """Logs of the epoch EarlyStopping kept (the lowest validation loss)."""
    best = int(np.argmin(history.history["val_loss"]))
    logs = {k: round(float(v[best]), 4) for k, v in history.history.items()}
    return {"epoch": best + 1, **logs}


def rounded(value):
    """`value` with every float, however deeply nested in dicts, to 4 places."""
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    if isinstance(value, float):
        return round(value, 4)
    return value

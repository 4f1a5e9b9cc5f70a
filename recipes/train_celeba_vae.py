"""Trains `celeba_vae`, the frozen base of `celeba_latent_constraints`.

    python recipes/train_celeba_vae.py --epochs 24   # the built-in preset
    python recipes/train_celeba_vae.py --card_only   # only rewrite its card

A convolutional VAE on the 64x64 CelebA subset with the sharp Gaussian decoder
of Latent Constraints (σ_x = 0.1; docs/models.md, "VAE"). The training set is
doubled with horizontal flips. Every figure is measured on the val split.
Resumes from `--backup_dir` if a run was interrupted.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import publishing  # noqa: E402  (recipes/ is on sys.path when run as a script)
from absl import app, flags  # noqa: E402

import keras_latent  # noqa: E402
from keras_latent import datasets  # noqa: E402
from keras_latent.models import VAE  # noqa: E402

FLAGS = publishing.define_training_flags(
    "celeba_vae", "celeba64/", epochs=None, batch_size=64
)
flags.DEFINE_integer("epochs", 40, "Training epochs over the flip-doubled set.")
flags.DEFINE_integer("latent_dim", 256, "Latent dimension.")
flags.DEFINE_list("filters", ["24", "48", "96", "192"], "Encoder channels.")
flags.DEFINE_float("decoder_sigma", 0.1, "σ_x of the Gaussian decoder.")
flags.DEFINE_float("learning_rate", 1e-3, "Initial Adam learning rate.")
flags.DEFINE_float("final_learning_rate", 1e-4, "Learning rate at the end (cosine).")
flags.DEFINE_integer("limit", None, "Use only this many train images (smoke runs).")
publishing.define_card_only_flag()


def main(argv):
    del argv
    if FLAGS.card_only:
        return write_card()
    keras.utils.set_random_seed(FLAGS.seed)
    x_train, _, _ = datasets.celeba_arrays("train", data_dir=FLAGS.data_dir)
    x_train = x_train[: FLAGS.limit]
    num_train = len(x_train)
    x_val, _, _ = datasets.celeba_arrays("val", data_dir=FLAGS.data_dir)
    x_train = np.concatenate([x_train, x_train[:, :, ::-1]]).astype("float32") / 255
    x_val = x_val.astype("float32") / 255.0

    model = VAE(
        image_shape=(64, 64, 3),
        latent_dim=FLAGS.latent_dim,
        architecture="conv",
        filters=[int(f) for f in FLAGS.filters],
        decoder_distribution="gaussian",
        decoder_sigma=FLAGS.decoder_sigma,
        seed=FLAGS.seed,
    )
    steps = publishing.epoch_steps(len(x_train))
    schedule = keras.optimizers.schedules.CosineDecay(
        FLAGS.learning_rate,
        decay_steps=steps,
        alpha=FLAGS.final_learning_rate / FLAGS.learning_rate,
    )
    model.compile(optimizer=keras_latent.optimizers.Adam(schedule))
    history, run = publishing.fit(
        model,
        x_train,
        batch_size=FLAGS.batch_size,
        shuffle=True,
        validation_data=(x_val,),
    )
    # BackupAndRestore deletes its checkpoint when fit ends: keep the weights
    # until the preset is written, so a failure below loses no training.
    # Written aside, then renamed: a kill mid-write leaves no half file.
    os.makedirs(FLAGS.backup_dir, exist_ok=True)
    partial = os.path.join(FLAGS.backup_dir, "trained.partial.weights.h5")
    model.save_weights(partial)
    os.replace(partial, os.path.join(FLAGS.backup_dir, "trained.weights.h5"))

    metrics, reconstructions = val_metrics(model, x_val)
    metadata = publishing.training_metadata(
        "train_celeba_vae",
        data=publishing.read_from(
            f"CelebA 64x64 train split ({num_train:,} images, doubled with "
            "horizontal flips)",
            "celeba64/train.npz",
        ),
        split={
            "train": f"train ({num_train:,} + flips)",
            "report": f"val ({len(x_val):,})",
        },
        steps=steps,
        **run,
        history=history,
        metrics=metrics,
    )
    publishing.publish(
        model, metadata, samples=True, reconstructions=(x_val, reconstructions)
    )
    write_card()


def val_metrics(model, x_val):
    """`(metrics, reconstructions)`: ELBO, bits per dimension and MSE on val."""
    neg_elbo = np.concatenate(
        [
            keras.ops.convert_to_numpy(model.negative_elbo(x_val[i : i + 260]))
            for i in range(0, len(x_val), 260)
        ]
    )
    reconstructions = model.reconstruct(x_val)
    mse = float(np.mean((reconstructions - x_val) ** 2))
    bits_per_dim = float(neg_elbo.mean() / (np.log(2) * x_val[0].size))
    print(f"val ELBO {-neg_elbo.mean():.1f} nats; reconstruction MSE {mse:.5f}")
    metrics = {
        "val_elbo_nats": {
            "value": round(float(-neg_elbo.mean()), 1),
            "protocol": "mean ELBO per image (Gaussian decoder, sigma_x "
            f"{FLAGS.decoder_sigma}, constants included, beta=1) over the "
            f"{len(x_val):,} val images, one z sample each",
        },
        "val_bits_per_dim": {
            "value": round(bits_per_dim, 3),
            "protocol": "-ELBO / (64*64*3 * ln 2), same pass as val_elbo_nats",
        },
        "val_reconstruction_mse": {
            "value": round(mse, 5),
            "protocol": "mean squared error of posterior-mean reconstructions "
            f"of the {len(x_val):,} val images, pixels in [0, 1]",
        },
    }
    return metrics, reconstructions


def write_card():
    """Writes the model card from the preset's config and metadata.json."""
    metadata = keras_latent.load_preset_metadata(FLAGS.output)
    vae = keras_latent.from_preset(FLAGS.output, load_weights=False)
    metrics = {k: v["value"] for k, v in metadata["metrics"].items()}
    filters = "-".join(str(f) for f in vae.filters)
    body = f"""
A convolutional variational autoencoder for 64×64 CelebA faces: stride-2 4×4
convolutions ({filters} channels) to a {vae.latent_dim}-d Gaussian latent, a
mirrored transposed-convolution decoder, and the sharp Gaussian likelihood of
Latent Constraints (σ_x = {vae.decoder_sigma:g}). It is the frozen base that
`celeba_latent_constraints` makes conditional. On its own, its prior samples are
blurry, as the paper's are: the actor-critic pair is what moves them to
realistic regions of the latent space.

```python
vae = keras_latent.from_preset("celeba_vae")
faces = vae.generate(16, seed=0)
```

Prior samples:

![samples](samples.png)

Val reconstructions (top four rows: val images; bottom four: reconstructions):

![reconstructions](reconstructions.png)

## Measured on the val split

| metric | value |
|---|---|
| ELBO (nats per image, 1 sample) | {metrics["val_elbo_nats"]:.1f} |
| bits per dimension | {metrics["val_bits_per_dim"]:.3f} |
| reconstruction MSE (pixels in [0, 1]) | {metrics["val_reconstruction_mse"]:.5f} |
"""
    publishing.write_card(FLAGS.output, "celeba_vae", body, metadata)


if __name__ == "__main__":
    app.run(main)

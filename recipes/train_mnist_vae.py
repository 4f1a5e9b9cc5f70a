"""Trains `mnist_vae` and measures it on the MNIST test set.

    python recipes/train_mnist_vae.py --output zoo/mnist_vae

Resumes from `--backup_dir` if a run was interrupted.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import publishing  # noqa: E402  (recipes/ is on sys.path when run as a script)
from absl import app, flags  # noqa: E402

import keras_latent  # noqa: E402
from keras_latent.models import VAE  # noqa: E402

FLAGS = publishing.define_training_flags(
    "mnist_vae", "mnist/mnist.npz", epochs=30, batch_size=128
)
publishing.define_sanity_figure_flags(judge="mnist_classifier")
flags.DEFINE_integer("latent_dim", 16, "Latent dimension.")
flags.DEFINE_float("learning_rate", 1e-3, "Adam learning rate.")


def main(argv):
    del argv
    keras.utils.set_random_seed(FLAGS.seed)
    x_train, _, x_test, _ = publishing.mnist_floats()

    model = VAE(
        image_shape=(28, 28, 1),
        latent_dim=FLAGS.latent_dim,
        architecture="mlp",
        hidden_units=(512, 256),
        decoder_distribution="bernoulli",
        seed=FLAGS.seed,
    )
    model.compile(optimizer=keras_latent.optimizers.Adam(FLAGS.learning_rate))
    history, run = publishing.fit(
        model, x_train, batch_size=FLAGS.batch_size, shuffle=True
    )

    test_metrics, reconstructions = measure(model, x_test)
    sanity = publishing.sanity_figure(model, x_test)

    metadata = publishing.training_metadata(
        "train_mnist_vae",
        **publishing.mnist_provenance(len(x_train), len(x_test)),
        steps=publishing.epoch_steps(len(x_train)),
        **run,
        history=history,
        metrics={**test_metrics, "judge_confident_share": sanity},
    )
    publishing.publish(
        model,
        metadata,
        "mnist_vae",
        card_body(test_metrics, sanity),
        samples=True,
        reconstructions=(x_test, reconstructions),
        scale=2,
    )


def measure(model, x_test):
    """`(metrics, reconstructions)`: the test ELBO and reconstruction MSE.

    ELBO with one z sample per image (nats per image), and the MSE of
    posterior-mean reconstructions, pixels in [0, 1].
    """
    neg_elbo = np.concatenate(
        [
            keras.ops.convert_to_numpy(model.negative_elbo(x_test[i : i + 500]))
            for i in range(0, len(x_test), 500)
        ]
    )
    reconstructions = model.reconstruct(x_test)
    mse = float(np.mean((reconstructions - x_test) ** 2))
    print(f"test ELBO: {-neg_elbo.mean():.2f} nats; reconstruction MSE: {mse:.5f}")
    metrics = {
        "test_elbo_nats": {
            "value": round(float(-neg_elbo.mean()), 2),
            "protocol": "mean ELBO per image (Bernoulli decoder, beta=1) over "
            f"the {len(x_test):,} MNIST test images, one z sample each",
        },
        "test_reconstruction_mse": {
            "value": round(mse, 5),
            "protocol": "mean squared error of posterior-mean reconstructions "
            f"of the {len(x_test):,} test images, pixels in [0, 1]",
        },
    }
    return metrics, reconstructions


def card_body(test_metrics: dict, sanity: dict) -> str:
    elbo = test_metrics["test_elbo_nats"]["value"]
    mse = test_metrics["test_reconstruction_mse"]["value"]
    return f"""
An MLP variational autoencoder for MNIST (encoder 784-512-256-2×{FLAGS.latent_dim},
mirrored decoder, Bernoulli likelihood, β = 1).

```python
vae = keras_latent.from_preset("mnist_vae")
digits = vae.generate(16, seed=0)
```

![samples](samples.png)

Test reconstructions (top four rows: test images; bottom four: reconstructions):

![reconstructions](reconstructions.png)

## Measured on the MNIST test set

| metric | value |
|---|---|
| ELBO (nats per image, 1 sample) | {elbo:.2f} |
| reconstruction MSE (pixels in [0, 1]) | {mse:.5f} |

{publishing.sanity_figure_text(sanity)}
"""


if __name__ == "__main__":
    app.run(main)

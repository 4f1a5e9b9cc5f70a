"""Trains `mnist_wgan_gp` and measures it with the independent MNIST judge.

    python recipes/train_mnist_wgan_gp.py --output zoo/mnist_wgan_gp

Resumes from `--backup_dir` if a run was interrupted.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import publishing  # noqa: E402  (recipes/ is on sys.path when run as a script)
from absl import app, flags  # noqa: E402

from keras_latent import datasets  # noqa: E402
from keras_latent.models import WGANGP  # noqa: E402

FLAGS = publishing.define_training_flags(
    "mnist_wgan_gp", "mnist/mnist.npz", epochs=None, batch_size=64
)
flags.DEFINE_integer(
    "epochs", 12, "Epochs; an epoch is one pass of `steps_per_epoch` steps."
)
publishing.define_sanity_figure_flags(judge="mnist_classifier")
flags.DEFINE_integer("steps_per_epoch", 500, "Generator steps per epoch.")
flags.DEFINE_integer("critic_steps", 5, "Critic updates per generator update.")
flags.DEFINE_list(
    "generator_filters", ["64", "32"], "Generator channels, small map up."
)
flags.DEFINE_list("critic_filters", ["32", "64"], "Critic channels.")


def main(argv):
    del argv
    keras.utils.set_random_seed(FLAGS.seed)
    x_train, _ = datasets.mnist_arrays("train", data_dir=FLAGS.data_dir)
    x_test, _ = datasets.mnist_arrays("test", data_dir=FLAGS.data_dir)
    x_test = x_test.astype("float32") / 255.0
    train = (
        publishing.training_batches(datasets.load_mnist)
        .map(lambda image, label: image)
        .repeat()
    )

    model = WGANGP(
        image_shape=(28, 28, 1),
        latent_dim=128,
        generator_filters=[int(f) for f in FLAGS.generator_filters],
        critic_filters=[int(f) for f in FLAGS.critic_filters],
        critic_steps=FLAGS.critic_steps,
        seed=FLAGS.seed,
    )
    model.compile()
    history, run = publishing.fit(model, train, steps_per_epoch=FLAGS.steps_per_epoch)
    sanity = publishing.sanity_figure(model, x_test)

    steps = FLAGS.epochs * FLAGS.steps_per_epoch
    metadata = publishing.training_metadata(
        "train_mnist_wgan_gp",
        **publishing.mnist_provenance(
            len(x_train), len(x_test), " for the judge's reference"
        ),
        steps=steps,
        critic_updates=steps * FLAGS.critic_steps,
        **run,
        history=history,
        full_history=True,
        metrics={"judge_confident_share": sanity},
    )
    body = f"""
A WGAN-GP (Gulrajani et al. 2017) for MNIST with DCGAN-style networks: the
generator maps 128-d noise through a 7×7×{FLAGS.generator_filters[0]} map and two
stride-2 transposed convolutions (batch norm, ReLU) to a tanh image; the critic has
two stride-2 convolutions ({", ".join(FLAGS.critic_filters)} channels, LeakyReLU 0.2,
no normalisation). Both are sized to train on a 2-core CPU.
λ = 10, {FLAGS.critic_steps} critic updates per generator update,
Adam(1e-4, β1 = 0, β2 = 0.9) for both players.

```python
gan = keras_latent.from_preset("mnist_wgan_gp")
digits = gan.generate(16, seed=0)
```

![samples](samples.png)

Critic's Wasserstein estimate at the end of training:
{metadata["final_train_logs"].get("wasserstein")}.

{publishing.sanity_figure_text(sanity)}
"""
    publishing.publish(model, metadata, "mnist_wgan_gp", body, samples=True, scale=2)


if __name__ == "__main__":
    app.run(main)

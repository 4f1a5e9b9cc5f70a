"""Trains a member of the GAN family on MNIST or CIFAR-10 and measures it.

    python recipes/train_mnist_gan.py --model gan --output zoo/mnist_dcgan
    python recipes/train_mnist_gan.py --model cgan --output zoo/mnist_cgan
    python recipes/train_mnist_gan.py --model acgan --output zoo/mnist_acgan
    python recipes/train_mnist_gan.py --model wgan_gp --output zoo/mnist_wgan_gp
    python recipes/train_mnist_gan.py --dataset cifar10 --model cgan \
        --output runs/cifar10_cgan

`--loss` and the regulariser flags pick any member (the equal-budget table
runs this recipe once per row). Resumes from `--backup_dir` if a run was
interrupted. `--dataset cifar10` trains on CIFAR-10's 5,000-image subset
minus the 500 images held out for reports (`labelled_datasets.py`). The
measurements (`generator_measures.py`): the share of samples the dataset's
independent judge (`mnist_classifier`, `cifar10_classifier`) is confident
about, classes covered, for conditional models the share classified as the
class asked for, the per-class diversity against the real test images,
FID/KID/IS on the judge's features.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import labelled_datasets  # noqa: E402
import numpy as np  # noqa: E402
import publishing  # noqa: E402  (recipes/ is on sys.path when run as a script)
from absl import app, flags  # noqa: E402
from generator_measures import diversity, feature_scores, judge_measures  # noqa: E402

from keras_latent import datasets  # noqa: E402
from keras_latent.losses import ADVERSARIAL_LOSSES  # noqa: E402
from keras_latent.models import ACGAN, CGAN, GAN, WGANGP  # noqa: E402

MODELS = {"gan": GAN, "cgan": CGAN, "acgan": ACGAN, "wgan_gp": WGANGP}
TITLES = {
    "gan": "mnist_dcgan",
    "cgan": "mnist_cgan",
    "acgan": "mnist_acgan",
    "wgan_gp": "mnist_wgan_gp",
}

FLAGS = publishing.define_training_flags(
    None, "mnist/ or cifar10_subset/", epochs=None, batch_size=64
)
labelled_datasets.define_dataset_flag()
flags.DEFINE_integer(
    "epochs", 20, "Epochs; an epoch is one pass of `steps_per_epoch` steps."
)
publishing.define_sanity_figure_flags(judge=None)
flags.DEFINE_enum("model", "gan", list(MODELS), "Which member of the family.")
flags.DEFINE_enum(
    "loss", None, list(ADVERSARIAL_LOSSES), "Adversarial loss (default: the model's)."
)
flags.DEFINE_integer("steps_per_epoch", 500, "Generator steps per epoch.")
flags.DEFINE_integer(
    "critic_steps", None, "Critic updates per generator update (default: the loss's)."
)
flags.DEFINE_integer("latent_dim", 100, "Noise dimension.")
flags.DEFINE_list("generator_filters", ["64", "32"], "Generator channels, map up.")
flags.DEFINE_list("critic_filters", ["32", "64"], "Critic channels.")
flags.DEFINE_bool("spectral_norm", False, "Spectral normalisation of the critic.")
flags.DEFINE_float("r1_weight", 0.0, "γ of the R1 penalty.")
flags.DEFINE_float("feature_matching_weight", 0.0, "Feature-matching weight.")
flags.DEFINE_integer("minibatch_kernels", 0, "Minibatch discrimination features.")
flags.DEFINE_float("instance_noise", 0.0, "Initial instance-noise std.")
flags.DEFINE_float("ema_decay", None, "EMA of the generator's weights for sampling.")
flags.DEFINE_enum("conditioning", "concat", ["concat", "projection"], "CGAN's critic.")
flags.DEFINE_enum(
    "critic_class_loss", "real_and_fake", ["real_and_fake", "real"], "AC-GAN's."
)
flags.DEFINE_float("class_loss_weight", 1.0, "AC-GAN's class-loss weight.")
flags.DEFINE_integer("diversity_per_class", 500, "Samples per class for diversity.")
flags.DEFINE_string("title", None, "Card title (default: the preset's name).")


def build_model(data: labelled_datasets.LabelledImages):
    options = dict(
        image_shape=data.image_shape,
        latent_dim=FLAGS.latent_dim,
        generator_filters=[int(f) for f in FLAGS.generator_filters],
        critic_filters=[int(f) for f in FLAGS.critic_filters],
        spectral_norm=FLAGS.spectral_norm,
        r1_weight=FLAGS.r1_weight,
        feature_matching_weight=FLAGS.feature_matching_weight,
        minibatch_kernels=FLAGS.minibatch_kernels,
        instance_noise=FLAGS.instance_noise,
        instance_noise_steps=max(1, FLAGS.epochs * FLAGS.steps_per_epoch // 2),
        ema_decay=FLAGS.ema_decay,
        seed=FLAGS.seed,
    )
    if FLAGS.critic_steps is not None:
        options["critic_steps"] = FLAGS.critic_steps
    if FLAGS.loss is not None and FLAGS.model != "wgan_gp":
        options["loss"] = FLAGS.loss
    if FLAGS.model in ("cgan", "acgan"):
        options["attribute_names"] = data.class_names
    if FLAGS.model == "cgan":
        options["conditioning"] = FLAGS.conditioning
    if FLAGS.model == "acgan":
        options["critic_class_loss"] = FLAGS.critic_class_loss
        options["class_loss_weight"] = FLAGS.class_loss_weight
    return MODELS[FLAGS.model](**options)


def measure(model, x_test, y_test) -> dict:
    results = judge_measures(
        model, FLAGS.judge, x_test, y_test, FLAGS.num_samples, FLAGS.seed
    )
    results["diversity"] = diversity(
        model, FLAGS.judge, x_test, y_test, FLAGS.diversity_per_class, FLAGS.seed
    )
    results.update(
        feature_scores(
            model, FLAGS.judge, x_test, y_test, FLAGS.num_samples, FLAGS.seed
        )
    )
    for name, record in results.items():
        print(f"{name}: {record['value']}")
    return results


def describe(model) -> str:
    config = model.get_config()
    side = model.image_shape[0] // 2 ** len(model.generator_filters)
    regularisers = [
        f"{name}={config[name]}"
        for name in (
            "spectral_norm",
            "r1_weight",
            "feature_matching_weight",
            "minibatch_kernels",
            "instance_noise",
            "ema_decay",
        )
        if config.get(name)
    ]
    return (
        f"`{type(model).__name__}` with the `{model.loss_name}` loss"
        + (f" and {', '.join(regularisers)}" if regularisers else "")
        + f"; generator channels {list(model.generator_filters)} ({side}×{side} "
        "map up, "
        "BatchNorm, ReLU, tanh), critic channels "
        f"{list(model.critic_filters)} (stride-2 4×4 convolutions, LeakyReLU "
        f"0.2), {model.critic_steps} critic update(s) per generator update, "
        f"{model.latent_dim}-d noise. Sized to train on a 2-core CPU."
    )


def main(argv):
    del argv
    keras.utils.set_random_seed(FLAGS.seed)
    if FLAGS.backup_dir is None:
        FLAGS.backup_dir = f"runs/{os.path.basename(os.path.normpath(FLAGS.output))}"
    data = labelled_datasets.labelled_images(" for the judge's reference")
    FLAGS.judge = FLAGS.judge or data.judge
    x_train, y_train, x_test, y_test = data.arrays
    model = build_model(data)
    model.compile()
    conditional = FLAGS.model in ("cgan", "acgan")
    if conditional:
        model.set_label_prior(y_train)
    # NumPy batches, so the recipe runs on any backend without TensorFlow.
    train = datasets.ArrayBatches(
        x_train,
        y_train if conditional else None,
        batch_size=FLAGS.batch_size,
        seed=FLAGS.seed,
    )
    history, run = publishing.fit(
        model, train, steps_per_epoch=FLAGS.steps_per_epoch, shuffle=False
    )
    steps = FLAGS.epochs * FLAGS.steps_per_epoch
    metadata = publishing.training_metadata(
        "train_mnist_gan",
        **data.provenance,
        steps=steps,
        critic_updates=steps * model.critic_steps,
        **run,
        history=history,
        full_history=True,
        metrics=measure(model, x_test, y_test),
    )
    name = FLAGS.title or os.path.basename(os.path.normpath(FLAGS.output))
    body = card_body(model, data, metadata["metrics"])
    scale = 2 if data.name == "mnist" else 1
    publishing.publish(
        model, metadata, name, body, samples=not conditional, scale=scale
    )
    if conditional:
        # Eight rows, one column per class asked for.
        labels = np.tile(np.eye(len(data.class_names), dtype="float32"), (8, 1))
        grid = model.generate(labels, num_samples=len(labels), seed=FLAGS.seed)
        publishing.save_grid(grid, "samples.png", scale=scale)


def card_body(model, data: labelled_datasets.LabelledImages, results) -> str:
    conditional = FLAGS.model in ("cgan", "acgan")
    asked = "7" if data.name == "mnist" else "cat"
    usage = (
        f'gan.generate({{"{asked}": 1}}, num_samples=16, seed=0)'
        if conditional
        else "gan.generate(16, seed=0)"
    )
    lines = [
        describe(model),
        "",
        "```python",
        f'gan = keras_latent.from_preset("{os.path.basename(FLAGS.output)}")',
        f"{data.item}s = {usage}",
        "```",
        "",
        "![samples](samples.png)"
        + (" (one column per class asked for)" if conditional else ""),
        "",
        f"| measure | samples | real test {data.item}s |",
        "|---|---|---|",
    ]
    classes = len(data.class_names)
    for key in ("judge_confident_share", "class_accuracy", "inception_score"):
        if key in results:
            record = results[key]
            lines.append(f"| {key} | {record['value']} | {record['real_test']} |")
    lines += [
        f"| classes_covered | {results['classes_covered']['value']} | {classes} |",
        f"| classes at least as diverse as real | {results['diversity']['value']} "
        f"| {classes} |",
        f"| FID (judge features) | {results['fid']['value']} | 0 |",
        f"| KID (judge features) | {results['kid']['value']} | 0 |",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    app.run(main)

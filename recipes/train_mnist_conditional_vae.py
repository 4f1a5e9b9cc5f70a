"""Trains a class-editing VAE on MNIST or CIFAR-10 and measures its edits.

    python recipes/train_mnist_conditional_vae.py --model lrlivae \
        --output zoo/mnist_lrlivae
    python recipes/train_mnist_conditional_vae.py --model cvae \
        --output zoo/mnist_cvae
    python recipes/train_mnist_conditional_vae.py --model cvaegan \
        --output zoo/mnist_cvaegan
    python recipes/train_mnist_conditional_vae.py --dataset cifar10 \
        --model lrlivae --output zoo/cifar10_lrlivae

`lrlivae` is the label-relevant/irrelevant VAE (Zheng & Sun 2019), `cvae`
the conditional VAE with a label head, `cvaegan` the naive cVAE-GAN (the
CVAE with a pixel discriminator), the editing baselines. Each trains on a
class-labelled dataset (`--dataset`, `labelled_datasets.py`): all 60,000
MNIST training digits, or CIFAR-10's 5,000-image subset minus the 500
images held out for reports. A model edits an image's class by
`transform(images, labels)`. Resumes from `--backup_dir` if a run was
interrupted.

The measurements, with the dataset's independent judge (`mnist_classifier`
or `cifar10_classifier`; `editing_measures.py`, `generator_measures.py`):
the share of samples of each asked-for class the judge classifies as that
class (MNIST target >= 97%), the share of test images transformed to
another class that the judge classifies as the new class (MNIST target >=
90%), the pixel change an edit makes beside the model's reconstruction, the
test reconstruction error, per-class diversity against the real test
images, FID/KID/IS on the judge's features.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import labelled_datasets  # noqa: E402
import numpy as np  # noqa: E402
import publishing  # noqa: E402  (recipes/ is on sys.path when run as a script)
from absl import app, flags  # noqa: E402
from editing_measures import (  # noqa: E402
    GRID_DIGITS,
    pick_test_digits,
    reconstruction_measures,
    swap_grid,
    swap_measures,
)
from generator_measures import diversity, feature_scores, judge_measures  # noqa: E402

from keras_latent import datasets  # noqa: E402
from keras_latent.models import CVAE, CVAEGAN, LabelRelevantIrrelevantVAE  # noqa: E402
from keras_latent.optimizers import Adam  # noqa: E402
from keras_latent.trainer import MultiPlayerModel  # noqa: E402

# One line per model: a model with one latent z (the conditional
# autoencoders, e.g. CVAEGAN) takes `--latent_dim`; multi-player models
# compile with their own reference optimizers.
MODELS = {"lrlivae": LabelRelevantIrrelevantVAE, "cvae": CVAE, "cvaegan": CVAEGAN}

# The label-relevant/irrelevant VAE's loss weights a flag may set.
LRLIVAE_WEIGHTS = (
    "adversarial_weight",
    "min_variance",
    "beta",
    "reconstruction_weight",
    "likelihood_weight",
    "pixel_adversarial_weight",
)

FLAGS = publishing.define_training_flags(
    None, "mnist/ or cifar10_subset/", epochs=None, batch_size=64
)
labelled_datasets.define_dataset_flag()
flags.DEFINE_integer(
    "epochs", 20, "Epochs; an epoch is one pass of `steps_per_epoch` steps."
)
publishing.define_sanity_figure_flags(judge=None)
flags.DEFINE_enum("model", "lrlivae", list(MODELS), "Which editing model.")
flags.DEFINE_integer("steps_per_epoch", 500, "Training steps per epoch.")
flags.DEFINE_integer("relevant_dim", 16, "lrlivae: dimension of the label code z_s.")
flags.DEFINE_integer("irrelevant_dim", 16, "lrlivae: dimension of the style code z_u.")
flags.DEFINE_integer("latent_dim", 16, "cvae: dimension of z.")
flags.DEFINE_float(
    "adversarial_weight", None, "lrlivae: weight of L_adv (default: the model's)."
)
flags.DEFINE_float(
    "min_variance", None, "lrlivae: GM variance floor (default: the model's)."
)
flags.DEFINE_float("beta", None, "lrlivae: weight of z_u's KL (default: the model's).")
flags.DEFINE_float(
    "reconstruction_weight", None, "lrlivae: weight of L_rec (default: the model's)."
)
flags.DEFINE_float(
    "likelihood_weight", None, "lrlivae: λ_lkd, both stages (default: the model's)."
)
flags.DEFINE_bool(
    "pixel_discriminator", False, "lrlivae: add the conditional pixel discriminator."
)
flags.DEFINE_float(
    "pixel_adversarial_weight", None, "lrlivae: weight of its L_G (default: model's)."
)
flags.DEFINE_list("filters", ["32", "64"], "Encoder channels (the decoder mirrors).")
flags.DEFINE_float("learning_rate", 1e-3, "cvae: Adam learning rate.")
flags.DEFINE_integer("swap_digits", 1000, "Test images transformed to every class.")
flags.DEFINE_integer("diversity_per_class", 500, "Samples per class for diversity.")
flags.DEFINE_string("title", None, "Card title (default: the preset's name).")


def build_model(data: labelled_datasets.LabelledImages):
    model_class = MODELS[FLAGS.model]
    options = dict(
        image_shape=data.image_shape,
        attribute_names=data.class_names,
        architecture="conv",
        filters=[int(f) for f in FLAGS.filters],
        seed=FLAGS.seed,
    )
    if model_class is LabelRelevantIrrelevantVAE:
        options.update(
            relevant_dim=FLAGS.relevant_dim, irrelevant_dim=FLAGS.irrelevant_dim
        )
        options["pixel_discriminator"] = FLAGS.pixel_discriminator
        for name in LRLIVAE_WEIGHTS:
            if getattr(FLAGS, name) is not None:
                options[name] = getattr(FLAGS, name)
    else:
        options["latent_dim"] = FLAGS.latent_dim
    model = model_class(**options)
    if isinstance(model, MultiPlayerModel):
        model.compile()  # each player's reference optimizer (see its docstring)
    else:
        model.compile(optimizer=Adam(FLAGS.learning_rate))
    return model


def measure(model, x_test, y_test) -> dict:
    seed, judge = FLAGS.seed, FLAGS.judge
    results = judge_measures(model, judge, x_test, y_test, FLAGS.num_samples, seed)
    results.update(swap_measures(model, judge, x_test, y_test, FLAGS.swap_digits, seed))
    results.update(reconstruction_measures(model, judge, x_test, y_test))
    results["diversity"] = diversity(
        model, judge, x_test, y_test, FLAGS.diversity_per_class, seed
    )
    results.update(
        feature_scores(model, judge, x_test, y_test, FLAGS.num_samples, seed)
    )
    for name, record in results.items():
        print(f"{name}: {record['value']}")
    return results


def main(argv):
    del argv
    keras.utils.set_random_seed(FLAGS.seed)
    if FLAGS.backup_dir is None:
        FLAGS.backup_dir = f"runs/{os.path.basename(os.path.normpath(FLAGS.output))}"
    data = labelled_datasets.labelled_images(
        " for the measures and the judge's reference"
    )
    FLAGS.judge = FLAGS.judge or data.judge
    x_train, y_train, x_test, y_test = data.arrays
    model = build_model(data)
    # `fit` on a dataset does not see the labels up front: the class
    # marginals `generate(attributes=None)` draws from are set here.
    model.set_label_prior(y_train)
    # NumPy batches, so the recipe runs on any backend without TensorFlow.
    train = datasets.ArrayBatches(
        x_train, y_train, batch_size=FLAGS.batch_size, seed=FLAGS.seed
    )
    history, run = publishing.fit(
        model, train, steps_per_epoch=FLAGS.steps_per_epoch, shuffle=False
    )
    metadata = publishing.training_metadata(
        "train_mnist_conditional_vae",
        **data.provenance,
        steps=FLAGS.epochs * FLAGS.steps_per_epoch,
        **run,
        history=history,
        full_history=True,
        metrics=measure(model, x_test, y_test),
    )
    name = FLAGS.title or os.path.basename(os.path.normpath(FLAGS.output))
    body = card_body(model, data, metadata["metrics"])
    publishing.publish(model, metadata, name, body)
    # Eight rows, one column per class asked for.
    labels = np.tile(np.eye(len(model.attribute_names), dtype="float32"), (8, 1))
    samples = model.generate(labels, num_samples=len(labels), seed=FLAGS.seed)
    scale = 2 if data.name == "mnist" else 1
    publishing.save_grid(samples, "samples.png", scale=scale)
    # Test images drawn at random: CIFAR-10's held-out split is in class order.
    shown = pick_test_digits(x_test, y_test, GRID_DIGITS, FLAGS.seed)[0]
    publishing.save_grid(swap_grid(model, shown), "swaps.png", scale=scale)


def article(noun: str) -> str:
    """`noun` with its indefinite article: "a digit", "an image"."""
    return f"{'an' if noun[0] in 'aeiou' else 'a'} {noun}"


def describe(model, data: labelled_datasets.LabelledImages) -> str:
    """What the model is, from its class docstring and its config."""
    summary = " ".join(type(model).__doc__.split("\n\n")[0].split())
    channels = list(model.filters)
    kind = "digit" if data.name == "mnist" else "class"
    if isinstance(model, LabelRelevantIrrelevantVAE):
        return (
            f"`{type(model).__name__}`: {summary} A {model.relevant_dim}-d "
            f"label code z_s, one Gaussian per {kind} (Gaussian-mixture loss), "
            f"and a {model.irrelevant_dim}-d style code z_u (KL to N(0, I), "
            "kept label-free by an adversarial classifier); encoders of "
            f"stride-2 4×4 convolutions with channels {channels}, mirrored "
            f"decoder. Each training step runs {model.gm_steps} Gaussian-"
            "mixture updates, one autoencoder update and one classifier "
            "update"
            + (
                ", then one update of a conditional pixel discriminator "
                "(projection, spectral norm, hinge) that also trains the "
                f"decoder on class samples (weight {model.pixel_adversarial_weight})"
                if model.pixel_discriminator
                else ""
            )
            + f". `transform` keeps {article(data.item)}'s z_u and puts in the asked "
            f"{kind}'s mean μ_k; samples draw z_s ~ N(μ_k, σ²_k), z_u ~ N(0, I)."
        )
    return (
        f"`{type(model).__name__}`: {summary} A {model.latent_dim}-d z; "
        f"encoder of stride-2 convolutions with channels {channels} and a "
        f"label head, mirrored decoder on [z, one-hot {kind}]. `transform` "
        f"decodes {article(data.item)}'s posterior mean μ(x) with the asked {kind}'s "
        "label; samples decode z ~ N(0, I) with the asked label."
    )


def usage(data: labelled_datasets.LabelledImages) -> list:
    """The card's code example: a class sampled, images moved to another."""
    first, second = ("7", "3") if data.name == "mnist" else ("cat", "ship")
    plural = f"{data.item}s"
    shape = ", ".join(str(d) for d in data.image_shape)
    return [
        "```python",
        f'model = keras_latent.from_preset("{os.path.basename(FLAGS.output)}")',
        f'samples = model.generate({{"{first}": 1}}, num_samples=16, seed=0)',
        f'edited = model.transform({plural}, {{"{second}": 1}})  '
        f"# {plural}: (N, {shape})",
        "```",
    ]


def card_body(model, data: labelled_datasets.LabelledImages, results) -> str:
    swap, identity = results["swap_accuracy"], results["identity"]
    item, mnist = data.item, data.name == "mnist"
    rows = [
        (
            "class accuracy of samples" + (" (target ≥ 0.97)" if mnist else ""),
            "class_accuracy",
        ),
        (
            "swap accuracy of edits" + (" (target ≥ 0.90)" if mnist else ""),
            "swap_accuracy",
        ),
        ("edit to another class vs own reconstruction, pixel MSE", "identity"),
        ("judge confident share (p > 0.9)", "judge_confident_share"),
        ("inception score (judge)", "inception_score"),
    ]
    classes = len(data.class_names)
    lines = [
        describe(model, data),
        "",
        *usage(data),
        "",
        "Samples, one column per class asked for"
        + (":" if mnist else f" ({', '.join(data.class_names)}):"),
        "",
        "![samples](samples.png)",
        "",
        f"Edits: the first column holds test {item}s, the next {classes} their "
        "`transform` to each class in turn:",
        "",
        "![swaps](swaps.png)",
        "",
        f"| measure | model | real test {item}s |",
        "|---|---|---|",
        *(
            f"| {text} | {results[k]['value']} | {results[k]['real_test']} |"
            for text, k in rows
        ),
        f"| edits still classified as the old class | {swap['still_source_share']} | |",
        f"| edit to the {item}'s own class vs reconstruction, pixel MSE "
        f"| {identity['same_class']} | |",
        f"| reconstruction MSE (test) | {results['reconstruction_mse']['value']} | |",
        f"| classes at least as diverse as real | {results['diversity']['value']} "
        f"| {classes} |",
        f"| FID (judge features) | {results['fid']['value']} | 0 |",
        f"| KID (judge features) | {results['kid']['value']} | 0 |",
        "",
        f"The real test column of the pixel MSE is a test {item} against a real "
        f"{item} of the other class; of the accuracies, the judge's own accuracy"
        + (
            "."
            if mnist
            else f" (`{FLAGS.judge}` reads only about 62% of real CIFAR-10 images "
            "right: its numbers compare models inside the zoo, not with "
            "published CIFAR-10 results)."
        ),
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    app.run(main)

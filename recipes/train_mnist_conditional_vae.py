"""Trains an MNIST attribute-editing VAE and measures its edits with the judge.

    python recipes/train_mnist_conditional_vae.py --model lrlivae \
        --output zoo/mnist_lrlivae
    python recipes/train_mnist_conditional_vae.py --model cvae \
        --output zoo/mnist_cvae
    python recipes/train_mnist_conditional_vae.py --model cvaegan \
        --output zoo/mnist_cvaegan

`lrlivae` is the label-relevant/irrelevant VAE (Zheng & Sun 2019), `cvae`
the conditional VAE with a label head, `cvaegan` the naive cVAE-GAN (the
CVAE with a pixel discriminator), the editing baselines. Each trains on all
60,000 training digits with their labels and edits a digit by
`transform(images, labels)`. Resumes from `--backup_dir` if a run was
interrupted.

The measurements, with the independent `mnist_classifier` judge
(`editing_measures.py`, `generator_measures.py`): the share of samples of
each asked-for digit the judge classifies as that digit (target >= 97%),
the share of test digits transformed to another digit that the judge
classifies as the new digit (target >= 90%), the pixel change an edit makes
beside the model's reconstruction, the test reconstruction error, per-class
diversity against the real test digits, FID/KID/IS on the judge's features.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import publishing  # noqa: E402  (recipes/ is on sys.path when run as a script)
from absl import app, flags  # noqa: E402
from editing_measures import (  # noqa: E402
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
    None, "mnist/mnist.npz", epochs=None, batch_size=64
)
flags.DEFINE_integer(
    "epochs", 20, "Epochs; an epoch is one pass of `steps_per_epoch` steps."
)
publishing.define_sanity_figure_flags(judge="mnist_classifier")
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
flags.DEFINE_integer("swap_digits", 1000, "Test digits transformed to every class.")
flags.DEFINE_integer("diversity_per_class", 500, "Samples per class for diversity.")
flags.DEFINE_string("title", None, "Card title (default: the preset's name).")


def build_model():
    model_class = MODELS[FLAGS.model]
    options = dict(
        image_shape=(28, 28, 1),
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
    x_train, y_train, x_test, y_test = publishing.mnist_floats()
    model = build_model()
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
        **publishing.mnist_provenance(
            len(x_train), len(x_test), " for the measures and the judge's reference"
        ),
        steps=FLAGS.epochs * FLAGS.steps_per_epoch,
        **run,
        history=history,
        full_history=True,
        metrics=measure(model, x_test, y_test),
    )
    name = FLAGS.title or os.path.basename(os.path.normpath(FLAGS.output))
    publishing.publish(model, metadata, name, card_body(model, metadata["metrics"]))
    # Eight rows, one column per digit asked for.
    labels = np.tile(np.eye(len(model.attribute_names), dtype="float32"), (8, 1))
    samples = model.generate(labels, num_samples=len(labels), seed=FLAGS.seed)
    publishing.save_grid(samples, "samples.png", scale=2)
    publishing.save_grid(swap_grid(model, x_test), "swaps.png", scale=2)


def describe(model) -> str:
    """What the model is, from its class docstring and its config."""
    summary = " ".join(type(model).__doc__.split("\n\n")[0].split())
    channels = list(model.filters)
    if isinstance(model, LabelRelevantIrrelevantVAE):
        return (
            f"`{type(model).__name__}`: {summary} A {model.relevant_dim}-d "
            "label code z_s, one Gaussian per digit (Gaussian-mixture loss), "
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
            + ". `transform` keeps a digit's z_u and puts in the asked "
            "digit's mean μ_k; samples draw z_s ~ N(μ_k, σ²_k), z_u ~ N(0, I)."
        )
    return (
        f"`{type(model).__name__}`: {summary} A {model.latent_dim}-d z; "
        f"encoder of stride-2 convolutions with channels {channels} and a "
        "label head, mirrored decoder on [z, one-hot digit]. `transform` "
        "decodes a digit's posterior mean μ(x) with the asked digit's label; "
        "samples decode z ~ N(0, I) with the asked label."
    )


def card_body(model, results) -> str:
    swap, identity = results["swap_accuracy"], results["identity"]
    rows = [
        ("class accuracy of samples (target ≥ 0.97)", "class_accuracy"),
        ("swap accuracy of edits (target ≥ 0.90)", "swap_accuracy"),
        ("edit to another digit vs own reconstruction, pixel MSE", "identity"),
        ("judge confident share (p > 0.9)", "judge_confident_share"),
        ("inception score (judge)", "inception_score"),
    ]
    lines = [
        describe(model),
        "",
        "```python",
        f'model = keras_latent.from_preset("{os.path.basename(FLAGS.output)}")',
        'sevens = model.generate({"7": 1}, num_samples=16, seed=0)',
        'as_threes = model.transform(digits, {"3": 1})  # digits: (N, 28, 28, 1)',
        "```",
        "",
        "Samples, one column per digit asked for:",
        "",
        "![samples](samples.png)",
        "",
        "Edits: the first column holds test digits, the next ten their "
        "`transform` to each digit 0–9:",
        "",
        "![swaps](swaps.png)",
        "",
        "| measure | model | real test digits |",
        "|---|---|---|",
        *(
            f"| {text} | {results[k]['value']} | {results[k]['real_test']} |"
            for text, k in rows
        ),
        f"| edits still classified as the old digit | {swap['still_source_share']} | |",
        f"| edit to the digit's own class vs reconstruction, pixel MSE "
        f"| {identity['same_class']} | |",
        f"| reconstruction MSE (test) | {results['reconstruction_mse']['value']} | |",
        f"| classes at least as diverse as real | {results['diversity']['value']} "
        "| 10 |",
        f"| FID (judge features) | {results['fid']['value']} | 0 |",
        f"| KID (judge features) | {results['kid']['value']} | 0 |",
        "",
        "The real test column of the pixel MSE is a test digit against a real "
        "digit of the other class; of the accuracies, the judge's own accuracy.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    app.run(main)

"""Trains a CelebA attribute editor of Creswell et al. (2017) and measures its edits.

    python recipes/train_celeba_ifcvaegan.py --output zoo/celeba_ifcvaegan
    python recipes/train_celeba_ifcvaegan.py --model cvaegan \
        --output zoo/celeba_cvaegan

`ifcvaegan` is the IFcVAE-GAN (information factorisation: the encoder
defeats an auxiliary network that reads the attributes from ẑ), `cvaegan`
the naive cVAE-GAN baseline (no L_aux, no L̂_class), `cvae` the conditional
VAE with a label head and no discriminator (Adam, `--learning_rate`, its
own summed ELBO). All train on the 64x64 CelebA train split (random
left-right flips) with a multi-label ŷ of the ten attributes Latent
Constraints conditions on (the GANs with RMSprop per player at the
reference code's 1e-3, `--learning_rate`), and edit
a face by decoding its ẑ with the asked attributes set.

The weights follow the reference code's scale, not only the paper's
symbols. That code divides L_rec by the 4,096 pixel positions, averages
L_KL over z's dimensions, and sums L_rec, L_KL and L_gan over the batch
while it averages L_class, L̂_class and L_aux. With the model's per-face
means this is λ = B / 4,096, α B / n_z for the KL and δ B for L_gan, with
ρ, β and L_aux's 1 as they are (`--alpha`, `--delta` are the paper's α,
δ; B the batch size). Without it the summed reconstruction error (about
6,000 nats a face) leaves L_aux, L_class and L_gan no say.

The measures (`keras_latent.evaluate(metrics=["edits"])` on the 780 val
faces, the independent `celeba_attribute_classifier` judge): Creswell's
Table 1 (Smiling: the val faces that smile edited to not smiling, Class0,
and to smiling, Class1; MSE their reconstruction error), the flip rate per
attribute (each face edited to the opposite of its own label), the identity
MSE of an edit against the model's own reconstruction, and seconds per
edit. `creswell_table.py` trains the five rows of Table 1 with this recipe.
Resumes from `--backup_dir` if a run was interrupted.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import publishing  # noqa: E402  (recipes/ is on sys.path when run as a script)
from absl import app, flags  # noqa: E402
from editing_measures import attribute_edit_grid  # noqa: E402

import keras_latent  # noqa: E402
from keras_latent import datasets  # noqa: E402
from keras_latent.models import CVAE, CVAEGAN, IFcVAEGAN  # noqa: E402
from keras_latent.optimizers import Adam  # noqa: E402

MODELS = {"ifcvaegan": IFcVAEGAN, "cvaegan": CVAEGAN, "cvae": CVAE}
# Creswell et al.'s Table 1 is about this attribute.
TABLE_ATTRIBUTE = "Smiling"

FLAGS = publishing.define_training_flags(None, "celeba64/", epochs=None, batch_size=64)
flags.DEFINE_enum("model", "ifcvaegan", list(MODELS), "Which editor.")
flags.DEFINE_integer("epochs", 20, "Epochs of `steps_per_epoch` steps.")
flags.DEFINE_integer("steps_per_epoch", 250, "Training steps per epoch.")
flags.DEFINE_list(
    "attributes", publishing.CELEBA_CONDITIONING_ATTRIBUTES, "Attributes of ŷ."
)
flags.DEFINE_integer("latent_dim", 200, "n_z, the dimension of ẑ.")
flags.DEFINE_list("filters", ["32", "64", "128", "256"], "Encoder channels.")
flags.DEFINE_list("critic_filters", ["32", "64", "128", "256"], "C's channels.")
flags.DEFINE_float("alpha", 0.2, "α, the KL weight (per z dimension).")
flags.DEFINE_float("rho", 0.1, "ρ, the weight of L_class.")
flags.DEFINE_float("delta", 0.1, "δ, the weight of L_gan.")
flags.DEFINE_float("beta", 0.0, "ifcvaegan: β, the weight of L̂_class (0: off).")
flags.DEFINE_bool(
    "information_factorization", True, "ifcvaegan: whether E's loss has −L_aux."
)
flags.DEFINE_float(
    "learning_rate",
    1e-3,
    "RMSprop's for each GAN player (the reference code's 1e-3; the paper "
    "names no rate), Adam's for cvae.",
)
flags.DEFINE_string("judge", "celeba_attribute_classifier", "Attribute judge.")
flags.DEFINE_integer("edit_faces", 780, "Val faces edited for the measures.")
flags.DEFINE_string("title", None, "Card title (default: the preset's name).")
flags.DEFINE_integer("limit", None, "Use only this many train images (smoke runs).")


def build_model(names):
    if FLAGS.model == "cvae":
        model = CVAE(
            image_shape=(64, 64, 3),
            attribute_names=names,
            label_type="multi_label",
            latent_dim=FLAGS.latent_dim,
            filters=[int(f) for f in FLAGS.filters],
            seed=FLAGS.seed,
        )
        model.compile(optimizer=Adam(FLAGS.learning_rate))
        return model
    options = dict(
        image_shape=(64, 64, 3),
        attribute_names=names,
        label_type="multi_label",
        latent_dim=FLAGS.latent_dim,
        architecture="conv",
        filters=[int(f) for f in FLAGS.filters],
        critic_filters=[int(f) for f in FLAGS.critic_filters],
        # The reference code's scale (module docstring).
        reconstruction_weight=FLAGS.batch_size / (64 * 64),
        kl_weight=FLAGS.alpha * FLAGS.batch_size / FLAGS.latent_dim,
        label_weight=FLAGS.rho,
        adversarial_weight=FLAGS.delta * FLAGS.batch_size,
        seed=FLAGS.seed,
    )
    if FLAGS.model == "ifcvaegan":
        options.update(
            information_factorization=FLAGS.information_factorization,
            label_reconstruction_weight=FLAGS.beta,
        )
    model = MODELS[FLAGS.model](**options)
    # RMSprop per player, the paper's optimizer, at the reference code's rate.
    model.compile(
        optimizer={
            player: keras.optimizers.RMSprop(FLAGS.learning_rate)
            for player in model.players()
        }
    )
    return model


def measure(model, names) -> dict:
    """The edit protocol on the first `--edit_faces` val faces."""
    x_val, y_val, _ = datasets.celeba_arrays("val", names, data_dir=FLAGS.data_dir)
    count = min(FLAGS.edit_faces, len(x_val))
    report = keras_latent.evaluate(
        model,
        metrics=["edits"],
        data=(x_val[:count], y_val[:count].astype("float32"), names),
        num_samples=count,
        judge=FLAGS.judge,
        seed=FLAGS.seed,
    )
    edits = report["results"]["edits"]
    table = edits["per_attribute"][TABLE_ATTRIBUTE]
    protocol = report["protocol"]["metrics"]["edits"]
    results = {
        "creswell_table_1": {
            "value": {k: table[k] for k in ("mse", "class0", "class1", "support")},
            "protocol": f"Creswell et al. 2017 Table 1 on {TABLE_ATTRIBUTE}: the "
            f"{table['support']} of the first {count} val faces that smile, "
            "edited to 0 (Class0: share the judge reads as not smiling) and to 1 "
            "(Class1: share read as smiling); MSE: their reconstruction error; "
            + protocol,
        },
        "flip_rate": {
            "value": round(edits["flip_rate"], 4),
            "per_attribute": {
                n: round(s["flip_rate"], 4) for n, s in edits["per_attribute"].items()
            },
            "protocol": protocol,
        },
        "identity_mse": {
            "value": round(edits["identity_mse"], 5),
            "protocol": protocol,
        },
        "seconds_per_edit": {
            "value": round(edits["seconds_per_edit"], 5),
            "protocol": "wall seconds of `transform` per edit, "
            + publishing.hardware(),
        },
        "edits": {"value": edits["per_attribute"], "protocol": protocol},
    }
    for name in ("creswell_table_1", "flip_rate", "identity_mse", "seconds_per_edit"):
        print(f"{name}: {results[name]['value']}")
    return results


def edit_grid(model, names, count: int = 8) -> np.ndarray:
    """The card's figure: `count` val faces, each attribute flipped."""
    x_val, y_val, _ = datasets.celeba_arrays("val", names, data_dir=FLAGS.data_dir)
    faces = x_val[:count].astype("float32") / 255.0
    return attribute_edit_grid(model, faces, y_val[:count].astype("float32"), names)


def describe(model) -> str:
    """What the model is and how it was weighted, for the card."""
    if isinstance(model, CVAE):
        return (
            "A 64x64 CelebA conditional VAE (Sohn et al. 2015) with a label "
            "head, the editing baseline of Creswell et al. (2017) without a "
            f"discriminator. Encoder of stride-2 convolutions with channels "
            f"{list(model.filters)} to a {model.latent_dim}-d z and a sigmoid "
            f"head for {len(model.attribute_names)} attributes "
            f"({', '.join(model.attribute_names)}); decoder D(z, y) mirrored; "
            f"summed Bernoulli ELBO plus the head's cross-entropy, "
            f"Adam({FLAGS.learning_rate})."
        )
    if isinstance(model, CVAEGAN):
        kind = "the naive cVAE-GAN (no L_aux, no L̂_class): nothing keeps label "
        kind += "information out of ẑ"
    else:
        switches = []
        if not model.information_factorization:
            switches.append("without L_aux")
        if model.label_reconstruction:
            switches.append(f"with L̂_class (β = {FLAGS.beta})")
        kind = "IFcVAE-GAN" + (f" ({', '.join(switches)})" if switches else "")
        if model.information_factorization:
            kind += ": the encoder defeats an auxiliary network that reads the "
            kind += "attributes from ẑ"
    return (
        f"A 64x64 CelebA attribute editor of Creswell, Bharath & Sengupta "
        f"(2017), {kind}. Encoder of stride-2 convolutions with channels "
        f"{list(model.filters)} to a {model.latent_dim}-d ẑ and a sigmoid head "
        f"ŷ for {len(model.attribute_names)} attributes "
        f"({', '.join(model.attribute_names)}); decoder D(ẑ, y) mirrored; pixel "
        f"discriminator with channels {list(model.critic_filters)}. α = "
        f"{FLAGS.alpha}, ρ = {FLAGS.rho}, δ = {FLAGS.delta}, "
        f"RMSprop({FLAGS.learning_rate}) per player; the terms weighted as "
        "the reference code weighs them "
        "(reconstruction per pixel position, KL per ẑ dimension, "
        "reconstruction, KL and GAN terms summed over the batch)."
    )


def number(value) -> str:
    """A measure for a table; None (no val face has the attribute) as n/a."""
    return "n/a" if value is None else f"{value:.4g}"


def card_body(model, results) -> str:
    table = results["creswell_table_1"]["value"]
    name = os.path.basename(os.path.normpath(FLAGS.output))
    per = results["flip_rate"]["per_attribute"]
    lines = [
        describe(model),
        "",
        "```python",
        f'model = keras_latent.from_preset("{name}")',
        'smiling = model.transform(faces, {"Smiling": 1})  # faces: (N, 64, 64, 3)',
        'samples = model.generate({"Eyeglasses": 1}, num_samples=16, seed=0)',
        "```",
        "",
        "Edits of val faces: each row a face, its reconstruction, then each "
        "attribute set to the opposite of the face's label, in the order above:",
        "",
        "![edits](edits.png)",
        "",
        f"Creswell et al.'s Table 1 on {TABLE_ATTRIBUTE} ({table['support']} val "
        "faces that smile; the paper's best model: MSE 0.028, Class0 0.813, "
        "Class1 1.000):",
        "",
        "| MSE | Class0 | Class1 |",
        "|---|---|---|",
        "| " + " | ".join(number(table[k]) for k in ("mse", "class0", "class1")) + " |",
        "",
        f"Flip rate over the {len(per)} attributes (each val face edited to the "
        f"opposite of its label, read by `{FLAGS.judge}`): "
        f"**{results['flip_rate']['value']}**, identity MSE (edit vs own "
        f"reconstruction) {results['identity_mse']['value']}, "
        f"{1000 * results['seconds_per_edit']['value']:.2f} ms per edit.",
        "",
        "| attribute | flip rate |",
        "|---|---|",
        *(f"| {n} | {v} |" for n, v in per.items()),
    ]
    return "\n".join(lines)


def main(argv):
    del argv
    keras.utils.set_random_seed(FLAGS.seed)
    if FLAGS.backup_dir is None:
        FLAGS.backup_dir = f"runs/{os.path.basename(os.path.normpath(FLAGS.output))}"
    names = list(FLAGS.attributes)
    x, y, _ = datasets.celeba_arrays("train", names, data_dir=FLAGS.data_dir)
    x, y = x[: FLAGS.limit], y[: FLAGS.limit].astype("float32")
    model = build_model(names)
    # `fit` on batches does not see the labels up front: the marginals that
    # `generate(attributes=None)` and C's samples draw from are set here.
    model.set_label_prior(y)
    # uint8 in memory; NumPy batches, so it runs on any backend without TF.
    train = datasets.ArrayBatches(
        x, y, batch_size=FLAGS.batch_size, flip=True, seed=FLAGS.seed
    )
    history, run = publishing.fit(
        model, train, steps_per_epoch=FLAGS.steps_per_epoch, shuffle=False
    )
    metadata = publishing.training_metadata(
        "train_celeba_ifcvaegan",
        data=publishing.read_from(
            f"CelebA 64x64 train split ({len(x):,} images, each flipped "
            "left-right at random)",
            "celeba64/",
        ),
        split={"train": "train", "report": "val (the edit measures)"},
        steps=FLAGS.epochs * FLAGS.steps_per_epoch,
        **run,
        history=history,
        metrics=measure(model, names),
    )
    title = FLAGS.title or os.path.basename(os.path.normpath(FLAGS.output))
    publishing.publish(model, metadata, title, card_body(model, metadata["metrics"]))
    publishing.save_grid(edit_grid(model, names), "edits.png")


if __name__ == "__main__":
    app.run(main)

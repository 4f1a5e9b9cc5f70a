"""The edit protocol (`evaluate(..., metrics=["edits"])`).

Fake editors and judges whose outcome is known let the tests check the
arithmetic exactly: an image is two uniform halves, "left" and "right", whose
brightness is the attribute; the fake judge reads each half's mean, and the
fake editor paints the top half of the edited side (0.8 for 1, 0.2 for 0),
so an edit works or fails depending on the bottom half it leaves.
"""

import json

import numpy as np
import pytest

from keras_latent import cli
from keras_latent.evaluation import EDIT_THRESHOLD, METRICS, evaluate, format_table
from keras_latent.models import CVAE, VAE, ImageClassifier

IMAGE_SHAPE = (8, 8, 1)
HALVES = {"left": slice(0, 4), "right": slice(4, 8)}
# (left, right) brightness of each reference image; above 0.5 = has it.
BRIGHTNESS = [(0.1, 0.9), (0.3, 0.7), (0.7, 0.1), (0.9, 0.3), (0.9, 0.9), (0.3, 0.1)]


def half_images(brightness=BRIGHTNESS):
    images = np.zeros((len(brightness), *IMAGE_SHAPE), "float32")
    for i, (left, right) in enumerate(brightness):
        images[i, :, HALVES["left"]] = left
        images[i, :, HALVES["right"]] = right
    labels = (np.asarray(brightness) > 0.5).astype("int64")
    return images, labels


class HalfJudge(ImageClassifier):
    """A multi-label judge whose probability of a half is its mean brightness."""

    def __init__(self):
        super().__init__(
            image_shape=IMAGE_SHAPE,
            # Another order than the model's, and one more: matched by name.
            class_names=["right", "other", "left"],
            multi_label=True,
            filters=(4,),
            dense_units=8,
        )

    def predict_proba(self, images, batch_size=256):
        images = np.asarray(images)
        return np.stack(
            [
                images[:, :, HALVES["right"]].mean(axis=(1, 2, 3)),
                np.zeros(len(images)),
                images[:, :, HALVES["left"]].mean(axis=(1, 2, 3)),
            ],
            axis=1,
        ).astype("float32")


class HalfEditor:
    """Paints the top of the edited half; reconstructs as 0.9 × the image."""

    image_shape = IMAGE_SHAPE
    attribute_names = ["left", "right"]
    label_type = "multi_label"

    def __init__(self):
        self.calls = []

    def generate(self, num_samples, seed=None, attributes=None):
        return np.zeros((num_samples, *IMAGE_SHAPE), "float32")

    def reconstruct(self, images):
        return 0.9 * np.asarray(images)

    def transform(self, images, attributes):
        self.calls.append((len(images), dict(attributes)))
        edited = np.array(images, copy=True)
        for name, value in attributes.items():
            edited[:, :4, HALVES[name]] = 0.8 if value else 0.2
        return edited


def edited_mse(brightness, name, value):
    """MSE between the image edited to `value` and its reconstruction."""
    left, right = brightness
    edited, kept = (left, right) if name == "left" else (right, left)
    top = 0.8 if value else 0.2
    # Of 64 pixels: 16 painted, 16 kept of the edited half, 32 of the other.
    return (16 * (top - 0.9 * edited) ** 2 + 16 * (0.1 * edited) ** 2) / 64 + (
        32 * (0.1 * kept) ** 2
    ) / 64


def run_edits(model, data, judge=None, **kwargs):
    kwargs = {"num_samples": 100, "batch_size": 4, "verbose": False, **kwargs}
    return evaluate(
        model, metrics=["edits"], data=data, judge=judge or HalfJudge(), **kwargs
    )


def test_edits_is_a_metric_but_not_a_default():
    from keras_latent.evaluation import DEFAULT_METRICS

    assert "edits" in METRICS and "edits" not in DEFAULT_METRICS
    assert EDIT_THRESHOLD == 0.5


def test_flip_rate_identity_and_creswell_scores_by_hand():
    images, labels = half_images()
    model = HalfEditor()
    report = run_edits(model, (images, labels, ["left", "right"]))
    edits = report["results"]["edits"]
    # Edit to 1 works when (0.8 + h) / 2 > 0.5 (h > 0.2); to 0 when
    # (0.2 + h) / 2 <= 0.5 (h <= 0.8). Left flips: 0.1 ✗, 0.3 ✓, 0.7 ✓,
    # 0.9 ✗, 0.9 ✗, 0.3 ✓; right flips: 0.9 ✗, 0.7 ✓, 0.1 ✗, 0.3 ✓, 0.9 ✗,
    # 0.1 ✗.
    left, right = edits["per_attribute"]["left"], edits["per_attribute"]["right"]
    assert left["flip_rate"] == pytest.approx(3 / 6)
    assert right["flip_rate"] == pytest.approx(2 / 6)
    assert edits["flip_rate"] == pytest.approx((3 / 6 + 2 / 6) / 2)
    # Class0 on the images with the attribute (left: 0.7 ✓, 0.9 ✗, 0.9 ✗;
    # right: 0.9 ✗, 0.7 ✓, 0.9 ✗); every edit to 1 of them works.
    assert (left["class0"], left["class1"]) == pytest.approx((1 / 3, 1.0))
    assert (right["class0"], right["class1"]) == pytest.approx((1 / 3, 1.0))
    assert left["support"] == right["support"] == 3

    def reconstruction_mse(rows):
        return np.mean(
            [0.01 * (BRIGHTNESS[i][0] ** 2 + BRIGHTNESS[i][1] ** 2) / 2 for i in rows]
        )

    assert left["mse"] == pytest.approx(reconstruction_mse([2, 3, 4]))
    assert right["mse"] == pytest.approx(reconstruction_mse([0, 1, 4]))
    for j, name in enumerate(["left", "right"]):
        expected = [
            edited_mse(b, name, 1 - y) for b, y in zip(BRIGHTNESS, labels[:, j])
        ]
        assert edits["per_attribute"][name]["identity_mse"] == pytest.approx(
            np.mean(expected)
        )
    assert edits["identity_mse"] == pytest.approx(
        np.mean([left["identity_mse"], right["identity_mse"]])
    )
    # Per batch (4 + 2 images) and attribute: the images with it to 0, then
    # every image to 1 (flips of the others, Class1 of those).
    assert model.calls == [
        (2, {"left": 0}),
        (4, {"left": 1}),
        (2, {"right": 0}),
        (4, {"right": 1}),
        (1, {"left": 0}),
        (2, {"left": 1}),
        (1, {"right": 0}),
        (2, {"right": 1}),
    ]
    assert edits["num_edits"] == 2 * 6 + 3 + 3
    assert edits["num_images"] == 6
    assert edits["seconds_per_edit"] >= 0.0
    assert edits["label_type"] == "multi_label"


def test_protocol_of_the_edits():
    images, labels = half_images()
    report = run_edits(HalfEditor(), (images, labels, ["left", "right"]), seed=4)
    assert list(report["results"]) == ["edits"]
    protocol = report["protocol"]
    record = protocol["edits"]
    assert record["num_images"] == 6
    assert record["reference"] == "array of 6 images"
    assert record["threshold"] == 0.5
    assert record["seed"] == 4
    assert record["judge"] == "HalfJudge"
    assert record["attributes"] == ["left", "right"]
    assert record["method"] is None
    assert "Creswell" in record["class0_class1"]
    # Nothing is generated for the edits.
    assert protocol["num_fake"] == 0
    assert protocol["generation"].startswith("none")
    assert "threshold 0.5" in protocol["metrics"]["edits"]
    assert "first 6 images" in protocol["metrics"]["edits"]
    assert json.loads(json.dumps(report)) == report


def test_at_most_num_samples_reference_images_are_edited():
    images, labels = half_images()
    model = HalfEditor()
    report = run_edits(model, (images, labels, ["left", "right"]), num_samples=3)
    edits = report["results"]["edits"]
    assert edits["num_images"] == 3
    assert report["protocol"]["edits"]["images"] == "the first 3 of 6"
    # Left flips of 0.1, 0.3, 0.7: ✗ ✓ ✓. Right: 0.9, 0.7, 0.1: ✗ ✓ ✗.
    assert edits["per_attribute"]["left"]["flip_rate"] == pytest.approx(2 / 3)
    assert edits["per_attribute"]["right"]["flip_rate"] == pytest.approx(1 / 3)
    assert sum(count for count, _ in model.calls) == 2 * 3 + 1 + 2


def test_an_attribute_no_image_has_gets_no_creswell_scores():
    images, labels = half_images([(0.1, 0.9), (0.3, 0.7)])
    edits = run_edits(HalfEditor(), (images, labels, ["left", "right"]))["results"][
        "edits"
    ]
    left = edits["per_attribute"]["left"]
    assert left["support"] == 0
    assert left["class0"] is left["class1"] is left["mse"] is None
    assert left["flip_rate"] == pytest.approx(1 / 2)
    table = format_table({"results": {"edits": edits}})
    assert "| edits[left] Class0 / Class1 / MSE | n/a / n/a / n/a |  |" in table


# Categorical: three classes, drawn as the image's brightness.
CLASSES = ["a", "b", "c"]


class ClassJudge(ImageClassifier):
    """A single-label judge: the class is the brightness third."""

    def __init__(self, multi_label=False):
        super().__init__(
            image_shape=IMAGE_SHAPE,
            class_names=CLASSES,
            multi_label=multi_label,
            filters=(4,),
            dense_units=8,
        )

    def predict_proba(self, images, batch_size=256):
        level = np.asarray(images).mean(axis=(1, 2, 3))
        classes = np.minimum((level * 3).astype(int), 2)
        return np.eye(3, dtype="float32")[classes]


class ClassEditor:
    """Paints the target class's brightness; fails to make a "c"."""

    image_shape = IMAGE_SHAPE
    attribute_names = CLASSES
    label_type = "categorical"

    def __init__(self):
        self.targets = []

    def generate(self, num_samples, seed=None, attributes=None):
        return np.zeros((num_samples, *IMAGE_SHAPE), "float32")

    def reconstruct(self, images):
        return 0.9 * np.asarray(images)

    def transform(self, images, attributes):
        ((name, value),) = attributes.items()
        assert value == 1
        self.targets.append((len(images), name))
        # A "c" comes out as a "b".
        level = (min(CLASSES.index(name), 1) + 0.5) / 3
        return np.full((len(images), *IMAGE_SHAPE), level, "float32")


def class_images(count=12):
    classes = np.arange(count) % 3
    images = np.broadcast_to(
        ((classes + 0.5) / 3)[:, None, None, None], (count, *IMAGE_SHAPE)
    ).astype("float32")
    return images, classes


@pytest.mark.parametrize("one_hot", [False, True])
def test_categorical_flips_to_another_class(one_hot):
    images, classes = class_images()
    data = (images, classes)
    if one_hot:
        # One-hot rows with their names, in another order than the model's.
        data = (images, np.eye(3)[2 - classes], ["c", "b", "a"])
    model = ClassEditor()
    report = run_edits(model, data, judge=ClassJudge(), seed=7, batch_size=5)
    edits = report["results"]["edits"]
    assert edits["label_type"] == "categorical"
    assert "per_attribute" not in edits and "class0" not in str(edits)
    # Grouped by target class per batch; no image is "edited" to its class.
    targets = [name for count, name in model.targets for _ in range(count)]
    assert len(targets) == edits["num_edits"] == 12
    per_class = edits["per_class"]
    assert per_class["c"]["flip_rate"] in (0.0, None)
    counts = {c: per_class[c]["support"] for c in CLASSES}
    assert sum(counts.values()) == 12
    assert counts == {c: targets.count(c) for c in CLASSES}
    assert edits["flip_rate"] == pytest.approx(1 - counts["c"] / 12)
    for c in ("a", "b"):
        assert per_class[c]["flip_rate"] in (1.0, None)
    record = report["protocol"]["edits"]
    assert record["class0_class1"].startswith("not applicable")
    assert record["seed"] == 7
    again = run_edits(ClassEditor(), data, judge=ClassJudge(), seed=7, batch_size=5)
    assert again["results"]["edits"]["per_class"] == per_class


def test_categorical_targets_are_never_the_own_class():
    images, classes = class_images(30)
    seen = []

    class Recording(ClassEditor):
        def transform(self, images, attributes):
            (name,) = attributes
            seen.append((np.asarray(images).mean(axis=(1, 2, 3)), name))
            return super().transform(images, attributes)

    report = run_edits(Recording(), (images, classes), judge=ClassJudge(), seed=1)
    for levels, name in seen:
        own = np.minimum((levels * 3).astype(int), 2)
        assert CLASSES.index(name) not in own
    edits = report["results"]["edits"]
    # Every edit is compared with 0.9 × its image.
    expected = []
    for levels, name in seen:
        target = (min(CLASSES.index(name), 1) + 0.5) / 3
        expected += list((target - 0.9 * levels) ** 2)
    assert edits["identity_mse"] == pytest.approx(np.mean(expected))
    # A multi-label judge reads the target's probability instead.
    multi = run_edits(
        ClassEditor(), (images, classes), judge=ClassJudge(multi_label=True), seed=1
    )
    assert multi["results"]["edits"]["flip_rate"] == pytest.approx(edits["flip_rate"])


def test_edit_method_reaches_a_transform_that_takes_it():
    images, labels = half_images()

    class WithMethod(HalfEditor):
        def transform(self, images, attributes, method="actor"):
            self.methods = getattr(self, "methods", set()) | {method}
            return super().transform(images, attributes)

    data = (images, labels, ["left", "right"])
    model = WithMethod()
    report = run_edits(model, data)
    assert model.methods == {"actor"}
    assert report["protocol"]["edits"]["method"] == "actor"
    model = WithMethod()
    report = run_edits(model, data, edit_method="optimize")
    assert model.methods == {"optimize"}
    assert report["protocol"]["edits"]["method"] == "optimize"
    assert "method='optimize'" in report["protocol"]["metrics"]["edits"]

    with pytest.raises(ValueError, match="takes `method`"):
        run_edits(HalfEditor(), data, edit_method="optimize")
    with pytest.raises(ValueError, match="'edits' metric only"):
        evaluate(HalfEditor(), ["fid"], data, 8, judge=HalfJudge(), edit_method="x")


def test_edit_errors():
    images, labels = half_images()
    data = (images, labels, ["left", "right"])
    vae = VAE(image_shape=IMAGE_SHAPE, latent_dim=2, hidden_units=(8,), seed=0)
    with pytest.raises(ValueError, match=r"'edits' metric .* this VAE has no"):
        run_edits(vae, data)

    narrow = ImageClassifier(
        image_shape=IMAGE_SHAPE,
        class_names=["left", "up"],
        multi_label=True,
        filters=(4,),
        dense_units=8,
    )
    with pytest.raises(ValueError, match=r"the judge lacks \['right'\]"):
        run_edits(HalfEditor(), data, judge=narrow)

    single = ImageClassifier(
        image_shape=IMAGE_SHAPE,
        class_names=["left", "right"],
        filters=(4,),
        dense_units=8,
    )
    with pytest.raises(ValueError, match="multi-label .* judge"):
        run_edits(HalfEditor(), data, judge=single)
    with pytest.raises(ValueError, match="labels of the reference images"):
        run_edits(HalfEditor(), images)
    with pytest.raises(ValueError, match="lacks"):
        run_edits(HalfEditor(), (images, labels, ["left", "up"]))

    digits, classes = class_images(6)
    with pytest.raises(ValueError, match="hold classes 0 to 5; the model has 3"):
        run_edits(ClassEditor(), (digits, np.arange(6)), judge=ClassJudge())


def test_format_table_shows_the_edit_rows():
    images, labels = half_images()
    report = run_edits(HalfEditor(), (images, labels, ["left", "right"]))
    lines = format_table(report).splitlines()
    assert any(
        line.startswith("| edits flip rate | 0.4167 | flip rate:") for line in lines
    )
    assert any(line.startswith("| edits identity MSE |") for line in lines)
    assert any(line.startswith("| edits seconds per image |") for line in lines)
    assert "| edits[left] flip rate / identity MSE | 0.5 / " in "\n".join(lines)
    assert "| edits[right] Class0 / Class1 / MSE | 0.3333 / 1 / " in "\n".join(lines)

    images, classes = class_images()
    report = run_edits(ClassEditor(), (images, classes), judge=ClassJudge())
    table = format_table(report)
    assert "| edits[a] flip rate / identity MSE |" in table
    assert "Class0" not in table


# A real editor: a tiny multi-label CVAE on 8×8×3 faces.
NAMES = ["Smiling", "Eyeglasses"]


def tiny_cvae():
    return CVAE(
        image_shape=(8, 8, 3),
        attribute_names=NAMES,
        label_type="multi_label",
        latent_dim=3,
        architecture="mlp",
        hidden_units=(16,),
        seed=1,
    )


def tiny_face_judge():
    return ImageClassifier(
        image_shape=(8, 8, 3),
        class_names=["Eyeglasses", "Bangs", "Smiling"],
        multi_label=True,
        filters=(4,),
        dense_units=8,
    )


def faces(count=16):
    rng = np.random.default_rng(0)
    images = rng.random((count, 8, 8, 3)).astype("float32")
    labels = rng.integers(0, 2, (count, 3))
    return images, labels, ["Bangs", "Smiling", "Eyeglasses"]


def test_a_real_cvae_through_evaluate():
    images, labels, names = faces()
    report = evaluate(
        tiny_cvae(),
        metrics=["fid", "edits"],
        data=(images, labels, names),
        num_samples=10,
        judge=tiny_face_judge(),
        batch_size=8,
        verbose=False,
    )
    results, protocol = report["results"], report["protocol"]
    assert list(results) == ["fid", "edits"]
    edits = results["edits"]
    assert set(edits) == {
        "label_type",
        "num_images",
        "num_edits",
        "seconds_per_edit",
        "flip_rate",
        "identity_mse",
        "per_attribute",
    }
    assert list(edits["per_attribute"]) == NAMES
    assert edits["num_images"] == 10
    smiling = labels[:10, 1].sum()
    eyeglasses = labels[:10, 2].sum()
    assert edits["num_edits"] == 2 * 10 + smiling + eyeglasses
    assert 0.0 <= edits["flip_rate"] <= 1.0
    assert edits["identity_mse"] >= 0.0 and edits["seconds_per_edit"] > 0.0
    for name, column in zip(NAMES, (1, 2)):
        scores = edits["per_attribute"][name]
        assert scores["support"] == labels[:10, column].sum()
        for key in ("flip_rate", "class0", "class1"):
            assert 0.0 <= scores[key] <= 1.0
        assert scores["mse"] > 0.0
    # Generation for FID, reference images for the edits.
    assert protocol["num_fake"] == 10
    assert protocol["edits"]["judge"] == "ImageClassifier"
    assert set(protocol["metrics"]) == {"fid", "edits"}
    assert json.loads(json.dumps(report)) == report


@pytest.mark.parametrize("name", ["CVAE", "LabelRelevantIrrelevantVAE"])
def test_a_real_categorical_editor(name):
    from keras_latent import models

    images, classes = class_images(9)
    common = dict(image_shape=IMAGE_SHAPE, attribute_names=CLASSES, seed=0)
    if name == "CVAE":
        model = CVAE(latent_dim=2, architecture="mlp", hidden_units=(8,), **common)
    else:
        model = models.LabelRelevantIrrelevantVAE(
            relevant_dim=2, irrelevant_dim=2, filters=(4,), **common
        )
    report = run_edits(model, (images, classes), judge=ClassJudge())
    edits = report["results"]["edits"]
    assert edits["num_edits"] == 9
    assert set(edits["per_class"]) == set(CLASSES)
    assert 0.0 <= edits["flip_rate"] <= 1.0


def test_a_real_latent_constraints_model_records_its_method():
    from keras_latent.models import LatentConstraints

    images, labels = half_images()
    model = LatentConstraints(
        vae=VAE(image_shape=IMAGE_SHAPE, latent_dim=3, hidden_units=(16,), seed=1),
        attribute_names=["left", "right"],
        critic_units=(8,),
        actor_units=(8,),
        # Untrained: they read the attributes that an edit leaves alone.
        attribute_critics=[{"attribute_names": ["left", "right"], "hidden_units": [4]}],
        seed=0,
    )
    report = run_edits(model, (images, labels, ["left", "right"]))
    assert report["protocol"]["edits"]["method"] == "optimize"  # transform's default
    edits = report["results"]["edits"]
    assert edits["num_edits"] == 2 * 6 + 3 + 3
    assert 0.0 <= edits["flip_rate"] <= 1.0


def test_cli_evaluates_the_edits_of_a_preset(tmp_path, capsys):
    tiny_cvae().save_to_preset(tmp_path / "cvae")
    tiny_face_judge().save_to_preset(tmp_path / "judge")
    images, labels, names = faces()
    np.savez(
        tmp_path / "faces.npz",
        images=np.round(images * 255).astype("uint8"),
        labels=labels,
        label_names=names,
    )
    common = [
        "evaluate",
        str(tmp_path / "cvae"),
        "--metrics",
        "edits",
        "-n",
        "8",
        "--batch-size",
        "4",
        "--data",
        str(tmp_path / "faces.npz"),
        "--judge",
        str(tmp_path / "judge"),
        "--quiet",
    ]
    out = tmp_path / "report.json"
    assert cli.main([*common, "--json", str(out)]) == 0, capsys.readouterr().err
    printed = capsys.readouterr().out
    assert "| edits flip rate |" in printed
    assert "| edits[Smiling] Class0 / Class1 / MSE |" in printed
    report = json.loads(out.read_text())
    assert list(report["results"]) == ["edits"]
    assert report["results"]["edits"]["num_images"] == 8
    assert report["protocol"]["edits"]["judge"] == str(tmp_path / "judge")

    assert cli.main([*common, "--edit-method", "optimize"]) == 2
    assert "takes `method`" in capsys.readouterr().err

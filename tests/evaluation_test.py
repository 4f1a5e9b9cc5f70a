import json

import numpy as np
import pytest

import keras_latent
from keras_latent import evaluation
from keras_latent.evaluation import evaluate, format_table
from keras_latent.models import VAE, ImageClassifier

IMAGE_SHAPE = (8, 8, 1)
CLASSES = ["stripes_h", "stripes_v", "blob"]


def pattern_images(count, seed=0):
    """Three classes of 8×8 patterns (horizontal / vertical stripes, a blob)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:8, 0:8].astype("float32")
    labels = np.arange(count) % 3
    images = []
    for label in labels:
        phase = rng.uniform(0, 2 * np.pi)
        if label == 0:
            image = 0.5 + 0.4 * np.sin(yy * 1.5 + phase)
        elif label == 1:
            image = 0.5 + 0.4 * np.sin(xx * 1.5 + phase)
        else:
            radius = rng.uniform(1.5, 3.5)
            image = np.exp(-((yy - 3.5) ** 2 + (xx - 3.5) ** 2) / radius**2)
        images.append(image)
    images = np.stack(images)[..., None] + rng.normal(0, 0.05, (count, 8, 8, 1))
    return np.clip(images, 0, 1).astype("float32"), labels


def tiny_judge(multi_label=False, class_names=CLASSES):
    return ImageClassifier(
        image_shape=IMAGE_SHAPE,
        class_names=class_names,
        multi_label=multi_label,
        filters=(4,),
        dense_units=16,
        dropout=0.0,
    )


def tiny_vae():
    return VAE(image_shape=IMAGE_SHAPE, latent_dim=3, hidden_units=(16,), seed=1)


class Replay:
    """A "generator" that hands out the given images in order."""

    image_shape = IMAGE_SHAPE

    def __init__(self, images):
        self.images = images
        self.cursor = 0
        self.calls = []

    def generate(self, num_samples, seed=None):
        self.calls.append((num_samples, seed))
        batch = self.images[self.cursor : self.cursor + num_samples]
        self.cursor += num_samples
        return batch


class Noise:
    image_shape = IMAGE_SHAPE

    def generate(self, num_samples, seed=None):
        rng = np.random.default_rng(seed)
        return rng.random((num_samples, *IMAGE_SHAPE)).astype("float32")


class Constant:
    image_shape = IMAGE_SHAPE

    def generate(self, num_samples, seed=None):
        return np.full((num_samples, *IMAGE_SHAPE), 0.5, "float32")


class Conditional:
    """Takes attribute vectors; draws them as the brightness of two halves."""

    image_shape = IMAGE_SHAPE

    def __init__(self):
        self.received = []

    def generate(self, num_samples, seed=None, attributes=None):
        self.received.append(np.asarray(attributes))
        images = np.zeros((num_samples, *IMAGE_SHAPE), "float32")
        images[:, :4] = attributes[:, :1, None, None]
        images[:, 4:] = attributes[:, 1:2, None, None]
        return images


@pytest.fixture
def real():
    return pattern_images(48)


def test_report_structure_and_protocol(real):
    images, labels = real
    report = evaluate(
        tiny_vae(),
        data=(images, labels),
        num_samples=40,
        judge=tiny_judge(),
        batch_size=16,
        seed=3,
        verbose=False,
    )
    results, protocol = report["results"], report["protocol"]
    assert list(results) == ["fid", "kid", "is", "diversity"]
    assert isinstance(results["fid"], float) and results["fid"] >= -1e-6
    assert set(results["kid"]) == {"mean", "std"}
    assert set(results["is"]) == {"mean", "std", "real_mean", "real_std"}
    assert 1.0 - 1e-6 <= results["is"]["mean"] <= len(CLASSES) + 1e-6
    diversity = results["diversity"]
    assert set(diversity["real"]) == set(CLASSES)
    assert set(diversity["generated"]) <= set(CLASSES)
    assert 0.0 <= diversity["real_mean"] <= 1.0

    assert protocol["num_real"] == 48
    assert protocol["num_fake"] == 40
    assert protocol["seed"] == 3
    assert protocol["reference"] == "array of 48 images"
    assert protocol["model"] == "VAE"
    assert protocol["image_shape"] == [8, 8, 1]
    assert protocol["resizer"].startswith("none")
    assert protocol["feature_network"]["name"] == "judge"
    assert protocol["feature_network"]["dim"] == 16
    assert protocol["judge"]["classes"] == CLASSES
    assert protocol["judge"]["multi_label"] is False
    assert set(protocol["metrics"]) == set(results)
    assert "dataset labels" in protocol["metrics"]["diversity"]
    # The report goes to JSON as it is.
    assert json.loads(json.dumps(report)) == report

    table = format_table(report)
    lines = table.splitlines()
    assert lines[0] == "| metric | value | protocol |"
    assert any(line.startswith("| FID |") for line in lines)
    assert any(line.startswith("| KID |") and "±" in line for line in lines)
    assert any(line.startswith("| diversity[blob] |") for line in lines)


def test_fid_of_real_data_against_itself_is_about_zero(real):
    images, labels = real
    judge = tiny_judge()

    def fid_kid(model, metrics):
        return evaluate(
            model,
            metrics=metrics,
            data=images,
            num_samples=len(images),
            judge=judge,
            batch_size=16,
            verbose=False,
        )["results"]

    # Both spellings of `metrics`: a list, and a comma-separated str.
    same = fid_kid(Replay(images), ["fid", "kid"])
    noise = fid_kid(Noise(), "fid,kid")
    assert abs(same["fid"]) < 1e-6
    assert noise["fid"] > 1e-3
    assert noise["fid"] > 1000 * abs(same["fid"])
    assert noise["kid"]["mean"] > same["kid"]["mean"]


def test_generation_is_streamed_with_one_seed_per_batch(real):
    images, _ = real
    model = Replay(images)
    evaluate(
        model,
        metrics=["fid"],
        data=images,
        num_samples=40,
        judge=tiny_judge(),
        batch_size=16,
        seed=7,
        verbose=False,
    )
    assert model.calls == [(16, 7), (16, 8), (8, 9)]


def test_same_seed_same_numbers(real):
    images, labels = real
    judge, vae = tiny_judge(), tiny_vae()
    runs = [
        evaluate(
            vae,
            metrics=["fid", "is"],
            data=(images, labels),
            num_samples=24,
            judge=judge,
            seed=5,
            verbose=False,
        )["results"]
        for _ in range(2)
    ]
    assert runs[0] == runs[1]


def test_uint8_data_is_scaled(real):
    images, _ = real
    quantized = np.round(images * 255).astype("uint8")
    judge = tiny_judge()
    as_uint8 = evaluate(Noise(), ["fid"], quantized, 24, judge=judge, verbose=False)[
        "results"
    ]
    as_float = evaluate(
        Noise(), ["fid"], quantized / np.float32(255), 24, judge=judge, verbose=False
    )["results"]
    assert as_uint8["fid"] == pytest.approx(as_float["fid"], rel=1e-5)

    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        evaluate(Noise(), ["fid"], images * 255, 24, judge=judge, verbose=False)


def test_presets_and_npz_data_are_loaded(real, tmp_path):
    images, labels = real
    tiny_vae().save_to_preset(tmp_path / "vae")
    tiny_judge().save_to_preset(tmp_path / "judge")
    np.savez(tmp_path / "real.npz", images=images, labels=labels)
    report = evaluate(
        str(tmp_path / "vae"),
        metrics=["fid", "diversity"],
        data=str(tmp_path / "real.npz"),
        num_samples=16,
        judge=str(tmp_path / "judge"),
        verbose=False,
    )
    protocol = report["protocol"]
    assert protocol["model"] == str(tmp_path / "vae")
    assert protocol["model_class"] == "VAE"
    assert protocol["judge"]["preset"] == str(tmp_path / "judge")
    assert protocol["feature_network"]["preset"] == str(tmp_path / "judge")
    assert protocol["reference"].startswith(str(tmp_path / "real.npz"))
    assert protocol["num_real"] == len(images)


def test_a_collapsed_generator_is_less_diverse_than_real_data(real):
    images, labels = real
    report = evaluate(
        Constant(),
        metrics=["diversity"],
        data=(images, labels),
        num_samples=20,
        judge=tiny_judge(),
        verbose=False,
    )
    diversity = report["results"]["diversity"]
    # Identical images: every pair has MS-SSIM 1.
    (label,) = diversity["generated"]
    assert diversity["generated"][label] == pytest.approx(1.0)
    assert diversity["less_diverse_than_real"] == [label]
    assert diversity["real"][label] < 1.0


def evaluate_left_right(model, images, attributes, num_samples, batch_size):
    """FID and attribute scores of a model conditioned on "left"/"right"."""
    return evaluate(
        model,
        metrics=["fid", "attributes"],
        data=(images, attributes, ["left", "right"]),
        num_samples=num_samples,
        judge=tiny_judge(multi_label=True, class_names=["right", "left"]),
        batch_size=batch_size,
        verbose=False,
    )


def test_attributes_of_a_conditional_model(real):
    images, _ = real
    rng = np.random.default_rng(0)
    attributes = rng.integers(0, 2, (len(images), 2))
    model = Conditional()
    report = evaluate_left_right(model, images, attributes, 30, batch_size=16)
    scores = report["results"]["attributes"]
    assert set(scores["per_attribute"]) == {"left", "right"}
    assert 0.0 <= scores["accuracy"] <= 1.0
    received = np.concatenate(model.received)
    assert received.shape == (30, 2)
    # The conditioning vectors are drawn from the reference labels.
    rows = {tuple(row) for row in attributes}
    assert all(tuple(row) in rows for row in received.astype(int))
    assert sum(s["support"] for s in scores["per_attribute"].values()) == int(
        received.sum()
    )
    assert "attributes drawn" in report["protocol"]["generation"]


def test_attributes_of_a_latent_constraints_model(real):
    # The real conditional model, not a stand-in: evaluate hands it label
    # vectors in the order of its own attribute names.
    from keras_latent.models import LatentConstraints

    images, _ = real
    attributes = np.random.default_rng(0).integers(0, 2, (len(images), 2))
    model = LatentConstraints(
        vae=tiny_vae(),
        attribute_names=["left", "right"],
        critic_units=(8,),
        actor_units=(8,),
        seed=0,
    )
    report = evaluate_left_right(model, images, attributes, 20, batch_size=8)
    scores = report["results"]["attributes"]
    assert set(scores["per_attribute"]) == {"left", "right"}
    assert np.isfinite(report["results"]["fid"])
    support = sum(s["support"] for s in scores["per_attribute"].values())
    assert 0 < support < 40


def test_inception_features_stream_the_same_batches(real, monkeypatch):
    # No InceptionV3 weights in the tests: a stand-in with the same interface
    # checks the plumbing (one pass of generation feeds features and judge).
    from keras_latent import metrics
    from keras_latent.metrics import features
    from keras_latent.utils import batching as _batching

    seen = []

    def fake_inception_features(images, weights_path, batch_size=64, verbose=False):
        seen.append((weights_path, batch_size))
        batches = _batching.iterate_image_batches(images, batch_size)
        return np.concatenate([np.asarray(b).reshape(len(b), -1) for b in batches])

    monkeypatch.setattr(features, "_find_inception_weights", lambda path: "w.h5")
    monkeypatch.setattr(metrics, "inception_features", fake_inception_features)
    images, labels = real
    model = Replay(images)
    report = evaluate(
        model,
        metrics=["fid", "is"],
        data=(images, labels),
        num_samples=len(images),
        judge=tiny_judge(),
        feature_network="inception",
        batch_size=256,
        verbose=False,
    )
    assert abs(report["results"]["fid"]) < 1e-6
    assert report["results"]["is"]["mean"] == pytest.approx(
        report["results"]["is"]["real_mean"], rel=1e-5
    )
    assert seen == [("w.h5", 64), ("w.h5", 64)]
    assert [count for count, _ in model.calls] == [48]
    protocol = report["protocol"]
    assert protocol["feature_network"]["name"] == "inception"
    assert protocol["feature_network"]["weights"] == "w.h5"
    assert protocol["resizer"].startswith("bilinear to 299×299")
    assert "count ≤ 64" in protocol["generation"]


def test_a_model_that_needs_attributes_is_conditioned_for_fid(real):
    images, _ = real
    attributes = np.random.default_rng(1).integers(0, 2, (len(images), 2))

    class NeedsAttributes(Conditional):
        def generate(self, num_samples, seed=None, *, attributes):
            return super().generate(num_samples, seed, attributes)

    model = NeedsAttributes()
    report = evaluate(
        model,
        metrics=["fid"],
        data=(images, attributes),
        num_samples=20,
        judge=tiny_judge(),
        verbose=False,
    )
    assert np.concatenate(model.received).shape == (20, 2)
    assert "attributes drawn" in report["protocol"]["generation"]
    with pytest.raises(ValueError, match="attribute vectors"):
        evaluate(model, ["fid"], images, 20, judge=tiny_judge(), verbose=False)


def test_errors(real, monkeypatch, tmp_path):
    images, labels = real
    judge = tiny_judge()

    def run(model=None, **kwargs):
        kwargs = {"data": images, "judge": judge, "verbose": False, **kwargs}
        return evaluate(Noise() if model is None else model, **kwargs)

    with pytest.raises(ValueError, match="Valid metrics: fid, kid, is, diversity"):
        run(metrics=["fid", "precision"])
    with pytest.raises(ValueError, match="'mnist:test'"):
        run(data="mnist:validation")
    with pytest.raises(ValueError, match="Can't infer the reference data"):
        run(data=None)
    with pytest.raises(ValueError, match="unconditional"):
        run(metrics=["attributes"])
    with pytest.raises(ValueError, match="feature_network"):
        run(feature_network="vgg")
    with pytest.raises(ValueError, match="num_samples"):
        run(num_samples=0)
    with pytest.raises(ValueError, match="no `generate"):
        run(model=judge)
    with pytest.raises(ValueError, match="multi-label"):
        run(metrics=["is"], judge=tiny_judge(multi_label=True))
    with pytest.raises(ValueError, match="single-label"):
        run(model=Conditional(), metrics=["attributes"], data=(images, labels))
    with pytest.raises(ValueError, match="judge takes"):
        wide = ImageClassifier(image_shape=(8, 8, 3), filters=(4,), dense_units=8)
        run(judge=wide)
    with pytest.raises(ValueError, match="No default judge"):
        run(judge=None)
    with pytest.raises(ValueError, match="Unknown preset"):
        run(model="no_such_preset")

    # A default judge that is not in the zoo: the error names it.
    monkeypatch.setitem(
        evaluation.judges.DEFAULT_JUDGES, "cifar10", "missing_classifier"
    )

    class Cifar:
        image_shape = (32, 32, 3)

        def generate(self, num_samples, seed=None):
            raise AssertionError("must fail before generating")

    cifar_images = np.zeros((4, 32, 32, 3), "uint8")
    with pytest.raises(ValueError, match="'missing_classifier'"):
        run(model=Cifar(), data=cifar_images, judge=None)

    # InceptionV3 features without its weights on disk.
    from keras_latent.metrics import features

    monkeypatch.setattr(
        features,
        "_default_inception_weight_paths",
        lambda: [str(tmp_path / "missing.h5")],
    )
    with pytest.raises(FileNotFoundError, match="InceptionV3 weights"):
        run(feature_network="inception")


def test_evaluate_is_exported():
    assert keras_latent.evaluate is evaluate
    assert "evaluate" in keras_latent.__all__


# Non-finite values (issue 15): NaN or infinite images are refused, generated
# or reference, with an error that names them; before this, the range check
# let NaN through and FID came out as a number (716.6 on TensorFlow).


class Poisoned:
    """Noise images with one bad value in batch `bad_batch`."""

    image_shape = IMAGE_SHAPE

    def __init__(self, value, bad_batch=1, count=1):
        self.value, self.bad_batch, self.count = value, bad_batch, count
        self.batches = 0

    def generate(self, num_samples, seed=None):
        rng = np.random.default_rng(seed)
        images = rng.random((num_samples, *IMAGE_SHAPE)).astype("float32")
        if self.batches == self.bad_batch:
            images.reshape(-1)[: self.count] = self.value
        self.batches += 1
        return images


@pytest.mark.parametrize(
    "value, found",
    [(np.nan, "3 NaN values"), (np.inf, "3 infinite values"), (-np.inf, "infinite")],
)
@pytest.mark.parametrize("metric", ["fid", "is", "diversity"])
def test_non_finite_generated_images_are_refused(real, value, found, metric):
    images, labels = real
    with pytest.raises(ValueError) as info:
        evaluate(
            Poisoned(value, bad_batch=1, count=3),
            metrics=[metric],
            data=(images, labels),
            num_samples=40,
            batch_size=16,
            judge=tiny_judge(),
            verbose=False,
        )
    message = str(info.value)
    assert message.startswith("Generated batch 1 (images 16 to 31")
    assert "seed=1" in message and found in message


def test_non_finite_images_through_inception_are_refused(real, monkeypatch):
    # The InceptionV3 path pulls batches through `inception_features`; the
    # generated batch is checked on its way in, before any network sees it.
    from keras_latent.metrics import features

    monkeypatch.setattr(features, "_find_inception_weights", lambda path: "w.h5")

    def inception_features(images, weights_path, batch_size=64, verbose=False):
        from keras_latent.utils.batching import iterate_image_batches

        return np.concatenate(
            [b.reshape(len(b), -1) for b in iterate_image_batches(images, batch_size)]
        )

    monkeypatch.setattr(keras_latent.metrics, "inception_features", inception_features)
    images, labels = real
    with pytest.raises(ValueError, match=r"Generated batch 0 .* 1 NaN value"):
        evaluate(
            Poisoned(np.nan, bad_batch=0),
            metrics=["fid"],
            data=(images, labels),
            num_samples=8,
            judge=tiny_judge(),
            feature_network="inception",
            verbose=False,
        )


@pytest.mark.parametrize("value, found", [(np.nan, "2 NaN"), (np.inf, "2 infinite")])
def test_non_finite_reference_data_is_refused(real, value, found):
    images, labels = real
    images = images.copy()
    images[5, 0, 0, 0] = images[7, 1, 1, 0] = value

    class MustNotGenerate:
        image_shape = IMAGE_SHAPE

        def generate(self, num_samples, seed=None):
            raise AssertionError("bad reference data must fail before generating")

    with pytest.raises(ValueError) as info:
        evaluate(
            MustNotGenerate(),
            metrics=["fid"],
            data=(images, labels),
            num_samples=8,
            judge=tiny_judge(),
            verbose=False,
        )
    message = str(info.value)
    assert message.startswith("The reference data (array of 48 images)")
    assert found in message


def test_a_run_that_would_not_fit_in_memory_is_refused(real, monkeypatch):
    images, labels = real
    model = Poisoned(np.nan, bad_batch=-1)
    model.generate = lambda *a, **k: pytest.fail("must fail before generating")
    monkeypatch.setattr(evaluation.run, "memory_budget", lambda fraction=0.5: 4096)
    with pytest.raises(
        ValueError, match=r"`num_samples`=1000 .* Leave out 'diversity'"
    ):
        evaluate(
            model,
            metrics=["fid", "diversity"],
            data=(images, labels),
            num_samples=1000,
            judge=tiny_judge(),
            verbose=False,
        )

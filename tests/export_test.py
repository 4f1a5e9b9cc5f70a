"""`keras_latent.export` and `keras-latent export`: ONNX and SavedModel files
that compute what the Keras models compute.

Every model class is exported once per module (tiny models with randomised
weights, so that a graph that ran BatchNorm in training mode, or read the
wrong variable, would not match by luck), then run with onnxruntime or
TensorFlow against its Keras graph and its public NumPy methods.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
from pathlib import Path

import keras
import numpy as np
import pytest

from keras_latent import export, models
from keras_latent.cli import export as export_command
from keras_latent.models import VAE, ImageClassifier
from tests.test_case import tiny_gan

BACKEND = keras.backend.backend()
TOLERANCE = 1e-4
BATCH = 3
SEED = 5
SAVED_MODEL_ON_TORCH = (
    "Keras 3.15 exports a PyTorch model to a SavedModel only through "
    "torch_xla (StableHLO), whose releases pin older torch versions; "
    "check_export_support raises instead (test_saved_model_on_torch_says_why)"
)
REPO = Path(__file__).resolve().parents[1]

CLASSES = (
    "CGAN",
    "ACGAN",
    "CVAE",
    "CVAEGAN",
    "IFcVAEGAN",
    "LatentConstraints",
    "LabelRelevantIrrelevantVAE",
    "VAE",
    "WGANGP",
)


def tiny_model(name):
    """A tiny model of class `name`, with random weights."""
    if name in ("CGAN", "ACGAN"):
        model = getattr(models, name)(
            image_shape=(8, 8, 1),
            attribute_names=["a", "b", "c"],
            latent_dim=4,
            generator_filters=(8, 4),
            critic_filters=(4, 8),
        )
    elif name == "LatentConstraints":
        model = models.LatentConstraints(
            vae=VAE(image_shape=(8, 8, 3), latent_dim=3, hidden_units=(8,)),
            attribute_names=["Smiling", "Eyeglasses"],
            critic_units=(8,),
            actor_units=(8,),
        )
    elif name == "LabelRelevantIrrelevantVAE":
        model = models.LabelRelevantIrrelevantVAE(
            image_shape=(8, 8, 1),
            attribute_names=["0", "1", "2"],
            relevant_dim=2,
            irrelevant_dim=2,
            filters=(4,),
        )
    elif name == "VAE":
        model = VAE(image_shape=(8, 8, 1), latent_dim=3, hidden_units=(16,))
    elif name == "WGANGP":
        model = tiny_gan()
    else:
        model = getattr(models, name)(
            image_shape=(8, 8, 3),
            attribute_names=["Smiling", "Eyeglasses"],
            label_type="multi_label",
            latent_dim=3,
            filters=(4,),
        )
    rng = np.random.default_rng(0)
    for weight in model.weights:
        if "label_prior" in weight.path or "latent_std" in weight.path:
            continue  # probabilities and scales, which the graphs do not read
        shape = tuple(weight.shape)
        if "moving_variance" in weight.path:
            weight.assign(rng.uniform(0.5, 1.5, shape).astype("float32"))
        else:
            weight.assign(0.3 * rng.standard_normal(shape).astype("float32"))
    return model


def noise_of_generate(model, seed: int = SEED) -> np.ndarray:
    """The noise `model.generate(..., seed=seed)` draws, as NumPy."""
    if isinstance(model, models.LabelRelevantIrrelevantVAE):
        generator = keras.random.SeedGenerator(seed)
        parts = [
            keras.random.normal((BATCH, dim), seed=generator)
            for dim in (model.relevant_dim, model.irrelevant_dim)
        ]
        return np.concatenate([keras.ops.convert_to_numpy(p) for p in parts], -1)
    noise = keras.random.normal((BATCH, model.noise_dim), seed=seed)
    return keras.ops.convert_to_numpy(noise)


def public_generate(model, labels):
    if labels is None:
        return model.generate(BATCH, seed=SEED)
    return model.generate(labels, num_samples=BATCH, seed=SEED)


def public_edit(model, images, labels):
    """The public edit that `edit_graph` is, given full label vectors."""
    if isinstance(model, models.LatentConstraints):
        # Every conditioning attribute set: nothing is read from the image.
        targets = {n: int(v) for n, v in zip(model.attribute_names, labels[0])}
        return model.transform(images, targets, method="actor")
    return model.transform(images, labels)


def inputs_of(model):
    """Seeded NumPy inputs: noise, labels (0/1 or one-hot) and images."""
    rng = np.random.default_rng(1)
    labels = None
    if hasattr(model, "attribute_names"):
        k = len(model.attribute_names)
        if getattr(model, "label_type", "categorical") == "categorical":
            labels = np.eye(k, dtype="float32")[np.arange(BATCH) % k]
        else:
            # One label vector for the batch, as a dict edit gives.
            labels = np.tile(rng.integers(0, 2, (1, k)), (BATCH, 1)).astype("float32")
    images = rng.uniform(size=(BATCH, *model.image_shape)).astype("float32")
    return noise_of_generate(model), labels, images


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """`{(class, format): (model, folder)}`, each exported on first use."""
    cache = {}

    def get(name, format):
        if (name, format) not in cache:
            keras.utils.set_random_seed(0)
            model = tiny_model(name)
            folder = tmp_path_factory.mktemp(f"{name}_{format}") / "out"
            export.export_model(model, folder, format=format)
            cache[name, format] = (model, folder)
        return cache[name, format]

    return get


def _keras(graph, arrays):
    return keras.ops.convert_to_numpy(graph([a for a in arrays if a is not None]))


@pytest.mark.parametrize("name", CLASSES)
def test_onnx_matches_the_keras_graph_and_the_public_methods(exported, name):
    import onnxruntime

    model, folder = exported(name, "onnx")
    signature = json.loads((folder / "signature.json").read_text())
    graphs = export.exportable_functions(model)
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [f"{n}.onnx" for n in graphs] + ["signature.json"]
    )
    assert signature["model"] == name and signature["format"] == "onnx"
    assert max(signature["check"]["max_abs_difference"].values()) <= TOLERANCE
    noise, labels, images = inputs_of(model)
    for function in export.exported_functions(model):
        session = onnxruntime.InferenceSession(str(folder / f"{function.name}.onnx"))
        described = signature["functions"][function.name]
        # Named, documented inputs and output with a free batch dimension.
        assert [i.name for i in session.get_inputs()] == [
            i["name"] for i in described["inputs"]
        ]
        assert [o.name for o in session.get_outputs()] == [function.output.name]
        assert all(i.shape[0] == "batch" for i in session.get_inputs())
        given = {"noise": noise, "labels": labels, "images": images}
        arrays = [given[p.name] for p in function.inputs]
        got = session.run(None, {p.name: a for p, a in zip(function.inputs, arrays)})
        got = got[0]
        assert got.shape == (BATCH, *model.image_shape)
        np.testing.assert_allclose(
            got, _keras(graphs[function.name], arrays), atol=TOLERANCE
        )
        if function.name == "generate":
            public = public_generate(model, labels)
        else:
            public = public_edit(model, images, labels)
        np.testing.assert_allclose(got, public, atol=TOLERANCE)
        # (x + 1) / 2 of a tanh may round to -1e-8.
        assert -1e-6 <= got.min() and got.max() <= 1.0 + 1e-6


@pytest.mark.skipif(BACKEND == "torch", reason=SAVED_MODEL_ON_TORCH)
@pytest.mark.parametrize("name", CLASSES)
def test_saved_model_matches_the_keras_graph(exported, name):
    import tensorflow as tf

    model, folder = exported(name, "saved_model")
    loaded = tf.saved_model.load(str(folder))
    functions = export.exported_functions(model)
    assert set(loaded.signatures) == {f.name for f in functions} | {"serving_default"}
    graphs = export.exportable_functions(model)
    noise, labels, images = inputs_of(model)
    given = {"noise": noise, "labels": labels, "images": images}
    for function in functions:
        arrays = {p.name: given[p.name] for p in function.inputs}
        got = loaded.signatures[function.name](**arrays)[function.output.name]
        np.testing.assert_allclose(
            got.numpy(),
            _keras(graphs[function.name], list(arrays.values())),
            atol=TOLERANCE,
        )
    signature = json.loads((folder / "signature.json").read_text())
    assert signature["signatures"] == [f.name for f in functions]


@pytest.mark.skipif(BACKEND != "torch", reason="the torch backend's refusal")
def test_saved_model_on_torch_says_why(tmp_path):
    with pytest.raises(ValueError, match="torch_xla.*KERAS_BACKEND=tensorflow"):
        export.export_model(tiny_model("CGAN"), tmp_path / "out", format="saved_model")
    assert list(tmp_path.iterdir()) == []


def test_bad_format_names_the_choices(tmp_path):
    with pytest.raises(
        ValueError, match=r"`format`.*\['onnx', 'saved_model'\].*'tflite'"
    ):
        export.export_model(tiny_model("CGAN"), tmp_path / "out", format="tflite")
    assert list(tmp_path.iterdir()) == []


def test_a_classifier_has_nothing_to_export(tmp_path):
    classifier = ImageClassifier(image_shape=(8, 8, 1), filters=(4,), dense_units=8)
    with pytest.raises(ValueError, match="ImageClassifier has nothing to export"):
        export.export_model(classifier, tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def test_a_missing_converter_names_the_pip_install(tmp_path, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        export.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "onnxruntime" else real(name, *a),
    )
    with pytest.raises(
        ImportError, match=r'onnxruntime: pip install "keras-latent\[export\]"'
    ):
        export.export_model(tiny_model("CGAN"), tmp_path / "out")
    # Without the check, onnxruntime is not needed.
    export.check_export_support("onnx", check=False)


def test_a_failed_export_leaves_nothing_and_keeps_the_old_folder(tmp_path, monkeypatch):
    def broken(*args):
        raise RuntimeError("converter crashed")

    monkeypatch.setattr(export, "_name_onnx_ports", broken)
    model = tiny_model("CVAE")
    with pytest.raises(RuntimeError, match="converter crashed"):
        export.export_model(model, tmp_path / "out")
    assert list(tmp_path.iterdir()) == []
    old = tmp_path / "old"
    old.mkdir()
    (old / "keep.txt").write_text("x")
    with pytest.raises(ValueError, match="already exists.*overwrite"):
        export.export_model(model, old)
    with pytest.raises(RuntimeError, match="converter crashed"):
        export.export_model(model, old, overwrite=True)
    assert [p.name for p in tmp_path.iterdir()] == ["old"]
    assert [p.name for p in old.iterdir()] == ["keep.txt"]


def _parser():
    parser = argparse.ArgumentParser(prog="keras-latent")
    export_command.add_parser(parser.add_subparsers(dest="command"))
    return parser


def test_the_cli_formats_are_the_library_formats():
    assert export_command.FORMATS == export.FORMATS
    with pytest.raises(SystemExit):
        _parser().parse_args(["export", "x", "--format", "tflite"])


def test_the_cli_exports_a_saved_preset(tmp_path, capsys):
    preset = tmp_path / "lc"
    tiny_model("LatentConstraints").save_to_preset(preset)
    out = tmp_path / "exported"
    args = _parser().parse_args(["export", str(preset), "-o", str(out)])
    assert args.run(args) == 0, capsys.readouterr().err
    assert "onnxruntime matches Keras" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == [
        "edit.onnx",
        "generate.onnx",
        "signature.json",
    ]
    signature = json.loads((out / "signature.json").read_text())
    assert signature["preset"] == str(preset)
    assert signature["attribute_names"] == ["Smiling", "Eyeglasses"]
    # An existing folder is refused before the preset loads.
    assert args.run(args) == 2
    assert "--overwrite" in capsys.readouterr().err


def test_the_cli_refuses_a_classifier_preset(tmp_path, capsys):
    preset = tmp_path / "judge"
    ImageClassifier(image_shape=(8, 8, 1), filters=(4,), dense_units=8).save_to_preset(
        preset
    )
    args = _parser().parse_args(["export", str(preset), "-o", str(tmp_path / "o")])
    assert args.run(args) == 2
    err = capsys.readouterr().err
    assert "ImageClassifier" in err and "nothing to export" in err
    assert not (tmp_path / "o").exists()


def _card_script():
    spec = importlib.util.spec_from_file_location(
        "card_export_sections", REPO / "scripts" / "card_export_sections.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_card_section_is_written_once_and_refreshed():
    script = _card_script()
    model = tiny_model("CVAE")
    section = export.export_card_section(model, "tiny")
    assert section.startswith("## Export")
    for text in ("`noise`", "(N, 3)", "`edited`", "`Smiling`, `Eyeglasses`"):
        assert text in section
    card = "# tiny\n\nAbout it.\n"
    once = script.with_section(card, section)
    assert script.with_section(once, section) == once
    refreshed = script.with_section(once, "## Export\n\nnew\n")
    assert (
        refreshed.startswith(card) and "new" in refreshed and "(N, 3)" not in refreshed
    )
    assert refreshed.count(script.START) == 1


@pytest.mark.skipif(
    BACKEND == "jax",
    reason="the sections come from the presets' configs, not the backend, and "
    "building the CelebA models takes ~17 s on JAX; TensorFlow and torch check",
)
def test_every_conditional_zoo_card_has_its_current_export_section():
    script = _card_script()
    stale = [
        name
        for name, model in script.conditional_models().items()
        if script.with_section(
            (REPO / "zoo" / name / "README.md").read_text(encoding="utf-8"),
            export.export_card_section(model, name),
        )
        != (REPO / "zoo" / name / "README.md").read_text(encoding="utf-8")
    ]
    assert stale == [], "run python scripts/card_export_sections.py"

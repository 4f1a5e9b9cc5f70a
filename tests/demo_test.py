"""The attribute page's logic (`DemoSession`), on tiny models and on the zoo.

The page in a real browser is tested in `demo_browser_test.py`.
"""

import importlib.util
import os
import sys

import numpy as np
import pytest
from PIL import Image

import keras_latent
from keras_latent.cli import build_parser
from keras_latent.demo import DemoSession, UploadError, load_upload
from keras_latent.demo import session as session_module
from keras_latent.models import CGAN, CVAE, LabelRelevantIrrelevantVAE
from tests.latent_constraints_test import tiny_lc

HAS_GRADIO = importlib.util.find_spec("gradio") is not None


def tiny_cgan():
    return CGAN(
        image_shape=(8, 8, 1),
        attribute_names=("a", "b", "c"),
        architecture="mlp",
        hidden_units=(8,),
        critic_steps=1,
    )


def tiny_multi_label_cvae():
    return CVAE(
        image_shape=(8, 8, 1),
        attribute_names=("x", "y"),
        label_type="multi_label",
        latent_dim=3,
        architecture="mlp",
        hidden_units=(16,),
        seed=1,
    )


def tiny_lrlivae():
    return LabelRelevantIrrelevantVAE(
        image_shape=(8, 8, 1),
        attribute_names=("a", "b", "c"),
        relevant_dim=2,
        irrelevant_dim=3,
        filters=(4, 8),
        classifier_units=(8,),
        seed=1,
    )


def write_image(path, size=(40, 30), mode="RGB"):
    rng = np.random.RandomState(0)
    pixels = rng.randint(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    Image.fromarray(pixels).convert(mode).save(path)
    return str(path)


def tile_of(grid, row, column, size=8, scale=16, padding=2):
    """Tile (row, column) of an enlarged grid of `size` pixel images, at its
    original size (one channel)."""
    step = (size + padding) * scale
    top, left = padding * scale + row * step, padding * scale + column * step
    return grid[top : top + size * scale : scale, left : left + size * scale : scale, 0]


# -- choices -----------------------------------------------------------------


def test_multi_label_choices_become_attributes():
    session = DemoSession(tiny_multi_label_cvae(), warm_up=False)
    assert not session.categorical and session.conditional
    choices = {"x": "on", "y": "any"}
    assert session.attributes_from_choices(choices, "any") == {"x": 1}
    assert session.attributes_from_choices({"x": "off", "y": "keep"}, "keep") == {
        "x": 0
    }
    with pytest.raises(ValueError, match="'x' cannot be 'maybe'.*'any', 'off', 'on'"):
        session.attributes_from_choices({"x": "maybe"}, "any")
    with pytest.raises(ValueError, match="Unknown attribute 'z'.*'x', 'y'"):
        session.attributes_from_choices({"z": "on"}, "any")


def test_categorical_choice_sets_one_class():
    session = DemoSession(tiny_cgan(), warm_up=False)
    assert session.categorical
    assert session.attributes_from_choices({"class": "b"}, "any") == {"b": 1}
    assert session.attributes_from_choices({"class": "any"}, "any") == {}
    with pytest.raises(ValueError, match="'class' cannot be 'd'"):
        session.attributes_from_choices({"class": "d"}, "any")


# -- sampling ----------------------------------------------------------------


def test_sample_grid_follows_seed_count_and_class():
    session = DemoSession(tiny_cgan())
    grid = session.sample_grid({"class": "a"}, seed=3, count=4)
    assert grid.dtype == np.uint8 and grid.ndim == 3 and grid.shape[-1] == 3
    # 8x8 tiles are shown 16 times larger: a 2x2 grid of 128-pixel tiles.
    assert grid.shape[0] == 2 * 128 + 3 * 2 * session.scale
    again = session.sample_grid({"class": "a"}, seed=3, count=4)
    np.testing.assert_array_equal(grid, again)
    other_seed = session.sample_grid({"class": "a"}, seed=4, count=4)
    other_class = session.sample_grid({"class": "c"}, seed=3, count=4)
    assert not np.array_equal(grid, other_seed)
    assert not np.array_equal(grid, other_class)
    expected = session.model.generate({"a": 1}, num_samples=4, seed=3)
    np.testing.assert_allclose(
        tile_of(grid, 0, 0) / 255.0, expected[0, ..., 0], atol=1 / 255 + 1e-6
    )


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("seed", -1, r"`seed` must be in \[0, 2147483647\]"),
        ("seed", 1.5, "`seed` must be a whole number"),
        ("seed", None, "`seed` must be a whole number"),
        ("count", 0, r"`count` must be in \[1, 64\]"),
        ("count", 65, r"`count` must be in \[1, 64\]"),
    ],
)
def test_sample_grid_rejects_bad_numbers(field, value, message):
    session = DemoSession(tiny_cgan(), warm_up=False)
    numbers = {"seed": 0, "count": 4, field: value}
    with pytest.raises(ValueError, match=message):
        session.sample_grid({}, **numbers)


def test_refuses_a_model_that_does_not_generate():
    classifier = keras_latent.models.ImageClassifier(
        image_shape=(8, 8, 1), class_names=("a", "b"), filters=(4,), dense_units=4
    )
    with pytest.raises(ValueError, match="does not generate images.*keras-latent"):
        DemoSession(classifier)


# -- editing -----------------------------------------------------------------


def test_edit_grid_shows_photo_reconstruction_and_edit(tmp_path):
    session = DemoSession(tiny_multi_label_cvae())
    assert session.can_edit and session.edit_methods == []
    path = write_image(tmp_path / "photo.png", mode="L")
    grid, message = session.edit_grid(path, {"x": "on", "y": "keep"})
    assert message == "Edited: x on"
    assert grid.shape == (128 + 2 * 2 * 16, 3 * 128 + 4 * 2 * 16, 3)
    image = load_upload(path, (8, 8, 1))[None]
    edited = session.model.transform(image, {"x": 1})
    np.testing.assert_allclose(
        tile_of(grid, 0, 2) / 255.0, edited[0, ..., 0], atol=1 / 255 + 1e-6
    )
    _, message = session.edit_grid(path, {"x": "keep", "y": "keep"})
    assert "Choose an attribute" in message


def test_edit_of_a_class(tmp_path):
    session = DemoSession(tiny_lrlivae())
    path = write_image(tmp_path / "photo.jpg")
    grid, message = session.edit_grid(path, {"class": "b"})
    assert message == "Edited: b on"
    assert grid.shape[1] == 3 * 128 + 4 * 2 * 16


def test_latent_constraints_offers_its_methods(tmp_path):
    session = DemoSession(tiny_lc())
    assert session.edit_methods == ["optimize", "actor"]
    path = write_image(tmp_path / "photo.png", mode="L")
    # Without attribute critics neither edit can read the photo's attributes;
    # the error says what to do, and the page shows it as a message.
    with pytest.raises(ValueError, match="fit_attribute_critic"):
        session.edit_grid(path, {"a": "on"})
    rng = np.random.RandomState(0)
    session.model.fit_attribute_critic(
        rng.rand(16, 8, 8, 1).astype("float32"),
        (rng.rand(16, 2) > 0.5).astype("float32"),
        ["a", "b"],
        hidden_units=(8,),
        epochs=1,
        verbose=0,
    )
    for method in session.edit_methods:
        _, message = session.edit_grid(path, {"a": "on"}, method=method)
        assert message == "Edited: a on"
    with pytest.raises(ValueError, match=r"`method` must be one of \['optimize'"):
        session.edit_grid(path, {"a": "on"}, method="search")


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: p.write_text("not a picture"), "is not an image the page can read"),
        (lambda p: write_image(p, size=(1, 1)), "is 1x1 pixels"),
        (None, "Upload a photo first"),
    ],
    ids=["not_an_image", "tiny", "nothing"],
)
def test_bad_uploads_say_why(tmp_path, make, message):
    path = None
    if make is not None:
        path = tmp_path / "upload.png"
        make(path)
    with pytest.raises(UploadError, match=message) as caught:
        load_upload(path, (8, 8, 1))
    # The message names the file, never the server's temporary folder.
    assert str(tmp_path) not in str(caught.value)


def test_huge_uploads_are_refused_before_decoding(tmp_path, monkeypatch):
    path = write_image(tmp_path / "big.png", size=(300, 200))
    monkeypatch.setattr(session_module, "MAX_UPLOAD_PIXELS", 300 * 200 - 1)
    with pytest.raises(UploadError, match="big.png is 300x200 pixels; .* at most"):
        load_upload(path, (8, 8, 1))
    monkeypatch.setattr(session_module, "MAX_UPLOAD_BYTES", os.path.getsize(path) - 1)
    with pytest.raises(UploadError, match="big.png is .* MB; upload a photo of at"):
        load_upload(path, (8, 8, 1))


# -- the page and the command --------------------------------------------------


@pytest.mark.skipif(not HAS_GRADIO, reason='needs pip install "keras-latent[demo]"')
def test_page_has_a_control_per_attribute():
    from keras_latent.demo.page import build_page

    page = build_page(DemoSession(tiny_lc()))
    ids = {getattr(block, "elem_id", None) for block in page.blocks.values()} - {None}
    assert {"attribute-a", "attribute-b", "edit-a", "edit-b", "method"} <= ids
    assert {"seed", "count", "samples", "upload", "edited", "edit-message"} <= ids


def test_serve_command_checks_its_port():
    parser = build_parser()
    args = parser.parse_args(["serve", "mnist_cgan", "--port", "8000"])
    assert (args.port, args.host) == (8000, "127.0.0.1")
    for bad in ("0", "65536", "http"):
        with pytest.raises(SystemExit):
            parser.parse_args(["serve", "mnist_cgan", "--port", bad])


# -- every conditional and editing preset of the zoo -------------------------

GENERATIVE_PRESETS = [
    name
    for name in keras_latent.list_presets()
    if keras_latent.load_preset_metadata(name).get("class") != "ImageClassifier"
]


@pytest.mark.parametrize("preset", GENERATIVE_PRESETS)
def test_every_zoo_preset_serves(preset, tmp_path):
    model = keras_latent.from_preset(preset)
    session = DemoSession(model, name=preset)
    first = session.sample_grid({}, seed=0, count=2)
    if session.conditional:
        name = session.attribute_names[0]
        choices = {"class": name} if session.categorical else {name: "on"}
        assert not np.array_equal(first, session.sample_grid(choices, 0, 2))
    if session.can_edit:
        face = np.round(model.generate(num_samples=1, seed=1)[0] * 255)
        path = tmp_path / "face.png"
        Image.fromarray(
            np.squeeze(face.astype(np.uint8), axis=-1)
            if face.shape[-1] == 1
            else face.astype(np.uint8)
        ).save(path)
        name = session.attribute_names[1]
        choices = {"class": name} if session.categorical else {name: "on"}
        grid, message = session.edit_grid(str(path), choices)
        assert message.startswith("Edited:")
        assert grid.shape[1] > grid.shape[0]


@pytest.mark.skipif(not HAS_GRADIO, reason='needs pip install "keras-latent[demo]"')
def test_serve_refuses_a_classifier_preset(capsys):
    from keras_latent.cli import main

    assert main(["serve", "mnist_classifier"]) == 2
    error = capsys.readouterr().err
    assert "does not generate images" in error and "Traceback" not in error


def test_serve_without_gradio_says_how_to_install(monkeypatch, capsys):
    from keras_latent.cli import main

    monkeypatch.setitem(sys.modules, "gradio", None)  # import gradio fails
    assert main(["serve", "mnist_cgan"]) == 2
    assert 'pip install "keras-latent[demo]"' in capsys.readouterr().err

import keras
import numpy as np
import pytest

from keras_latent.models import ImageClassifier
from tests.test_case import TestCase, assert_numpy_float32, assert_reads_pixels

IMAGES = np.random.RandomState(0).rand(32, 8, 8, 1).astype("float32")
LABELS = (IMAGES.mean(axis=(1, 2, 3)) > 0.5).astype("int32")


class TestImageClassifier(TestCase):
    def test_serialization_round_trips(self, tmp_path):
        model = ImageClassifier(
            image_shape=(8, 8, 1),
            class_names=("a", "b", "c"),
            filters=(4,),
            dense_units=8,
            multi_label=True,
        )
        loaded = self.run_serialization_test(
            model, lambda m: m.predict_proba(IMAGES[:4]), tmp_path
        )
        assert loaded.class_names == ["a", "b", "c"] and loaded.multi_label

    def test_fit_lowers_the_loss_and_outputs_probabilities(self):
        model = ImageClassifier(
            image_shape=(8, 8, 1),
            class_names=("dark", "light"),
            filters=(4,),
            dense_units=8,
            dropout=0.0,
        )
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        self.run_fit_test(model, (IMAGES, LABELS), "loss", epochs=6, batch_size=8)
        probabilities = model.predict_proba(IMAGES)
        np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)

    def test_numpy_images_outside_the_unit_range_are_rejected(self):
        model = ImageClassifier(image_shape=(8, 8, 1), filters=(4,), dense_units=8)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        with pytest.raises(ValueError, match="divide them by 255"):
            model.fit(IMAGES * 255.0, LABELS, epochs=1, verbose=0)
        with pytest.raises(ValueError, match="divide them by 255"):
            model.predict_proba(IMAGES * 255.0)

    def test_predict_proba_reads_uint8_and_lists_as_pixels(self):
        model = ImageClassifier(image_shape=(8, 8, 1), filters=(4,), dense_units=8)
        assert_reads_pixels(model.predict_proba, IMAGES[:4])
        with pytest.raises(ValueError, match=r"0–255 pixel values \(uint8\)"):
            model.predict_proba(np.full((2, 8, 8, 1), 256, "int32"))


def tiny_classifier():
    return ImageClassifier(image_shape=(8, 8, 1), filters=(4,), dense_units=8)


def test_predict_proba_returns_float32_numpy_and_takes_numpy_ints():
    model = tiny_classifier()
    probabilities = model.predict_proba(IMAGES[:5], batch_size=np.int64(2))
    assert_numpy_float32(probabilities, (5, 10))
    np.testing.assert_allclose(
        probabilities, model.predict_proba(IMAGES[:5]), atol=1e-6
    )
    for bad in (0, -3, 1.0):
        with pytest.raises(ValueError, match="`batch_size` must be a positive"):
            model.predict_proba(IMAGES[:2], batch_size=bad)


def test_bad_images_raise_clear_errors():
    model = tiny_classifier()
    with pytest.raises(ValueError, match="`images` must be numeric images"):
        model.predict_proba(np.full((2, 8, 8, 1), "a"))
    with pytest.raises(ValueError, match="`images` must be numeric images"):
        model.predict_proba(np.array(["a"]))
    # Images of another size are never resized: 1×1 is a shape error.
    with pytest.raises(ValueError, match=r"shape \(batch, 8, 8, 1\)"):
        model.predict_proba(np.zeros((2, 1, 1, 1), "float32"))
    with pytest.raises(ValueError, match=r"shape \(batch, 8, 8, 1\)"):
        model.predict(np.zeros((2, 1, 1, 1), "float32"), verbose=0)


def test_predict_checks_numpy_images_and_call_does_not_read_values():
    model = tiny_classifier()
    with pytest.raises(ValueError, match=r"`x` must be float.*divide them by 255"):
        model.predict(IMAGES[:4] * 255.0, verbose=0)
    with pytest.raises(ValueError, match="uint8"):
        model.predict((IMAGES[:4] * 255).astype("uint8"), verbose=0)
    np.testing.assert_allclose(
        model.predict(IMAGES[:4], verbose=0), model.predict_proba(IMAGES[:4]), atol=1e-6
    )
    # Calling the model works on tensors (inside graphs too): it checks their
    # shape and dtype, never their values (documented on the class).
    outputs = model(keras.ops.convert_to_tensor(IMAGES[:2] * 255.0))
    assert tuple(outputs.shape) == (2, 10)
    with pytest.raises(ValueError, match=r"shape \(batch, 8, 8, 1\)"):
        model(keras.ops.zeros((2, 1, 1, 1)))

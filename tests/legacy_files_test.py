"""`.keras` files saved before the package-per-model move load unchanged.

Their configs name the old modules (`keras_latent.models.vae`, ...); the
classes are found by their registered names, so the files load with the
current layout and compute what they computed when saved
(`tests/legacy_files.py` says how they were made).
"""

import keras
import numpy as np
import pytest

import keras_latent  # noqa: F401  (registers the zoo's classes)
from tests.legacy_files import LEGACY_DIR, OUTPUTS_FILE, outputs_of

EXPECTED_CLASSES = {
    "vae": "VAE",
    "vae_conv_compiled": "VAE",
    "wgan_gp": "WGANGP",
    "classifier": "ImageClassifier",
    "latent_constraints": "LatentConstraints",
}


@pytest.mark.parametrize("name", sorted(EXPECTED_CLASSES))
def test_keras_file_saved_before_the_move_loads_unchanged(name):
    model = keras.saving.load_model(LEGACY_DIR / f"{name}.keras")
    assert type(model).__name__ == EXPECTED_CLASSES[name]
    with np.load(OUTPUTS_FILE) as stored:
        expected = {
            key.split("/", 1)[1]: stored[key]
            for key in stored.files
            if key.startswith(f"{name}/")
        }
    outputs = outputs_of(name, model)
    assert expected and set(outputs) == set(expected)
    for key, value in expected.items():
        np.testing.assert_allclose(
            outputs[key], value, atol=1e-4, err_msg=f"{name}: {key}"
        )


def test_compiled_legacy_file_keeps_its_optimizer():
    model = keras.saving.load_model(LEGACY_DIR / "vae_conv_compiled.keras")
    assert isinstance(model.optimizer, keras_latent.optimizers.Adam)

"""Every built-in preset still computes what it computed when stored.

The stored outputs were made on TensorFlow before the zoo's modules moved
into one package per model (`tests/preset_reference.py` says how); all three
backends agree with them to within 5e-6, so a difference above the tolerance
is a change in what a published preset computes, not backend round-off.
"""

import numpy as np
import pytest

import keras_latent
from tests.preset_reference import REFERENCE_FILE, reference_outputs

TOLERANCE = 1e-4


def _stored():
    with np.load(REFERENCE_FILE) as stored:
        return {key: stored[key] for key in stored.files}


def test_every_builtin_preset_has_stored_outputs():
    stored_presets = {key.split("/")[0] for key in _stored()}
    assert stored_presets == set(keras_latent.list_presets())


@pytest.mark.parametrize("name", keras_latent.list_presets())
def test_preset_outputs_match_the_stored_reference(name):
    stored = {
        key.split("/", 1)[1]: value
        for key, value in _stored().items()
        if key.startswith(f"{name}/")
    }
    outputs = reference_outputs(name)
    assert set(outputs) == set(stored)
    for key, expected in stored.items():
        np.testing.assert_allclose(
            outputs[key], expected, atol=TOLERANCE, err_msg=f"{name}: {key}"
        )

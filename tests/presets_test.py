import json
import os
import subprocess
import sys
import types
import warnings
from pathlib import Path

import keras
import numpy as np
import pytest

import keras_latent
from keras_latent import presets
from keras_latent.models import VAE

REPO = Path(__file__).resolve().parents[1]
REQUIRED_METADATA = (
    "command",
    "data",
    "split",
    "steps",
    "wall_time_s",
    "backend",
    "versions",
    "parameter_count",
    "metrics",
)


def small_preset(path):
    model = VAE(image_shape=(8, 8, 1), latent_dim=3, hidden_units=(16,), seed=0)
    model.save_to_preset(path)
    return model


def test_loaded_preset_is_initialized_and_trains(tmp_path):
    # On JAX, from_preset builds without running initializers: every variable
    # must still end up with a value (weights from the file, seed states from
    # their initializers) and nothing may stay queued for initialization.
    from keras.src.backend.common import global_state

    model = small_preset(tmp_path)
    loaded = keras_latent.from_preset(tmp_path)
    for variable in loaded.variables:
        assert variable._value is not None, variable.path
    assert not global_state.get_global_attribute("uninitialized_variables", [])
    np.testing.assert_allclose(
        loaded.reconstruct(np.ones((2, 8, 8, 1))),
        model.reconstruct(np.ones((2, 8, 8, 1))),
        atol=1e-6,
    )
    loaded.compile(optimizer="adam")
    loaded.fit(np.random.rand(8, 8, 8, 1).astype("float32"), epochs=1, verbose=0)


def test_compiled_preset_loads_without_optimizer_warnings(tmp_path):
    # Presets of earlier versions (mnist_wgan_gp among them) kept the compile
    # config, so they load compiled, with optimizers but no optimizer state
    # in the weights file (by design): that must not warn.
    from tests.test_case import tiny_gan

    model = tiny_gan()
    model.compile()
    model.save_to_preset(tmp_path)
    config = keras.saving.serialize_keras_object(model)
    assert "compile_config" in config
    (tmp_path / "config.json").write_text(json.dumps(config))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        keras_latent.from_preset(tmp_path)
    messages = [str(w.message) for w in caught]
    assert not [m for m in messages if "optimizer" in m], messages


def test_unknown_preset_lists_the_valid_names():
    with pytest.raises(ValueError, match="Unknown preset 'no_such_model'") as info:
        keras_latent.from_preset("no_such_model")
    assert "Built-in presets" in str(info.value)
    for name in keras_latent.list_presets():
        assert name in str(info.value)


@pytest.mark.parametrize("relative", [True, False])
def test_missing_directory_never_falls_back_to_a_builtin(
    tmp_path, monkeypatch, relative
):
    # "./mnist_vae" names a folder here, not the built-in preset of that name.
    monkeypatch.chdir(tmp_path)
    preset = "./mnist_vae" if relative else tmp_path / "mnist_vae"
    with pytest.raises(ValueError, match="does not exist"):
        keras_latent.from_preset(preset)


def test_empty_preset_name_is_rejected():
    with pytest.raises(ValueError, match="`preset` is empty"):
        keras_latent.from_preset("")


def test_directory_without_config_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="config.json"):
        keras_latent.from_preset(tmp_path)


@pytest.mark.parametrize("key", ["config", "class_name", "registered_name"])
def test_incomplete_config_is_named_not_the_weights(tmp_path, key):
    # Without `config` or `class_name`, Keras returned the dict itself and the
    # error blamed model.weights.h5; without `registered_name` it could not
    # find the class.
    small_preset(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    del config[key]
    (tmp_path / "config.json").write_text(json.dumps(config))
    for load_weights in (True, False):
        with pytest.raises(ValueError, match="config.json' is incomplete") as info:
            keras_latent.from_preset(tmp_path, load_weights=load_weights)
        assert key in str(info.value) and "weights file" not in str(info.value)


def test_config_that_is_not_an_object_is_incomplete(tmp_path):
    small_preset(tmp_path)
    (tmp_path / "config.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="is incomplete"):
        keras_latent.from_preset(tmp_path)


def test_a_keras_file_is_named_with_the_loader_to_use(tmp_path, monkeypatch):
    model = VAE(image_shape=(8, 8, 1), latent_dim=3, hidden_units=(16,), seed=0)
    model.save(tmp_path / "model.keras")
    monkeypatch.chdir(tmp_path)
    for preset in (
        tmp_path / "model.keras",
        str(tmp_path / "model.keras"),
        "model.keras",
    ):
        with pytest.raises(ValueError, match=r"is a `\.keras` file") as info:
            keras_latent.from_preset(preset)
        assert "keras.saving.load_model" in str(info.value)
        assert "does not exist" not in str(info.value)
    # The advice works.
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    assert type(loaded) is VAE
    with pytest.raises(ValueError, match=r"`\.keras` file \(it does not exist\)"):
        keras_latent.from_preset("other.keras")


def test_a_file_inside_a_preset_names_its_folder(tmp_path):
    small_preset(tmp_path / "preset")
    with pytest.raises(ValueError, match="a preset is a directory") as info:
        keras_latent.from_preset(tmp_path / "preset" / "config.json")
    assert str(tmp_path / "preset") in str(info.value)


def test_corrupt_weights_raise_a_clear_error(tmp_path):
    small_preset(tmp_path)
    (tmp_path / "model.weights.h5").write_bytes(b"this is not an HDF5 file")
    with pytest.raises(ValueError, match="corrupt"):
        keras_latent.from_preset(tmp_path)


def test_mismatched_weights_raise_a_clear_error(tmp_path):
    small_preset(tmp_path / "a")
    VAE(image_shape=(8, 8, 1), latent_dim=5, hidden_units=(16,)).save_to_preset(
        tmp_path / "b"
    )
    (tmp_path / "a" / "model.weights.h5").write_bytes(
        (tmp_path / "b" / "model.weights.h5").read_bytes()
    )
    with pytest.raises(ValueError, match="weights file"):
        keras_latent.from_preset(tmp_path / "a")


def test_configs_load_in_safe_mode(tmp_path):
    # A config that smuggles a Lambda layer (arbitrary code) must be refused.
    small_preset(tmp_path)
    lambda_layer = keras.saving.serialize_keras_object(
        keras.layers.Lambda(lambda x: x + 1)
    )
    config = json.loads((tmp_path / "config.json").read_text())
    config["config"]["name"] = lambda_layer
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="Could not build"):
        keras_latent.from_preset(tmp_path, load_weights=False)


def test_from_preset_on_a_class_checks_the_class(tmp_path):
    small_preset(tmp_path)
    with pytest.raises(ValueError, match="holds the class VAE, not "):
        keras_latent.models.WGANGP.from_preset(tmp_path)


def test_hub_handles_download_lazily(tmp_path, monkeypatch):
    model = small_preset(tmp_path)
    calls = []
    fake_hf = types.ModuleType("huggingface_hub")
    fake_hf.snapshot_download = lambda repo_id: calls.append(repo_id) or str(tmp_path)
    fake_kaggle = types.ModuleType("kagglehub")
    fake_kaggle.model_download = lambda handle: calls.append(handle) or str(tmp_path)
    monkeypatch.setitem(sys.modules, "huggingface_hub", fake_hf)
    monkeypatch.setitem(sys.modules, "kagglehub", fake_kaggle)
    z = np.ones((2, 3), "float32")
    for handle in ("hf://org/name", "kaggle://owner/model/keras/variant"):
        loaded = keras_latent.from_preset(handle)
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(loaded.decode(z)),
            keras.ops.convert_to_numpy(model.decode(z)),
            atol=1e-6,
        )
    assert calls == ["org/name", "owner/model/keras/variant"]


def test_missing_hub_client_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)
    with pytest.raises(ImportError, match="pip install"):
        keras_latent.from_preset("hf://org/name")


NEXT_BACKEND = {"tensorflow": "jax", "jax": "torch", "torch": "tensorflow"}

LOAD_ON_OTHER_BACKEND = """
import sys, keras, numpy as np, keras_latent
model = keras_latent.from_preset(sys.argv[1])
z = np.load(sys.argv[2])
np.save(sys.argv[3], keras.ops.convert_to_numpy(model.decode(z)))
"""


def test_preset_saved_here_loads_on_another_backend(tmp_path):
    small_preset(tmp_path / "preset")
    model = keras_latent.from_preset(tmp_path / "preset")
    z = np.random.RandomState(0).randn(4, 3).astype("float32")
    np.save(tmp_path / "z.npy", z)
    other = NEXT_BACKEND[keras.backend.backend()]
    env = dict(
        os.environ, KERAS_BACKEND=other, PYTHONPATH=str(REPO), TF_CPP_MIN_LOG_LEVEL="3"
    )
    subprocess.run(
        [
            sys.executable,
            "-c",
            LOAD_ON_OTHER_BACKEND,
            str(tmp_path / "preset"),
            str(tmp_path / "z.npy"),
            str(tmp_path / "out.npy"),
        ],
        check=True,
        env=env,
        capture_output=True,
        timeout=300,
    )
    np.testing.assert_allclose(
        np.load(tmp_path / "out.npy"),
        keras.ops.convert_to_numpy(model.decode(z)),
        atol=1e-5,
    )


def test_list_presets_matches_the_zoo_folder():
    root = presets.builtin_preset_dir()
    expected = sorted(p.parent.name for p in root.glob("*/config.json"))
    assert keras_latent.list_presets() == expected


@pytest.mark.parametrize("name", keras_latent.list_presets())
def test_builtin_presets_load_and_record_how_they_were_earned(name):
    model = keras_latent.from_preset(name)
    metadata = keras_latent.load_preset_metadata(name)
    for key in REQUIRED_METADATA:
        assert key in metadata, f"{name}: metadata.json lacks '{key}'"
    assert metadata["metrics"], name
    for metric in metadata["metrics"].values():
        assert "protocol" in metric
    assert (presets.builtin_preset_dir() / name / "README.md").is_file()
    if hasattr(model, "generate"):
        images = model.generate(num_samples=4, seed=0)
        assert images.shape[0] == 4 and 0.0 <= images.min() <= images.max() <= 1.0


def test_float16_weights_halve_the_file_and_load_as_float32(tmp_path):
    model = VAE(image_shape=(8, 8, 1), latent_dim=3, hidden_units=(256,), seed=0)
    model.save_to_preset(tmp_path / "f32")
    model.save_to_preset(tmp_path / "f16", weights_dtype="float16")
    size = {
        d: (tmp_path / d / "model.weights.h5").stat().st_size for d in ("f32", "f16")
    }
    assert size["f16"] < 0.6 * size["f32"]
    loaded = keras_latent.from_preset(tmp_path / "f16")
    assert (
        keras_latent.load_preset_metadata(tmp_path / "f16")["weights_dtype"]
        == "float16"
    )
    for a, b in zip(model.weights, loaded.weights):
        assert keras.backend.standardize_dtype(
            b.dtype
        ) == keras.backend.standardize_dtype(a.dtype)
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(b),
            keras.ops.convert_to_numpy(a),
            rtol=1e-3,
            atol=1e-4,
        )
    with pytest.raises(ValueError, match="weights_dtype"):
        model.save_to_preset(tmp_path / "bad", weights_dtype="int8")


def test_metadata_versions_come_without_importing_the_other_frameworks(tmp_path):
    # Importing TF, JAX or torch only to read their versions cost seconds on
    # every save_to_preset; the installed package metadata says the same.
    import importlib.metadata
    import sys

    backend_module = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}
    others = [
        m
        for m in ("tensorflow", "jax", "torch")
        if m != backend_module[keras.backend.backend()] and m not in sys.modules
    ]
    small_preset(tmp_path)
    versions = keras_latent.load_preset_metadata(tmp_path)["versions"]
    assert versions["keras"] == keras.__version__
    assert versions["numpy"] == np.__version__
    backend = backend_module[keras.backend.backend()]
    assert versions[backend] == sys.modules[backend].__version__
    for module in others:
        assert module not in sys.modules, f"save_to_preset imported {module}"
        assert versions[module] == importlib.metadata.version(module)

"""Presets: keras-hub's on-disk layout, one `from_preset` for every model.

A preset is a directory holding

- `config.json`: the model's serialized config; its `registered_name` picks
  the class, so one `from_preset` returns the right model;
- `model.weights.h5`: the weights;
- `metadata.json`: how the weights were earned (recipe command, data, split,
  steps, wall time, backend, versions, parameter count, measured metrics and
  their protocol);
- optionally `README.md` (the model card) and images it shows.

Built-in presets ship inside the package (`keras_latent/zoo/<name>/`, the
repository's `zoo/` folder). A preset can also be a local directory,
`hf://org/name` (Hugging Face Hub) or `kaggle://owner/model/keras/variant`
(Kaggle Models); the hub clients are imported only when such a handle is used.
"""

from __future__ import annotations

import datetime
import difflib
import importlib
import importlib.metadata
import importlib.util
import json
import os
import platform
import shutil
import sys
import warnings
from pathlib import Path

import keras
import numpy as np

from keras_latent.utils import keras_internals
from keras_latent.utils.files import hidden_sibling, replace_directory
from keras_latent.utils.inputs import check_choice
from keras_latent.utils.keras_internals import uninitialized_variables

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.weights.h5"
METADATA_FILE = "metadata.json"


def builtin_preset_dir() -> Path:
    """The folder holding the built-in presets (installed or source checkout)."""
    spec = importlib.util.find_spec("keras_latent.zoo")
    if spec is not None and spec.submodule_search_locations:
        return Path(list(spec.submodule_search_locations)[0])
    # A source checkout: the presets live in the repository's top-level zoo/.
    return Path(__file__).resolve().parents[1] / "zoo"


def list_presets() -> list[str]:
    """Names of the built-in presets, sorted.

    Example:

    ```python
    keras_latent.list_presets()  # ['celeba_attribute_classifier', ...]
    ```
    """
    root = builtin_preset_dir()
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / CONFIG_FILE).is_file())


def import_hub_client(module: str, purpose: str):
    """Imports a hub client only when a handle needs it.

    Args:
        module: `"huggingface_hub"` or `"kagglehub"`.
        purpose: what needs it, starting the error's sentence, e.g.
            `"Loading 'hf://org/name'"`.

    Raises:
        ImportError: saying which `pip install` adds the client.
    """
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise ImportError(
            f'{purpose} needs {module}: `pip install "keras-latent[hub]"` or '
            f"`pip install {module}`."
        ) from e


def _download_hf(handle: str) -> Path:
    huggingface_hub = import_hub_client("huggingface_hub", f"Loading '{handle}'")
    repo_id = handle[len("hf://") :]
    return Path(huggingface_hub.snapshot_download(repo_id=repo_id))


def _download_kaggle(handle: str) -> Path:
    kagglehub = import_hub_client("kagglehub", f"Loading '{handle}'")
    return Path(kagglehub.model_download(handle[len("kaggle://") :]))


def _looks_like_path(preset: str | os.PathLike) -> bool:
    """Whether `preset` names a location rather than a built-in preset."""
    if not isinstance(preset, str):
        return True  # a pathlib.Path or another os.PathLike
    separators = {os.sep, "/"} | ({os.altsep} if os.altsep else set())
    return (
        any(sep in preset for sep in separators)
        or preset.startswith(("~", "."))
        or os.path.isabs(preset)
    )


def resolve_preset(preset: str | os.PathLike) -> Path:
    """Returns the local directory of `preset`, downloading hub handles."""
    text = str(preset)
    if not text.strip():
        raise ValueError(
            f"`preset` is empty. Built-in presets: {list_presets()}; a preset can "
            "also be a local directory, 'hf://org/name' or "
            "'kaggle://owner/model/keras/variant'."
        )
    if text.startswith("hf://"):
        path = _download_hf(text)
    elif text.startswith("kaggle://"):
        path = _download_kaggle(text)
    elif Path(text).expanduser().is_dir():
        path = Path(text).expanduser()
    elif text.endswith(".keras") or Path(text).expanduser().is_file():
        raise ValueError(_not_a_preset_folder(text))
    elif _looks_like_path(preset):
        # "./celeba_vae" names a folder; never fall back to the built-in.
        raise ValueError(
            f"Preset directory '{text}' does not exist (resolved to "
            f"'{Path(text).expanduser().absolute()}').{_interrupted_save_hint(text)}"
        )
    elif (builtin_preset_dir() / text).is_dir():
        path = builtin_preset_dir() / text
    else:
        names = list_presets()
        close = difflib.get_close_matches(text, names, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise ValueError(
            f"Unknown preset '{text}'.{hint} Built-in presets: {names}. A preset "
            "can also be a local directory, 'hf://org/name' or "
            "'kaggle://owner/model/keras/variant'."
        )
    if not (path / CONFIG_FILE).is_file():
        raise ValueError(
            f"Preset directory '{path}' has no {CONFIG_FILE}; it is not a "
            "keras-latent preset (expected config.json, model.weights.h5, "
            "metadata.json)."
        )
    return path


def _interrupted_save_hint(text: str) -> str:
    """Points to the old preset that a save killed between its two renames
    (see `utils.files.replace_directory`) left aside."""
    target = Path(os.path.abspath(Path(text).expanduser()))
    if not target.parent.is_dir():
        return ""
    aside = sorted(target.parent.glob(f".{target.name}.old-*"))
    if not aside:
        return ""
    return (
        f" A save into it was interrupted: the previous preset is in "
        f"'{aside[-1]}'; rename that folder back to '{target.name}'."
    )


def _not_a_preset_folder(text: str) -> str:
    """The error for a preset given as a file rather than a folder."""
    if text.endswith(".keras"):
        exists = "" if Path(text).expanduser().is_file() else " (it does not exist)"
        return (
            f"'{text}' is a `.keras` file{exists}, a whole saved model, not a "
            "preset directory: load it with "
            f"`keras.saving.load_model({text!r})` (after `import keras_latent`)."
        )
    hint = ""
    if Path(text).name in (CONFIG_FILE, WEIGHTS_FILE, METADATA_FILE):
        hint = f" Pass the folder that holds it: '{Path(text).parent}'."
    return f"'{text}' is a file; a preset is a directory.{hint}"


# What `keras.saving.deserialize_keras_object` needs to find and build the
# class; without them it returns the dict itself or fails on the weights.
_CONFIG_KEYS = ("class_name", "config", "registered_name")


def load_preset_config(preset: str | os.PathLike) -> dict:
    """Returns a preset's `config.json` as a dict, checked to be complete."""
    path = resolve_preset(preset)
    try:
        config = json.loads((path / CONFIG_FILE).read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f"'{path / CONFIG_FILE}' is not valid JSON: {e}") from e
    missing = (
        [k for k in _CONFIG_KEYS if k not in config]
        if isinstance(config, dict)
        else list(_CONFIG_KEYS)
    )
    if missing or not isinstance(config.get("config"), dict):
        raise ValueError(
            f"'{path / CONFIG_FILE}' is incomplete: a preset's config needs "
            f"{list(_CONFIG_KEYS)} (`config` a dict), as `save_to_preset` writes "
            f"them; missing or wrong: {missing or ['config']}."
        )
    return config


def load_preset_metadata(preset: str | os.PathLike) -> dict:
    """Returns a preset's `metadata.json` as a dict (empty if it has none)."""
    path = resolve_preset(preset) / METADATA_FILE
    return json.loads(path.read_text()) if path.is_file() else {}


def from_preset(preset: str | os.PathLike, load_weights: bool = True):
    """Builds the model a preset describes, with its weights.

    The class comes from the preset's `config.json`, which is deserialized in
    Keras safe mode: nothing in a config can run code.

    Args:
        preset: a built-in name (see `list_presets()`), a local directory,
            `"hf://org/name"` or `"kaggle://owner/model/keras/variant"`.
        load_weights: bool. Load `model.weights.h5`. Defaults to `True`.

    Returns:
        The model, e.g. a `keras_latent.models.VAE`.

    Example:

    ```python
    vae = keras_latent.from_preset("mnist_vae")
    digits = vae.generate(16, seed=0)
    ```
    """
    # The classes are found through Keras's registry: `import keras_latent`
    # has registered every model and layer of the zoo.
    path = resolve_preset(preset)
    config = load_preset_config(path)
    weights = path / WEIGHTS_FILE
    if load_weights and not weights.is_file():
        raise ValueError(f"Preset '{path}' has no {WEIGHTS_FILE}.")
    if not (load_weights and keras.backend.backend() == "jax"):
        model = _build(config, path)
        if load_weights:
            _load_weights(model, weights)
        return model

    # JAX compiles every initializer once per weight shape: a cold load took
    # 7-15 s on a 2-core CPU for values the weights file overwrites at once.
    # Variables created in a StatelessScope stay uninitialized; the weights
    # are then assigned directly, and only variables the file does not hold
    # (seed states) run their initializers.
    pending = {id(v) for v in uninitialized_variables()}
    try:
        with keras.StatelessScope(initialize_variables=False):
            model = _build(config, path)
    except ValueError:
        # Some layers make a variable from a concrete value, which a
        # StatelessScope refuses: build those models the ordinary way.
        _forget_variables_created_since(pending)
        model = _build(config, path)
        _load_weights(model, weights)
        return model
    try:
        _load_weights(model, weights)
    finally:
        _initialize_variables_created_since(pending)
    return model


def _build(config: dict, path: Path):
    try:
        return keras.saving.deserialize_keras_object(config, safe_mode=True)
    except Exception as e:
        raise ValueError(
            f"Could not build a model from '{path / CONFIG_FILE}': {e}"
        ) from e


def _load_weights(model, weights: Path) -> None:
    try:
        with warnings.catch_warnings():
            # Presets carry no optimizer state (see `save_to_preset`), so a
            # model that builds its optimizers at construction (the
            # multi-player ones) would be told the file has none.
            warnings.filterwarnings(
                "ignore",
                message="Skipping variable loading for optimizer",
                category=UserWarning,
            )
            model.load_weights(weights)
    except Exception as e:
        raise ValueError(
            f"Could not load the weights file '{weights}': it is corrupt or "
            f"does not match the config ({type(e).__name__}: {e})."
        ) from e


def _forget_variables_created_since(pending_before: set) -> None:
    keras_internals.set_uninitialized_variables(
        [v for v in uninitialized_variables() if id(v) in pending_before]
    )


def _initialize_variables_created_since(pending_before: set) -> None:
    keep = []
    for variable in uninitialized_variables():
        if id(variable) in pending_before:
            keep.append(variable)
        elif keras_internals.raw_value(variable) is None:
            keras_internals.initialize_deferred(variable)
    keras_internals.set_uninitialized_variables(keep)


# Per module, the distributions that may provide it.
_VERSIONED_MODULES = {
    "tensorflow": ("tensorflow", "tensorflow-cpu", "tf-nightly"),
    "jax": ("jax",),
    "torch": ("torch",),
    "numpy": ("numpy",),
}


def _versions() -> dict:
    versions = {"python": platform.python_version(), "keras": keras.__version__}
    for module, distributions in _VERSIONED_MODULES.items():
        if module in sys.modules:
            versions[module] = sys.modules[module].__version__
            continue
        # Installed but not imported: the package metadata, since importing
        # TF, JAX or torch only to read a version costs seconds per save.
        for distribution in distributions:
            try:
                versions[module] = importlib.metadata.version(distribution)
                break
            except importlib.metadata.PackageNotFoundError:
                pass
    from keras_latent.version import __version__

    versions["keras_latent"] = __version__
    return versions


WEIGHTS_DTYPES = ("float32", "float16")


def store_weights_as(weights_file: str | os.PathLike, dtype: str) -> None:
    """Rewrites the float32 arrays of a `.weights.h5` file in `dtype`.

    float16 halves a preset's download. Loading casts the values back to the
    variables' float32, so only the stored precision changes (a relative
    rounding of about 5e-4); integer state such as seed generators is kept.

    Args:
        weights_file: a file written by `save_weights`.
        dtype: `"float32"` (leaves the file alone) or `"float16"`.
    """
    check_choice("weights_dtype", dtype, WEIGHTS_DTYPES)
    if dtype == "float32":
        return
    import h5py

    def copy(source, target):
        target.attrs.update(dict(source.attrs))
        for name, item in source.items():
            if isinstance(item, h5py.Group):
                copy(item, target.create_group(name))
            else:
                values = item[()]
                if item.dtype == np.float32:
                    values = values.astype(dtype)
                target.create_dataset(name, data=values)
                target[name].attrs.update(dict(item.attrs))

    # HDF5 does not give back the space of deleted arrays: write a new file.
    weights_file = Path(weights_file)
    compact = weights_file.with_name(weights_file.name + ".tmp")
    with h5py.File(weights_file, "r") as source, h5py.File(compact, "w") as target:
        copy(source, target)
    os.replace(compact, weights_file)


class PresetMixin:
    """Adds `save_to_preset` and `from_preset` to a zoo model."""

    @classmethod
    def from_preset(cls, preset: str | os.PathLike, load_weights: bool = True):
        """Loads a preset and checks it holds a model of this class.

        Args:
            preset: see `keras_latent.from_preset`.
            load_weights: bool. Defaults to `True`.
        """
        model = from_preset(preset, load_weights=load_weights)
        if not isinstance(model, cls):
            raise ValueError(
                f"Preset '{preset}' holds the class {type(model).__name__}, not "
                f"{cls.__name__}. Use keras_latent.from_preset() to load any "
                "preset."
            )
        return model

    def save_to_preset(
        self,
        preset_dir: str | os.PathLike,
        metadata=None,
        weights_dtype: str = "float32",
    ) -> Path:
        """Writes `config.json`, `model.weights.h5` and `metadata.json`.

        Every argument is checked before anything is written. The files go to
        a temporary folder beside `preset_dir`, which then takes its place:
        a failed or interrupted save leaves an existing preset as it was, and
        leaves no partial one. Other files of an existing preset (its
        `README.md` card, figures) are kept.

        Args:
            preset_dir: directory to write (created if needed).
            metadata: dict or None. Merged into the metadata the library
                records itself (backend, versions, parameter count, date);
                must be JSON-serialisable. Defaults to `None`.
            weights_dtype: `"float32"` or `"float16"`: how float weights are
                stored (see `store_weights_as`). The model still loads and
                runs in float32. Defaults to `"float32"`.

        Returns:
            The preset directory as a `Path`.

        Example:

        ```python
        vae.save_to_preset("my_vae", metadata={"data": "MNIST train"})
        ```
        """
        check_choice("weights_dtype", weights_dtype, WEIGHTS_DTYPES)
        path = Path(preset_dir)
        if path.exists() and not path.is_dir():
            raise ValueError(f"`preset_dir` '{path}' exists and is not a directory.")
        config = keras.saving.serialize_keras_object(self)
        # Like keras-hub's presets, ours load uncompiled: training settings
        # belong to whoever fine-tunes, and an optimizer would be built empty.
        config.pop("compile_config", None)
        config_text = json.dumps(config, indent=2) + "\n"
        metadata_text = _metadata_text(self, metadata, weights_dtype)
        path.parent.mkdir(parents=True, exist_ok=True)
        staging = hidden_sibling(path, "new")
        staging.mkdir()
        try:
            (staging / CONFIG_FILE).write_text(config_text)
            self._save_preset_weights(staging / WEIGHTS_FILE)
            store_weights_as(staging / WEIGHTS_FILE, weights_dtype)
            (staging / METADATA_FILE).write_text(metadata_text)
            _copy_other_files(path, staging)
            replace_directory(staging, path)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return path

    def _save_preset_weights(self, weights_file: Path) -> None:
        # A preset carries the model, not its training state: a compiled model
        # would also write every optimizer slot (3x the size for Adam).
        weights_source = self
        if getattr(self, "optimizer", None) is not None:
            weights_source = type(self).from_config(self.get_config())
            weights_source.set_weights(self.get_weights())
        weights_source.save_weights(weights_file)


def _metadata_text(model, metadata, weights_dtype: str) -> str:
    """The preset's `metadata.json`, checked before anything is written."""
    if metadata is not None and not isinstance(metadata, dict):
        raise TypeError(
            f"`metadata` must be a dict or None, got {type(metadata).__name__}."
        )
    record = {
        "class": type(model).__name__,
        "weights_dtype": weights_dtype,
        "backend": keras.backend.backend(),
        "versions": _versions(),
        "parameter_count": int(sum(np.prod(v.shape) for v in model.trainable_weights)),
        "saved_at": datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds"
        ),
    }
    record.update(metadata or {})
    try:
        return json.dumps(record, indent=2) + "\n"
    except (TypeError, ValueError) as e:
        raise TypeError(
            f"`metadata` must be JSON-serialisable (dicts, lists, strings, "
            f"numbers, bools, None): {e}. Nothing was written."
        ) from e


def _copy_other_files(old: Path, new: Path) -> None:
    """Copies what an existing preset holds beside the saved files (the card,
    figures) into the new one: recipes write their card after saving."""
    if not old.is_dir():
        return
    for item in old.iterdir():
        if (new / item.name).exists():
            continue
        if item.is_dir():
            shutil.copytree(item, new / item.name, symlinks=True)
        else:
            shutil.copy2(item, new / item.name, follow_symlinks=False)

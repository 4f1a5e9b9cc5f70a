"""Sharing presets: `upload_preset` to the Hugging Face Hub or Kaggle Models.

It follows keras-hub's `keras_hub.upload_preset`: `hf://user/name` goes to
the Hugging Face Hub (`create_repo(exist_ok=True)`, then `upload_folder`),
`kaggle://owner/model/keras/variant` to Kaggle Models (`model_upload`), and
the hub clients are imported only when an upload needs them. Unlike
keras-hub, the folder comes first (`upload_preset(preset_dir, uri)`, as
`save_to_preset(preset_dir)` wrote it), and it is checked before anything is
sent: a preset on a hub should load and say how its weights were earned.

What is checked:

- `preset_dir` is a local folder (not a built-in name nor a hub handle);
- it holds `config.json`, `model.weights.h5`, `metadata.json` and the
  `README.md` card;
- `metadata.json` has what `save_to_preset` records itself (`RECORDED_METADATA`)
  and how the weights were earned (`PROVENANCE_METADATA`: command, data,
  split, steps, wall time, metrics each with its `protocol`);
- it holds nothing that should not travel: hidden files and folders (`.git`,
  `.cache`, `.DS_Store`, the `.<name>.new-*` folders of an interrupted save),
  temporary files (`*.tmp`, what an interrupted weights rewrite leaves),
  `__pycache__`, `*.pyc` and links (which may point outside the folder).
  These are refused, not skipped, so that what was checked is what is sent;
- `from_preset` builds the model from it and loads its weights.

The Hugging Face Hub reads a card's YAML front matter: the uploaded
`README.md` gets `library_name: keras` and the `keras-latent` tag where they
are missing, in a staged copy; the folder itself is never modified.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from keras_latent import presets
from keras_latent.version import __version__

HF_PREFIX = "hf://"
KAGGLE_PREFIX = "kaggle://"
README_FILE = "README.md"
# The files every shared preset has, in the order the checks name them.
REQUIRED_FILES = (
    presets.CONFIG_FILE,
    presets.WEIGHTS_FILE,
    presets.METADATA_FILE,
    README_FILE,
)
# What `save_to_preset` writes into metadata.json by itself.
RECORDED_METADATA = ("class", "backend", "versions", "parameter_count", "saved_at")
# How the weights were earned: passed as `save_to_preset(metadata=...)`; every
# built-in preset has them (see zoo/*/metadata.json).
PROVENANCE_METADATA = ("command", "data", "split", "steps", "wall_time_s", "metrics")
CARD_LIBRARY_NAME = "keras"
CARD_TAG = "keras-latent"

_VALID_FORMS = (
    "'hf://user/name' (Hugging Face Hub) or "
    "'kaggle://owner/model/keras/variant' (Kaggle Models)"
)
# Hugging Face repo ids: letters, digits, '-', '_', '.'; no '--' or '..';
# '-' and '.' neither start nor end a name; at most 96 characters.
_HF_PART = re.compile(r"^(?!.*(--|\.\.))[A-Za-z0-9_](?:[A-Za-z0-9._-]*[A-Za-z0-9_])?$")
_KAGGLE_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_LOGIN_HINT = {
    "hf": "log in with `hf auth login` or set HF_TOKEN",
    "kaggle": "log in with `kagglehub.login()` or set KAGGLE_USERNAME and KAGGLE_KEY",
}


@dataclass(frozen=True)
class HubTarget:
    """Where an upload goes, parsed from its URI.

    Attributes:
        scheme: `"hf"` or `"kaggle"`.
        handle: the URI without its scheme: `"user/name"` or
            `"owner/model/keras/variant"`.
        uri: the URI itself, which `from_preset` loads.
        url: the model's web page.
    """

    scheme: str
    handle: str
    uri: str
    url: str

    @property
    def login_hint(self) -> str:
        """How to give the client credentials for this hub."""
        return _LOGIN_HINT[self.scheme]


def parse_upload_uri(uri: str) -> HubTarget:
    """Checks an upload URI and returns where it points.

    Args:
        uri: `"hf://user/name"` or `"kaggle://owner/model/keras/variant"`.

    Returns:
        A `HubTarget`.

    Example:

    ```python
    parse_upload_uri("hf://me/mnist_vae").url  # 'https://huggingface.co/me/mnist_vae'
    ```
    """
    if not isinstance(uri, str):
        raise TypeError(f"`uri` must be a str, {_VALID_FORMS}. Received: {uri!r}")
    if uri.startswith(HF_PREFIX):
        handle = uri[len(HF_PREFIX) :]
        parts = handle.split("/")
        if len(parts) != 2 or not all(
            _HF_PART.match(p) and len(p) <= 96 for p in parts
        ):
            raise ValueError(
                f"`uri` '{uri}' is not a Hugging Face repository: expected "
                "'hf://user/name' (two parts; letters, digits, '-', '_', '.'; "
                f"at most 96 characters each). Valid forms: {_VALID_FORMS}."
            )
        return HubTarget("hf", handle, uri, f"https://huggingface.co/{handle}")
    if uri.startswith(KAGGLE_PREFIX):
        handle = uri[len(KAGGLE_PREFIX) :]
        parts = handle.split("/")
        if (
            len(parts) != 4
            or parts[2] != "keras"
            or not all(_KAGGLE_PART.match(p) for p in parts)
        ):
            raise ValueError(
                f"`uri` '{uri}' is not a Kaggle model variation: expected "
                "'kaggle://owner/model/keras/variant' (four parts, the third "
                "the framework 'keras'; no version: Kaggle numbers versions "
                f"itself). Valid forms: {_VALID_FORMS}."
            )
        return HubTarget(
            "kaggle", handle, uri, f"https://www.kaggle.com/models/{handle}"
        )
    raise ValueError(
        f"`uri` '{uri}' names no hub this library uploads to: {_VALID_FORMS}."
    )


def upload_preset(
    preset_dir: str | os.PathLike,
    uri: str,
    dry_run: bool = False,
    verbose: bool = True,
) -> str:
    """Uploads a preset folder to the Hugging Face Hub or Kaggle Models.

    The folder is checked first (see the module docstring): it must load
    with `from_preset`, and hold complete `metadata.json` and a `README.md`
    card, and nothing else that should not travel. Nothing is sent unless
    every check passes. For the Hugging Face Hub the card gets the front
    matter the Hub reads (`library_name: keras`, the `keras-latent` tag) in a
    staged copy; the folder is left as it is. Credentials are the clients'
    own (`hf auth login`, `kagglehub.login()`).

    Args:
        preset_dir: a local preset folder, as `save_to_preset` writes it.
        uri: where to upload: `"hf://user/name"` (Hugging Face Hub; the
            repository is created if needed) or
            `"kaggle://owner/model/keras/variant"` (Kaggle Models; each upload
            is a new version of the variation).
        dry_run: bool. Check everything and list what would be sent, but
            send nothing (the hub client need not be installed). Defaults to
            `False`.
        verbose: bool. Print what is checked and sent. Defaults to `True`.

    Returns:
        The web address of the uploaded model (for a dry run, the address it
        would have). `keras_latent.from_preset(uri)` loads it back.

    Example:

    ```python
    vae.save_to_preset("my_vae", metadata={"command": ..., "metrics": ...})
    # ... write my_vae/README.md ...
    keras_latent.upload_preset("my_vae", "hf://me/my_vae")
    vae = keras_latent.from_preset("hf://me/my_vae")
    ```
    """
    path = _local_folder(preset_dir, uri)
    target = parse_upload_uri(uri)
    # Before the slow checks: a missing client should not cost a model load.
    client = None if dry_run else _client(target)
    files = check_preset_for_upload(path)
    card = None
    if target.scheme == "hf":
        card = hub_card((path / README_FILE).read_text(encoding="utf-8"))
    say = print if verbose else (lambda *_: None)
    say(f"Checked preset '{path}': {_describe(path, files)}.")
    if card is not None:
        say(
            f"{README_FILE} gets the Hub's front matter (library_name: "
            f"{CARD_LIBRARY_NAME}, tags: {CARD_TAG}) in the uploaded copy; "
            f"'{path / README_FILE}' is unchanged."
        )
    if dry_run:
        say(f"Dry run: nothing was sent to {target.uri} ({target.url}).")
        return target.url
    say(f"Uploading to {target.uri} ...")
    with _staged(path, files, card) as folder:
        _send(client, target, folder, _model_class(path))
    say(
        f"Uploaded to {target.url}; load it with "
        f'keras_latent.from_preset("{target.uri}").'
    )
    return target.url


def _local_folder(preset_dir, uri) -> Path:
    """`preset_dir` as a Path, if it is a local folder; else a clear error."""
    if not isinstance(preset_dir, (str, os.PathLike)):
        raise TypeError(
            "`preset_dir` must be a local preset folder (str or Path). "
            f"Received: {preset_dir!r}"
        )
    text = str(preset_dir)
    if not text.strip():
        # Path("") is the working directory: never upload that by accident.
        raise ValueError("`preset_dir` is empty; pass the preset's folder.")
    if text.startswith((HF_PREFIX, KAGGLE_PREFIX)):
        swapped = (
            " The arguments are (preset_dir, uri), keras-hub's "
            "`upload_preset(uri, preset)` the other way round."
            if isinstance(uri, str) and Path(uri).expanduser().is_dir()
            else " To share a hub preset again, download it and pass its folder."
        )
        raise ValueError(
            f"`preset_dir` '{text}' is a hub handle, not a local folder.{swapped}"
        )
    path = Path(text).expanduser()
    if path.is_dir():
        return path
    if text in presets.list_presets():
        raise ValueError(
            f"`preset_dir` '{text}' is a built-in preset name, not a folder: "
            "upload_preset sends a local folder. To share a copy of the "
            f"built-in, pass its folder: "
            f"'{presets.builtin_preset_dir() / text}'."
        )
    if path.exists():
        raise ValueError(f"`preset_dir` '{text}' is a file, not a preset folder.")
    raise ValueError(
        f"`preset_dir` '{text}' does not exist (resolved to '{path.absolute()}')."
    )


def check_preset_for_upload(preset_dir: str | os.PathLike) -> list[str]:
    """Checks that a preset folder is fit to share; returns its files.

    Every problem of the folder's files is named in one error; then the
    model is built and its weights loaded with `from_preset`.

    Args:
        preset_dir: a local preset folder.

    Returns:
        The paths of the files that an upload sends, relative to
        `preset_dir`, sorted.

    Example:

    ```python
    check_preset_for_upload("my_vae")  # ['README.md', 'config.json', ...]
    ```
    """
    path = _local_folder(preset_dir, None)
    files, problems = _shareable_files(path)
    problems += [
        f"{name} is missing" for name in REQUIRED_FILES if not (path / name).is_file()
    ]
    if (path / presets.CONFIG_FILE).is_file():
        problems += _config_problems(path)
    if (path / presets.METADATA_FILE).is_file():
        problems += _metadata_problems(path)
    card = path / README_FILE
    if card.is_file() and not card.read_text(encoding="utf-8").strip():
        problems.append(f"{README_FILE} (the model card) is empty")
    if problems:
        raise ValueError(
            f"Preset '{path}' is not ready to share:\n"
            + "\n".join(f"  - {p}" for p in problems)
        )
    try:
        presets.from_preset(path)
    except ValueError as e:
        raise ValueError(f"Preset '{path}' does not load: {e}") from e
    return files


def _stray_reason(entry: os.DirEntry) -> str | None:
    """Why a folder entry should not be uploaded, or None if it may."""
    name = entry.name
    if entry.is_symlink():
        return "a link (it may point outside the folder; copy the file in)"
    if name.startswith("."):
        return "hidden (e.g. left by an interrupted save, git, a hub cache or an OS)"
    if name == "__pycache__" or name.endswith(".pyc"):
        return "Python bytecode"
    if name.endswith(".tmp"):
        return "a temporary file (left by an interrupted save)"
    if not (entry.is_file() or entry.is_dir()):
        return "not a regular file"
    return None


def _shareable_files(root: Path) -> tuple[list[str], list[str]]:
    """The files below `root` that may travel, and a problem per stray one."""
    files, problems, pending = [], [], [root]
    while pending:
        folder = pending.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                relative = Path(entry.path).relative_to(root).as_posix()
                reason = _stray_reason(entry)
                if reason:
                    problems.append(
                        f"'{relative}' should not be shared: {reason}; delete "
                        "or move it"
                    )
                elif entry.is_dir():
                    pending.append(Path(entry.path))
                else:
                    files.append(relative)
    return sorted(files), sorted(problems)


def _config_problems(path: Path) -> list[str]:
    try:
        presets.load_preset_config(path)
    except ValueError as e:
        return [str(e)]
    return []


def _metadata_problems(path: Path) -> list[str]:
    """What a shared preset's `metadata.json` lacks (see the module doc)."""
    file = path / presets.METADATA_FILE
    try:
        metadata = json.loads(file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        return [f"{presets.METADATA_FILE} is not valid JSON: {e}"]
    if not isinstance(metadata, dict):
        return [f"{presets.METADATA_FILE} must hold a JSON object"]
    problems = []
    recorded = [k for k in RECORDED_METADATA if k not in metadata]
    if recorded:
        problems.append(
            f"{presets.METADATA_FILE} lacks {recorded}, which save_to_preset "
            "records itself: save the model again with save_to_preset"
        )
    provenance = [k for k in PROVENANCE_METADATA if k not in metadata]
    if provenance:
        problems.append(
            f"{presets.METADATA_FILE} lacks {provenance}: say how the weights "
            "were earned with save_to_preset(..., metadata={...}) (see any "
            "built-in preset's metadata.json)"
        )
    metrics = metadata.get("metrics")
    if "metrics" in metadata and (not isinstance(metrics, dict) or not metrics):
        problems.append(
            f"{presets.METADATA_FILE}: `metrics` must be a non-empty object, "
            '{"name": {"value": ..., "protocol": "how it was measured"}}'
        )
    elif isinstance(metrics, dict):
        vague = [
            name
            for name, metric in metrics.items()
            if not (isinstance(metric, dict) and metric.get("protocol"))
        ]
        if vague:
            problems.append(
                f"{presets.METADATA_FILE}: metrics {vague} have no `protocol` "
                "saying how they were measured"
            )
    problems += _class_mismatch(path, metadata)
    return problems


def _class_mismatch(path: Path, metadata: dict) -> list[str]:
    """A metadata.json written for another model than config.json's."""
    try:
        config = json.loads((path / presets.CONFIG_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []  # named by the config check
    named = metadata.get("class")
    built = config.get("class_name") if isinstance(config, dict) else None
    if named is None or built is None or named == built:
        return []
    return [
        f"{presets.METADATA_FILE} describes a {named} but {presets.CONFIG_FILE} "
        f"holds a {built}: they come from different saves"
    ]


def _model_class(path: Path) -> str:
    return presets.load_preset_config(path)["class_name"]


def _describe(path: Path, files: list[str]) -> str:
    size = sum((path / f).stat().st_size for f in files)
    model_class = _model_class(path)
    article = "an" if model_class[:1] in "AEIOU" else "a"
    return (
        f"{article} {model_class}, {len(files)} files ({size / 1e6:.1f} MB): "
        + ", ".join(files)
    )


# The card's YAML front matter: the Hub reads `library_name` and `tags`.
_LIBRARY_LINE = re.compile(r"^library_name\s*:")
_TAGS_LINE = re.compile(r"^tags\s*:\s*(.*?)\s*$")
_LIST_ITEM = re.compile(r"^(\s*-\s*)(.*?)\s*$")


def hub_card(card: str) -> str | None:
    """The card with the front matter the Hugging Face Hub reads, or None if
    it has it already.

    `library_name: keras` is added if the card names no library (a library
    it names is kept), and the `keras-latent` tag if it is not among the
    tags; the rest of the card is unchanged.

    Args:
        card: the text of a `README.md`.

    Returns:
        The amended text, or None when nothing is missing.

    Example:

    ```python
    hub_card("# my_vae\\n")
    # '---\\nlibrary_name: keras\\ntags:\\n- keras-latent\\n---\\n# my_vae\\n'
    ```
    """
    lines = card.splitlines()
    end = None
    if lines and lines[0].rstrip() == "---":
        closing = (i for i in range(1, len(lines)) if lines[i].rstrip() == "---")
        end = next(closing, None)
    if end is None:
        header = [f"library_name: {CARD_LIBRARY_NAME}", "tags:", f"- {CARD_TAG}"]
        return "\n".join(["---", *header, "---"]) + "\n" + card
    header = lines[1:end]
    amended = list(header)
    if not any(_LIBRARY_LINE.match(line) for line in amended):
        amended.append(f"library_name: {CARD_LIBRARY_NAME}")
    amended = _with_tag(amended)
    if amended == header:
        return None
    text = "\n".join(["---", *amended, "---", *lines[end + 1 :]])
    return text + "\n" if card.endswith("\n") else text


def _unquote(value: str) -> str:
    return value.strip().strip("'\"")


def _with_tag(header: list[str]) -> list[str]:
    """`header` with `CARD_TAG` among its `tags` (block or flow list)."""
    index = next((i for i, line in enumerate(header) if _TAGS_LINE.match(line)), None)
    if index is None:
        return [*header, "tags:", f"- {CARD_TAG}"]
    value = _TAGS_LINE.match(header[index]).group(1)
    if not value:
        items, prefix = [], "- "
        for line in header[index + 1 :]:
            item = _LIST_ITEM.match(line)
            if not item:
                break
            prefix = prefix if items else item.group(1)
            items.append(_unquote(item.group(2)))
        if CARD_TAG in items:
            return header
        return [*header[: index + 1], prefix + CARD_TAG, *header[index + 1 :]]
    inner = value[1:-1] if value.startswith("[") and value.endswith("]") else value
    items = [_unquote(v) for v in inner.split(",") if v.strip()]
    if CARD_TAG in items:
        return header
    tags = ", ".join([CARD_TAG, *(v.strip() for v in inner.split(",") if v.strip())])
    return [*header[:index], f"tags: [{tags}]", *header[index + 1 :]]


@contextlib.contextmanager
def _staged(path: Path, files: list[str], card: str | None):
    """The folder to upload: `path` itself, or a copy with the amended card."""
    if card is None:
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="keras_latent_upload_") as staging:
        staging = Path(staging)
        for relative in files:
            (staging / relative).parent.mkdir(parents=True, exist_ok=True)
            try:
                # A hard link costs nothing, even for gigabytes of weights.
                os.link(path / relative, staging / relative)
            except OSError:
                shutil.copy2(path / relative, staging / relative)
        # Replace the link, never write through it into the user's card.
        (staging / README_FILE).unlink()
        (staging / README_FILE).write_text(card, encoding="utf-8")
        yield staging


def _client(target: HubTarget):
    """The hub's client module, imported only now; a clear error if absent."""
    module = {"hf": "huggingface_hub", "kaggle": "kagglehub"}[target.scheme]
    client = presets.import_hub_client(module, f"Uploading to '{target.uri}'")
    needed = (
        ("create_repo", "upload_folder") if target.scheme == "hf" else ("model_upload",)
    )
    missing = [name for name in needed if not hasattr(client, name)]
    if missing:
        raise ImportError(
            f"The installed {module} has no {missing}: upgrade it with "
            f'`pip install -U "keras-latent[hub]"`.'
        )
    return client


def _send(client, target: HubTarget, folder: Path, model_class: str) -> None:
    message = f"Upload a keras-latent {model_class} preset (keras-latent {__version__})"
    if target.scheme == "hf":
        repo = client.create_repo(repo_id=target.handle, exist_ok=True)
        client.upload_folder(
            repo_id=getattr(repo, "repo_id", target.handle),
            folder_path=str(folder),
            commit_message=message,
        )
    else:
        client.model_upload(target.handle, str(folder), version_notes=message)

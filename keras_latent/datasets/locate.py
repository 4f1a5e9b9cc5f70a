"""Finding the data directory, and the errors that say where to get data.

Every loader takes `data_dir=`; `None` means `default_data_dir()`, which reads
`$KERAS_LATENT_DATA` and otherwise looks for a `shared/data` folder near the
working directory and the checkout.
"""

from __future__ import annotations

import os
from pathlib import Path

from keras_latent.utils.inputs import check_choice

DATA_ENV_VAR = "KERAS_LATENT_DATA"

CELEBA_OFFICIAL_URL = "https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html"

_SPLITS = {
    "mnist": ("train", "test"),
    "cifar10": ("train", "test"),
    "celeba": ("train", "val", "test"),
}
# The TensorFlow Datasets name of each dataset.
_TFDS_NAMES = {"mnist": "mnist", "cifar10": "cifar10", "celeba": "celeb_a"}
# Where each dataset's packed arrays live, relative to the data directory.
_PACKED_LAYOUTS = {
    "mnist": "mnist/mnist.npz",
    "cifar10": "cifar10_subset/cifar10_train_subset5k.npz",
    "celeba": "celeba64/{train,val}.npz",
}


def _default_candidates() -> list[Path]:
    # keras_latent/datasets/locate.py -> the checkout's root.
    repo_root = Path(__file__).resolve().parents[2]
    cwd = Path.cwd()
    return [
        cwd.parent / "shared" / "data",
        cwd / "shared" / "data",
        repo_root.parent / "shared" / "data",
    ]


def default_data_dir() -> Path | None:
    """The data directory used when a loader gets `data_dir=None`.

    Resolution order: the `KERAS_LATENT_DATA` environment variable (returned even
    if it does not exist, so that the error names it); else the first existing of
    `<cwd>/../shared/data`, `<cwd>/shared/data` and `<repo root>/../shared/data`.

    Returns:
        A `Path`, or `None` if no candidate exists.

    Example:

    ```python
    root = keras_latent.datasets.default_data_dir()
    print(root)  # e.g. /work/shared/data
    ```
    """
    env = os.environ.get(DATA_ENV_VAR)
    if env:
        return Path(env).expanduser()
    for candidate in _default_candidates():
        if candidate.is_dir():
            return candidate
    return None


def _resolve_data_dir(data_dir: str | os.PathLike | None) -> tuple[Path | None, str]:
    """Returns the directory and a phrase saying how it was chosen (for errors)."""
    if data_dir is not None:
        return Path(data_dir).expanduser(), "data_dir argument"
    root = default_data_dir()
    if root is not None:
        how = f"${DATA_ENV_VAR}" if os.environ.get(DATA_ENV_VAR) else "default search"
        return root, how
    looked = ", ".join(str(p) for p in _default_candidates())
    return None, f"no data_dir, ${DATA_ENV_VAR} unset, and none of {looked} exist"


def _how_to_get(dataset: str) -> str:
    lines = [
        "To get the data, do one of:",
        f"  - set ${DATA_ENV_VAR}, or pass data_dir=, to a folder holding the "
        f"packed arrays ({_PACKED_LAYOUTS[dataset]});",
        "  - prepare it with TensorFlow Datasets once, e.g. "
        f"`tfds.builder('{_TFDS_NAMES[dataset]}').download_and_prepare()`, and "
        "pass tfds_data_dir= if it is not in the default tfds folder;",
    ]
    if dataset == "celeba":
        lines.append(
            "  - download CelebA's official files (img_align_celeba/, "
            "list_attr_celeba.txt, list_eval_partition.txt) from "
            f"{CELEBA_OFFICIAL_URL} into data_dir."
        )
    return "\n".join(lines)


def _not_found(dataset: str, split: str, tried: list[str]) -> FileNotFoundError:
    looked = "\n".join(f"  - {line}" for line in tried)
    return FileNotFoundError(
        f"Could not find {dataset} split={split!r}. Looked at:\n{looked}\n"
        f"{_how_to_get(dataset)}"
    )


def _normalize_celeba_split(split: str) -> str:
    # tfds calls the validation split "validation"; accept both spellings.
    split = "val" if split == "validation" else split
    check_choice("split", split, _SPLITS["celeba"])
    return split


def _packed_file(
    data_dir: str | os.PathLike | None, relative: str
) -> tuple[Path | None, str]:
    """Returns the packed file if it exists, else `None` and where it looked."""
    root, how = _resolve_data_dir(data_dir)
    if root is None:
        return None, f"packed arrays: {how}"
    path = root / relative
    if path.is_file():
        return path, ""
    return None, f"packed arrays: {path} does not exist (data dir from {how})"

"""CelebA's official attribute and partition files, parsed and cached.

The complete annotations ship with the packed data as
`celeba64/annotations/*.txt.gz`; the official download's `list_attr_celeba.txt`
and `list_eval_partition.txt` work too. No TensorFlow needed.
"""

from __future__ import annotations

import gzip
import os
import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from keras_latent.datasets.arrays import CELEBA_ATTRIBUTE_NAMES, _attribute_indices
from keras_latent.datasets.locate import (
    DATA_ENV_VAR,
    _normalize_celeba_split,
    _resolve_data_dir,
)

# The values of `list_eval_partition.txt`.
_CELEBA_PARTITIONS = {"train": 0, "val": 1, "test": 2}


def _open_text(path: Path) -> str:
    if path.suffix == ".gz":
        with gzip.open(path, "rt") as f:
            return f.read()
    return path.read_text()


def _parse_attr_file(
    text: str, source: str
) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Parses `list_attr_celeba.txt`: a count, the names, then filename + -1/1."""
    try:
        count_line, names_line, body = text.split("\n", 2)
        count = int(count_line.strip())
    except ValueError as err:
        raise ValueError(f"{source} is not in the list_attr_celeba.txt format") from err
    names = names_line.split()
    # A regex pass plus np.fromstring parses the 202,599-row file in about a
    # second, several times faster than splitting every token in Python.
    filenames = re.findall(r"^\s*(\S+)", body, flags=re.MULTILINE)
    values = np.fromstring(
        re.sub(r"^\s*\S+", "", body, flags=re.MULTILINE), dtype=np.int8, sep=" "
    )
    if len(filenames) != count or values.size != count * len(names):
        raise ValueError(
            f"{source}: expected {count} rows of a filename and {len(names)} "
            f"values, found {len(filenames)} rows and {values.size} values"
        )
    attrs = (values.reshape(count, len(names)) > 0).astype(np.int8)
    return np.asarray(filenames), names, attrs


def _parse_partition_file(text: str) -> tuple[np.ndarray, np.ndarray]:
    tokens = text.split()
    filenames = np.asarray(tokens[0::2])
    partition = np.asarray(tokens[1::2], dtype=np.int8)
    return filenames, partition


def _align_partition(
    filenames: np.ndarray, part_files: np.ndarray, partition: np.ndarray, source: str
) -> np.ndarray:
    if len(part_files) == len(filenames) and np.array_equal(part_files, filenames):
        return partition
    lookup = dict(zip(part_files.tolist(), partition.tolist()))
    missing = [f for f in filenames.tolist() if f not in lookup]
    if missing:
        raise ValueError(
            f"{source} has no partition for {len(missing)} image(s), e.g. "
            f"{', '.join(missing[:5])}"
        )
    return np.asarray([lookup[f] for f in filenames.tolist()], dtype=np.int8)


@lru_cache(maxsize=4)
def _read_annotations(
    attr_path: Path, partition_path: Path
) -> tuple[np.ndarray, list[str], np.ndarray, np.ndarray]:
    filenames, names, attrs = _parse_attr_file(_open_text(attr_path), str(attr_path))
    part_files, partition = _parse_partition_file(_open_text(partition_path))
    partition = _align_partition(filenames, part_files, partition, str(partition_path))
    # Cached arrays are shared between callers; make accidental edits fail loudly.
    for array in (filenames, attrs, partition):
        array.flags.writeable = False
    return filenames, names, attrs, partition


def _first_file(directory: Path, candidates: Sequence[str]) -> Path | None:
    for name in candidates:
        path = directory / name
        if path.is_file():
            return path
    return None


def _official_roots(root: Path) -> list[Path]:
    return [root, root / "celeba", root / "CelebA"]


def _find_official_annotations(root: Path) -> tuple[Path, Path] | None:
    for base in _official_roots(root):
        attr = _first_file(
            base,
            [
                "list_attr_celeba.txt",
                "list_attr_celeba.txt.gz",
                "Anno/list_attr_celeba.txt",
            ],
        )
        partition = _first_file(
            base,
            [
                "list_eval_partition.txt",
                "list_eval_partition.txt.gz",
                "Eval/list_eval_partition.txt",
            ],
        )
        if attr is not None and partition is not None:
            return attr, partition
    return None


def _find_annotations(root: Path) -> tuple[Path, Path] | None:
    packed = root / "celeba64" / "annotations"
    attr = packed / "list_attr_celeba.txt.gz"
    partition = packed / "list_eval_partition.txt.gz"
    if attr.is_file() and partition.is_file():
        return attr, partition
    return _find_official_annotations(root)


def celeba_annotations(
    data_dir: str | os.PathLike | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The complete official CelebA attribute and partition files.

    Reads `celeba64/annotations/list_attr_celeba.txt.gz` and
    `list_eval_partition.txt.gz` (or, failing those, the official
    `list_attr_celeba.txt` and `list_eval_partition.txt` in `data_dir`). The
    parse is cached, so repeated calls are cheap; the arrays are read-only.

    Args:
        data_dir: folder holding `celeba64/annotations/`. Defaults to `None`,
            which uses `default_data_dir()`.

    Returns:
        `(filenames, attrs, partition)`: str array `(N,)` (`"000001.jpg"`, ...),
        int8 0/1 attributes `(N, 40)` in `celeba_attribute_names()` order, and
        int8 partition `(N,)` with 0/1/2 = train/val/test. N is 202,599.

    Example:

    ```python
    files, attrs, part = keras_latent.datasets.celeba_annotations()
    test_files = files[part == 2]
    ```
    """
    root, how = _resolve_data_dir(data_dir)
    found = _find_annotations(root) if root is not None else None
    if found is None:
        where = how if root is None else f"{root} (data dir from {how})"
        raise FileNotFoundError(
            "Could not find the CelebA annotation files "
            "(celeba64/annotations/list_attr_celeba.txt.gz and "
            f"list_eval_partition.txt.gz, or the official .txt files) in {where}. "
            f"Set ${DATA_ENV_VAR} or pass data_dir=."
        )
    filenames, names, attrs, partition = _read_annotations(*found)
    if names != list(CELEBA_ATTRIBUTE_NAMES):
        # Keep the documented column order even for a reordered file.
        attrs = attrs[:, [names.index(n) for n in CELEBA_ATTRIBUTE_NAMES]]
    return filenames, attrs, partition


def celeba_label_vectors(
    split: str = "test",
    attributes: Sequence[str] | None = None,
    data_dir: str | os.PathLike | None = None,
) -> np.ndarray:
    """The 0/1 attribute vectors of a whole official CelebA partition.

    The Latent Constraints evaluation conditions on the test label vectors; this
    gives them without needing the (held back) test images.

    Args:
        split: `"train"` (162,770 rows), `"val"` (19,867) or `"test"` (19,962).
            Defaults to `"test"`.
        attributes: list of attribute names, in the order wanted. Defaults to
            `None`, all 40 in file order.
        data_dir: folder holding `celeba64/annotations/`. Defaults to `None`,
            which uses `default_data_dir()`.

    Returns:
        int8 array `(N, K)` of 0/1, rows in filename order.

    Example:

    ```python
    y = keras_latent.datasets.celeba_label_vectors("test", ["Smiling", "Male"])
    ```
    """
    split = _normalize_celeba_split(split)
    _, attrs, partition = celeba_annotations(data_dir)
    indices, _ = _attribute_indices(attributes, CELEBA_ATTRIBUTE_NAMES)
    return attrs[partition == _CELEBA_PARTITIONS[split]][:, indices]

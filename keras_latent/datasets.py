"""Datasets as `tf.data.Dataset`s that `keras.Model.fit` accepts on every backend.

Images come out as float32 in `[0, 1]` with shape `(H, W, C)`. Each loader tries,
in order, the packed arrays of `shared/data` (see its `README.md`), a locally
prepared TensorFlow Datasets copy and, for CelebA, the official download layout.
Nothing is ever downloaded.

`tf.data` is only the input pipeline here: this module uses TensorFlow on the
host and never imports JAX or PyTorch, so the same datasets feed all three Keras
backends. Images stay uint8 until the final `map`, which keeps memory small.
"""

from __future__ import annotations

import csv
import difflib
import gzip
import os
import re
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache, partial
from pathlib import Path

import numpy as np
import tensorflow as tf

from keras_latent.images import _load_square_rgb

__all__ = [
    "CELEBA_ATTRIBUTE_NAMES",
    "celeba_annotations",
    "celeba_arrays",
    "celeba_attribute_names",
    "celeba_label_vectors",
    "cifar10_arrays",
    "default_data_dir",
    "image_folder_arrays",
    "load_celeba",
    "load_cifar10",
    "load_image_folder",
    "load_mnist",
    "mnist_arrays",
]

DATA_ENV_VAR = "KERAS_LATENT_DATA"

# The official, fixed column order of `list_attr_celeba.txt`; used when no data
# directory is around to read `attribute_names.txt` from.
CELEBA_ATTRIBUTE_NAMES = (
    "5_o_Clock_Shadow Arched_Eyebrows Attractive Bags_Under_Eyes Bald Bangs "
    "Big_Lips Big_Nose Black_Hair Blond_Hair Blurry Brown_Hair Bushy_Eyebrows "
    "Chubby Double_Chin Eyeglasses Goatee Gray_Hair Heavy_Makeup High_Cheekbones "
    "Male Mouth_Slightly_Open Mustache Narrow_Eyes No_Beard Oval_Face Pale_Skin "
    "Pointy_Nose Receding_Hairline Rosy_Cheeks Sideburns Smiling Straight_Hair "
    "Wavy_Hair Wearing_Earrings Wearing_Hat Wearing_Lipstick Wearing_Necklace "
    "Wearing_Necktie Young"
).split()

CELEBA_OFFICIAL_URL = "https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html"

_CELEBA_PARTITIONS = {"train": 0, "val": 1, "test": 2}
# The packed arrays were cropped from the 178x218 originals at rows 20..197.
_CELEBA_WIDTH = 178
_CELEBA_CROP_TOP = 20
# A whole-split buffer would hold every decoded image of a tfds split in memory;
# this bounds it (about 120 MB of 64x64 CelebA images).
_TFDS_SHUFFLE_BUFFER = 10_000

_SOURCES = {
    "mnist": ("auto", "arrays", "tfds"),
    "cifar10": ("auto", "arrays", "tfds"),
    "celeba": ("auto", "arrays", "tfds", "official"),
}
_SPLITS = {
    "mnist": ("train", "test"),
    "cifar10": ("train", "test"),
    "celeba": ("train", "val", "test"),
}


# --------------------------------------------------------------------------
# Locating data.
# --------------------------------------------------------------------------


def _default_candidates() -> list[Path]:
    repo_root = Path(__file__).resolve().parents[1]
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
    tfds_name = {"mnist": "mnist", "cifar10": "cifar10", "celeba": "celeb_a"}[dataset]
    layout = {
        "mnist": "mnist/mnist.npz",
        "cifar10": "cifar10_subset/cifar10_train_subset5k.npz",
        "celeba": "celeba64/{train,val}.npz",
    }[dataset]
    lines = [
        "To get the data, do one of:",
        f"  - set ${DATA_ENV_VAR}, or pass data_dir=, to a folder holding the "
        f"packed arrays ({layout});",
        "  - prepare it with TensorFlow Datasets once, e.g. "
        f"`tfds.builder('{tfds_name}').download_and_prepare()`, and pass "
        "tfds_data_dir= if it is not in the default tfds folder;",
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


def _check_choice(name: str, value: str, valid: Sequence[str]) -> None:
    if value not in valid:
        raise ValueError(
            f"Unknown {name} {value!r}. Valid choices: "
            + ", ".join(repr(v) for v in valid)
        )


def _normalize_celeba_split(split: str) -> str:
    # tfds calls the validation split "validation"; accept both spellings.
    split = "val" if split == "validation" else split
    _check_choice("split", split, _SPLITS["celeba"])
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


# --------------------------------------------------------------------------
# Array-level loaders.
# --------------------------------------------------------------------------


def _packed_mnist(
    split: str, data_dir: str | os.PathLike | None
) -> tuple[np.ndarray, np.ndarray] | str:
    """Reads the packed arrays, or returns where it looked."""
    path, looked = _packed_file(data_dir, "mnist/mnist.npz")
    if path is None:
        return looked
    with np.load(path) as z:
        x = z[f"x_{split}"]
        y = z[f"y_{split}"]
    return x[..., None], y.astype(np.int64)


def mnist_arrays(
    split: str = "train", data_dir: str | os.PathLike | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """MNIST as numpy arrays, from the packed `mnist/mnist.npz`.

    Args:
        split: `"train"` (60,000 images) or `"test"` (10,000). Defaults to
            `"train"`.
        data_dir: folder holding `mnist/mnist.npz`. Defaults to `None`, which
            uses `default_data_dir()`.

    Returns:
        `(x, y)`: uint8 images `(N, 28, 28, 1)` and int64 labels `(N,)`.

    Example:

    ```python
    x, y = keras_latent.datasets.mnist_arrays("test")
    ```
    """
    _check_choice("split", split, _SPLITS["mnist"])
    result = _packed_mnist(split, data_dir)
    if isinstance(result, str):
        raise _not_found("mnist", split, [result])
    return result


def _packed_cifar10(
    split: str, data_dir: str | os.PathLike | None
) -> tuple[np.ndarray, np.ndarray] | str:
    """Reads the packed arrays, or returns why it could not."""
    if split != "train":
        return "packed arrays: the packed CIFAR-10 subset has a train split only"
    path, looked = _packed_file(data_dir, "cifar10_subset/cifar10_train_subset5k.npz")
    if path is None:
        return looked
    with np.load(path) as z:
        x, y = z["x"], z["y"]
    return x, y.astype(np.int64)


def cifar10_arrays(
    split: str = "train", data_dir: str | os.PathLike | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The 5,000-image CIFAR-10 train subset as numpy arrays.

    The packed subset holds 500 images per class of the train split only,
    decoded from quality-75 JPEGs; see `shared/data/README.md` before comparing
    with published CIFAR-10 numbers.

    Args:
        split: only `"train"` has packed arrays; `"test"` raises
            `FileNotFoundError` (use `load_cifar10(source="tfds")`). Defaults to
            `"train"`.
        data_dir: folder holding `cifar10_subset/`. Defaults to `None`, which uses
            `default_data_dir()`.

    Returns:
        `(x, y)`: uint8 images `(N, 32, 32, 3)` and int64 labels `(N,)`.

    Example:

    ```python
    x, y = keras_latent.datasets.cifar10_arrays()
    ```
    """
    _check_choice("split", split, _SPLITS["cifar10"])
    result = _packed_cifar10(split, data_dir)
    if isinstance(result, str):
        raise _not_found("cifar10", split, [result])
    return result


def celeba_attribute_names(data_dir: str | os.PathLike | None = None) -> list[str]:
    """The 40 CelebA attribute names, in column order.

    Args:
        data_dir: folder holding `celeba64/attribute_names.txt`. Defaults to
            `None`, which uses `default_data_dir()`; without a data directory the
            built-in official list is returned.

    Returns:
        A list of 40 names, `"5_o_Clock_Shadow"` ... `"Young"`.

    Example:

    ```python
    names = keras_latent.datasets.celeba_attribute_names()
    smiling_column = names.index("Smiling")
    ```
    """
    root, _ = _resolve_data_dir(data_dir)
    if root is not None:
        path = root / "celeba64" / "attribute_names.txt"
        if path.is_file():
            return path.read_text().split()
    return list(CELEBA_ATTRIBUTE_NAMES)


def _attribute_indices(
    attributes: str | Sequence[str] | None, valid: Sequence[str]
) -> tuple[list[int], list[str]]:
    valid = list(valid)
    if attributes is None:
        return list(range(len(valid))), valid
    if isinstance(attributes, str):
        # A bare string would otherwise be iterated character by character.
        attributes = [attributes]
    attributes = list(attributes)
    if not attributes:
        raise ValueError("`attributes` is empty; pass None for all of them.")
    unknown = [a for a in attributes if a not in valid]
    if unknown:
        hints = []
        for name in unknown:
            close = difflib.get_close_matches(name, valid, n=1)
            if close:
                hints.append(f"{name!r} (did you mean {close[0]!r}?)")
            else:
                hints.append(repr(name))
        raise ValueError(
            f"Unknown attribute name(s): {', '.join(hints)}. "
            f"Valid names: {', '.join(valid)}"
        )
    return [valid.index(a) for a in attributes], attributes


def _held_back_message() -> str:
    return (
        "the CelebA test images are held back from the packed arrays (kept for an "
        "independent evaluation of the zoo); use split='val' for your own reports. "
        "celeba_label_vectors('test') still gives every test label vector"
    )


def _packed_celeba(
    split: str, attributes: Sequence[str] | None, data_dir: str | os.PathLike | None
) -> tuple[np.ndarray, np.ndarray, list[str]] | str:
    """Reads the packed arrays, or returns why it could not."""
    if split == "test":
        return f"packed arrays: {_held_back_message()}"
    path, looked = _packed_file(data_dir, f"celeba64/{split}.npz")
    if path is None:
        return looked
    names = path.parent / "attribute_names.txt"
    all_names = names.read_text().split() if names.is_file() else None
    indices, chosen = _attribute_indices(
        attributes, all_names or CELEBA_ATTRIBUTE_NAMES
    )
    with np.load(path) as z:
        x = z["images"]
        a = z["attributes"]
    return x, a[:, indices].astype(np.int8), chosen


def celeba_arrays(
    split: str = "train",
    attributes: Sequence[str] | None = None,
    data_dir: str | os.PathLike | None = None,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The packed 64x64 CelebA subset as numpy arrays.

    Args:
        split: `"train"` (14,283 images) or `"val"` (780). `"test"` raises
            `FileNotFoundError`: its images are held back. Defaults to `"train"`.
        attributes: list of attribute names to keep, in the order wanted.
            Defaults to `None`, all 40 in file order.
        data_dir: folder holding `celeba64/`. Defaults to `None`, which uses
            `default_data_dir()`.

    Returns:
        `(x, attrs, names)`: uint8 images `(N, 64, 64, 3)`, int8 0/1 attributes
        `(N, K)` and the K attribute names.

    Example:

    ```python
    x, a, names = keras_latent.datasets.celeba_arrays(
        "val", attributes=["Smiling", "Male"]
    )
    ```
    """
    split = _normalize_celeba_split(split)
    result = _packed_celeba(split, attributes, data_dir)
    if isinstance(result, str):
        raise _not_found("celeba", split, [result])
    return result


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


# --------------------------------------------------------------------------
# Image files: the official CelebA layout and user folders.
# --------------------------------------------------------------------------


def _load_images(paths: Sequence[Path], image_size: int) -> np.ndarray:
    out = np.empty((len(paths), image_size, image_size, 3), dtype=np.uint8)
    # PIL releases the GIL while decoding and resizing, so threads scale.
    workers = min(32, (os.cpu_count() or 1) + 4)
    load = partial(_load_square_rgb, image_size=image_size)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for i, image in enumerate(pool.map(load, paths)):
            out[i] = image
    return out


def _find_official_images(root: Path) -> Path | None:
    for base in _official_roots(root):
        for name in (
            "img_align_celeba/img_align_celeba",
            "img_align_celeba",
            "Img/img_align_celeba",
        ):
            if (base / name).is_dir():
                return base / name
    return None


def _official_celeba_arrays(
    root: Path, split: str, attributes: Sequence[str] | None, image_size: int
) -> tuple[np.ndarray, np.ndarray, list[str]] | str:
    """Loads a split of the official layout, or returns why it could not."""
    images_dir = _find_official_images(root)
    annotations = _find_official_annotations(root)
    if images_dir is None or annotations is None:
        return (
            f"official layout: no img_align_celeba/ with list_attr_celeba.txt and "
            f"list_eval_partition.txt in {root}, {root / 'celeba'} or "
            f"{root / 'CelebA'}"
        )
    filenames, names, attrs, partition = _read_annotations(*annotations)
    indices, chosen = _attribute_indices(attributes, names)
    keep = partition == _CELEBA_PARTITIONS[split]
    filenames, attrs = filenames[keep], attrs[keep][:, indices]
    present = np.asarray([(images_dir / f).is_file() for f in filenames.tolist()])
    if not present.any():
        return f"official layout: none of the {split} images are in {images_dir}"
    if not present.all():
        warnings.warn(
            f"{int((~present).sum())} of {len(present)} CelebA {split} images are "
            f"missing from {images_dir}; loading the {int(present.sum())} present.",
            stacklevel=3,
        )
        filenames, attrs = filenames[present], attrs[present]
    x = _load_images([images_dir / f for f in filenames.tolist()], image_size)
    return x, attrs.astype(np.int8), chosen


def _parse_label(value: str, csv_path: Path, row: int, column: str) -> int:
    text = value.strip().lower()
    if text in ("true", "false"):
        return int(text == "true")
    try:
        number = float(text)
    except ValueError:
        number = None
    if number not in (-1.0, 0.0, 1.0):
        raise ValueError(
            f"{csv_path}, row {row}, column {column!r}: expected 0/1, -1/1 or "
            f"true/false, got {value!r}"
        )
    return int(number > 0)


def image_folder_arrays(
    directory: str | os.PathLike,
    labels_csv: str | os.PathLike,
    attributes: Sequence[str] | None = None,
    image_size: int = 64,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """A folder of images with a labels CSV, as numpy arrays.

    Every image is converted to RGB, centre-cropped to a square and resized to
    `image_size` with LANCZOS. All images are decoded up front, so errors show
    here rather than mid-training; this suits folders up to some 10^5 images.

    Args:
        directory: folder the CSV's filenames are relative to.
        labels_csv: CSV with a header, a `filename` column and one column per
            attribute holding 0/1, -1/1 or true/false. A relative path that does
            not exist is also tried inside `directory`.
        attributes: columns to keep, in the order wanted. Defaults to `None`,
            every column but `filename`, in CSV order.
        image_size: side of the square output images. Defaults to `64`.

    Returns:
        `(x, attrs, names)`: uint8 images `(N, S, S, 3)`, int8 0/1 attributes
        `(N, K)` and the K attribute names.

    Example:

    ```python
    x, a, names = keras_latent.datasets.image_folder_arrays(
        "my_faces/", "my_faces/labels.csv", attributes=["smiling"]
    )
    ```
    """
    directory = Path(directory)
    csv_path = Path(labels_csv)
    if not csv_path.is_file() and (directory / csv_path).is_file():
        csv_path = directory / csv_path
    if not csv_path.is_file():
        raise FileNotFoundError(f"Labels CSV {labels_csv} does not exist.")
    # utf-8-sig drops the byte-order mark that spreadsheet exports often add.
    with open(csv_path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        header = [h.strip() for h in (reader.fieldnames or [])]
        reader.fieldnames = header
        rows = list(reader)
    if "filename" not in header:
        raise ValueError(
            f"{csv_path} has no 'filename' column; its columns are: {', '.join(header)}"
        )
    columns = [h for h in header if h != "filename"]
    _, chosen = _attribute_indices(attributes, columns)
    if not rows:
        raise ValueError(f"{csv_path} lists no images.")
    filenames = [(row["filename"] or "").strip() for row in rows]
    missing = [name for name in filenames if not (directory / name).is_file()]
    if missing:
        raise FileNotFoundError(
            f"{len(missing)} of {len(filenames)} images named in {csv_path} are "
            f"missing from {directory}, e.g. {', '.join(missing[:5])}"
        )
    # Row numbers count the header as row 1, as a spreadsheet shows them.
    attrs = np.asarray(
        [
            [_parse_label(row[c] or "", csv_path, i + 2, c) for c in chosen]
            for i, row in enumerate(rows)
        ],
        dtype=np.int8,
    ).reshape(len(rows), len(chosen))
    x = _load_images([directory / name for name in filenames], image_size)
    return x, attrs, chosen


# --------------------------------------------------------------------------
# tf.data pipelines.
# --------------------------------------------------------------------------


def _to_float_images(images: tf.Tensor, image_size: int | None) -> tf.Tensor:
    images = tf.cast(images, tf.float32) / 255.0
    if image_size is not None:
        # LANCZOS-like resampling, to match how the packed arrays were made.
        images = tf.image.resize(
            images, (image_size, image_size), method="lanczos3", antialias=True
        )
        images = tf.clip_by_value(images, 0.0, 1.0)
    return images


def _array_dataset(
    images: np.ndarray,
    targets: np.ndarray,
    target_dtype: tf.DType,
    *,
    image_size: int | None = None,
    batch_size: int | None,
    shuffle: bool,
    seed: int | None,
) -> tf.data.Dataset:
    """Streams `(float image, target)` from uint8 arrays held once in memory."""
    n = len(images)
    # tf.data runs on the host anyway; this keeps the arrays out of GPU memory
    # even where TensorFlow can see a GPU.
    with tf.device("/CPU:0"):
        images_t = tf.convert_to_tensor(images)
        targets_t = tf.convert_to_tensor(targets, dtype=target_dtype)
    # Shuffling indices rather than images gives a whole-set shuffle buffer for
    # the price of N integers.
    ds = tf.data.Dataset.range(n)
    if shuffle:
        ds = ds.shuffle(n, seed=seed, reshuffle_each_iteration=True)
    if batch_size is not None:
        ds = ds.batch(batch_size)

    def gather(index):
        x = _to_float_images(tf.gather(images_t, index), image_size)
        return x, tf.gather(targets_t, index)

    ds = ds.map(gather, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def _stream_dataset(
    ds: tf.data.Dataset,
    *,
    batch_size: int | None,
    shuffle: bool,
    seed: int | None,
) -> tf.data.Dataset:
    """Finishes a dataset of `(uint8 image, target)` pairs."""
    if shuffle:
        ds = ds.shuffle(_TFDS_SHUFFLE_BUFFER, seed=seed, reshuffle_each_iteration=True)
    if batch_size is not None:
        ds = ds.batch(batch_size)
    ds = ds.map(
        lambda x, y: (_to_float_images(x, None), y),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    return ds.prefetch(tf.data.AUTOTUNE)


def _tfds_load(
    name: str,
    split: str,
    tfds_data_dir: str | os.PathLike | None,
    shuffle: bool,
    seed: int | None,
) -> tf.data.Dataset:
    # Imported lazily: it takes seconds and only this source needs it.
    import tensorflow_datasets as tfds

    return tfds.load(
        name,
        split=split,
        data_dir=None if tfds_data_dir is None else str(tfds_data_dir),
        download=False,
        shuffle_files=shuffle,
        read_config=tfds.ReadConfig(shuffle_seed=seed),
    )


def _try_tfds(
    name: str,
    split: str,
    tfds_data_dir: str | os.PathLike | None,
    shuffle: bool,
    seed: int | None,
    tried: list[str],
) -> tuple[tf.data.Dataset | None, Exception | None]:
    """Loads a prepared tfds split; on failure notes why in `tried`."""
    try:
        return _tfds_load(name, split, tfds_data_dir, shuffle, seed), None
    except Exception as err:
        # Not prepared, not installed or not registered: all mean "not here".
        where = tfds_data_dir or "the default tfds data dir"
        lines = str(err).strip().splitlines()
        tried.append(
            f"tfds: {name!r} split {split!r} is not available in {where} "
            f"({type(err).__name__}: {lines[0] if lines else ''})"
        )
        return None, err


def _load_classification(
    dataset: str,
    tfds_name: str,
    packed_fn: Callable[[str, str | os.PathLike | None], tuple | str],
    split: str,
    *,
    data_dir: str | os.PathLike | None,
    source: str,
    batch_size: int | None,
    shuffle: bool,
    seed: int | None,
    tfds_data_dir: str | os.PathLike | None,
) -> tf.data.Dataset:
    _check_choice("split", split, _SPLITS[dataset])
    _check_choice("source", source, _SOURCES[dataset])
    tried: list[str] = []
    if source in ("auto", "arrays"):
        result = packed_fn(split, data_dir)
        if not isinstance(result, str):
            x, y = result
            return _array_dataset(
                x, y, tf.int32, batch_size=batch_size, shuffle=shuffle, seed=seed
            )
        tried.append(result)
        if source == "arrays":
            raise _not_found(dataset, split, tried)
    ds, err = _try_tfds(tfds_name, split, tfds_data_dir, shuffle, seed, tried)
    if ds is None:
        raise _not_found(dataset, split, tried) from err
    ds = ds.map(
        lambda ex: (ex["image"], tf.cast(ex["label"], tf.int32)),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    return _stream_dataset(ds, batch_size=batch_size, shuffle=shuffle, seed=seed)


def load_mnist(
    split: str = "train",
    *,
    data_dir: str | os.PathLike | None = None,
    source: str = "auto",
    batch_size: int | None = None,
    shuffle: bool = False,
    seed: int | None = None,
    tfds_data_dir: str | os.PathLike | None = None,
) -> tf.data.Dataset:
    """MNIST as a `tf.data.Dataset` of `(image, label)`.

    Args:
        split: `"train"` or `"test"`. Defaults to `"train"`.
        data_dir: folder holding `mnist/mnist.npz`. Defaults to `None`, which
            uses `default_data_dir()`.
        source: `"auto"` (packed arrays, else a prepared tfds copy), `"arrays"`
            or `"tfds"`. Defaults to `"auto"`.
        batch_size: if given, the dataset yields batches of this size. Defaults
            to `None`, single examples.
        shuffle: whether to shuffle (a whole-set buffer for arrays, reshuffled
            each epoch). Defaults to `False`.
        seed: shuffle seed. Defaults to `None`.
        tfds_data_dir: tfds data directory. Defaults to `None`, tfds' own
            default.

    Returns:
        A `tf.data.Dataset` of float32 images `(28, 28, 1)` in `[0, 1]` and
        int32 labels.

    Example:

    ```python
    ds = keras_latent.datasets.load_mnist(batch_size=128, shuffle=True, seed=0)
    model.fit(ds, epochs=1)
    ```
    """
    return _load_classification(
        "mnist",
        "mnist",
        _packed_mnist,
        split,
        data_dir=data_dir,
        source=source,
        batch_size=batch_size,
        shuffle=shuffle,
        seed=seed,
        tfds_data_dir=tfds_data_dir,
    )


def load_cifar10(
    split: str = "train",
    *,
    data_dir: str | os.PathLike | None = None,
    source: str = "auto",
    batch_size: int | None = None,
    shuffle: bool = False,
    seed: int | None = None,
    tfds_data_dir: str | os.PathLike | None = None,
) -> tf.data.Dataset:
    """CIFAR-10 as a `tf.data.Dataset` of `(image, label)`.

    The packed arrays are a 5,000-image train subset decoded from JPEGs (see
    `cifar10_arrays`); a prepared tfds copy gives the full official splits.

    Args:
        split: `"train"` or `"test"` (tfds only). Defaults to `"train"`.
        data_dir: folder holding `cifar10_subset/`. Defaults to `None`, which
            uses `default_data_dir()`.
        source: `"auto"` (packed arrays, else a prepared tfds copy), `"arrays"`
            or `"tfds"`. Defaults to `"auto"`.
        batch_size: if given, the dataset yields batches of this size. Defaults
            to `None`, single examples.
        shuffle: whether to shuffle (a whole-set buffer for arrays, reshuffled
            each epoch). Defaults to `False`.
        seed: shuffle seed. Defaults to `None`.
        tfds_data_dir: tfds data directory. Defaults to `None`, tfds' own
            default.

    Returns:
        A `tf.data.Dataset` of float32 images `(32, 32, 3)` in `[0, 1]` and
        int32 labels (class names in `cifar10_subset/class_names.txt`).

    Example:

    ```python
    ds = keras_latent.datasets.load_cifar10(batch_size=64, shuffle=True, seed=0)
    ```
    """
    return _load_classification(
        "cifar10",
        "cifar10",
        _packed_cifar10,
        split,
        data_dir=data_dir,
        source=source,
        batch_size=batch_size,
        shuffle=shuffle,
        seed=seed,
        tfds_data_dir=tfds_data_dir,
    )


def _celeba_from_tfds(
    ds: tf.data.Dataset, names: list[str], image_size: int
) -> tf.data.Dataset:
    def convert(example):
        # tfds keeps the 218x178 originals; crop the same square as the arrays.
        image = example["image"][
            _CELEBA_CROP_TOP : _CELEBA_CROP_TOP + _CELEBA_WIDTH, :_CELEBA_WIDTH
        ]
        image = tf.image.resize(
            tf.cast(image, tf.float32),
            (image_size, image_size),
            method="lanczos3",
            antialias=True,
        )
        # Back to uint8 so a shuffle buffer costs what the packed arrays do.
        image = tf.cast(tf.round(tf.clip_by_value(image, 0.0, 255.0)), tf.uint8)
        attrs = tf.stack([tf.cast(example["attributes"][n], tf.float32) for n in names])
        return image, attrs

    return ds.map(convert, num_parallel_calls=tf.data.AUTOTUNE)


def load_celeba(
    split: str = "train",
    *,
    attributes: Sequence[str] | None = None,
    image_size: int = 64,
    data_dir: str | os.PathLike | None = None,
    source: str = "auto",
    batch_size: int | None = None,
    shuffle: bool = False,
    seed: int | None = None,
    tfds_data_dir: str | os.PathLike | None = None,
) -> tf.data.Dataset:
    """Aligned CelebA as a `tf.data.Dataset` of `(image, attributes)`.

    Sources, in the order `"auto"` tries them: the packed 64x64 arrays
    (`celeba64/`, train and val only: the test images are held back), a
    prepared tfds `celeb_a`, and the official download layout
    (`img_align_celeba/`, `list_attr_celeba.txt`, `list_eval_partition.txt`)
    in `data_dir`, `data_dir/celeba` or `data_dir/CelebA`. Every source crops
    the standard 178x178 centre square and resizes it to `image_size`. The
    official layout decodes all JPEGs of the split up front (threaded), which
    is fine for modest folders but takes minutes for all of CelebA.

    Args:
        split: `"train"`, `"val"` (or `"validation"`) or `"test"`. Defaults to
            `"train"`.
        attributes: attribute names to return, in the order wanted. Defaults to
            `None`, all 40 in `celeba_attribute_names()` order.
        image_size: side of the square images. Defaults to `64`.
        data_dir: folder holding `celeba64/` or the official layout. Defaults to
            `None`, which uses `default_data_dir()`.
        source: `"auto"`, `"arrays"`, `"tfds"` or `"official"`. Defaults to
            `"auto"`.
        batch_size: if given, the dataset yields batches of this size. Defaults
            to `None`, single examples.
        shuffle: whether to shuffle (a whole-set buffer for arrays and the
            official layout, 10,000 examples for tfds). Defaults to `False`.
        seed: shuffle seed. Defaults to `None`.
        tfds_data_dir: tfds data directory. Defaults to `None`, tfds' own
            default.

    Returns:
        A `tf.data.Dataset` of float32 images `(image_size, image_size, 3)` in
        `[0, 1]` and float32 0/1 attribute vectors `(K,)`.

    Example:

    ```python
    ds = keras_latent.datasets.load_celeba(
        attributes=["Smiling", "Male"], batch_size=64, shuffle=True, seed=0
    )
    images, attrs = next(iter(ds))
    ```
    """
    split = _normalize_celeba_split(split)
    _check_choice("source", source, _SOURCES["celeba"])
    options = dict(batch_size=batch_size, shuffle=shuffle, seed=seed)
    names = celeba_attribute_names(data_dir)
    _, chosen = _attribute_indices(attributes, names)
    tried: list[str] = []

    if source in ("auto", "arrays"):
        result = _packed_celeba(split, chosen, data_dir)
        if not isinstance(result, str):
            x, a, _ = result
            return _array_dataset(
                x,
                a,
                tf.float32,
                image_size=None if image_size == x.shape[1] else image_size,
                **options,
            )
        tried.append(result)
        if source == "arrays":
            raise _not_found("celeba", split, tried)

    if source in ("auto", "tfds"):
        tfds_split = "validation" if split == "val" else split
        ds, err = _try_tfds("celeb_a", tfds_split, tfds_data_dir, shuffle, seed, tried)
        if ds is not None:
            ds = _celeba_from_tfds(ds, chosen, image_size)
            return _stream_dataset(ds, **options)
        if source == "tfds":
            raise _not_found("celeba", split, tried) from err

    root, how = _resolve_data_dir(data_dir)
    if root is None:
        tried.append(f"official layout: {how}")
    else:
        result = _official_celeba_arrays(root, split, chosen, image_size)
        if not isinstance(result, str):
            x, a, _ = result
            return _array_dataset(x, a, tf.float32, **options)
        tried.append(result)
    raise _not_found("celeba", split, tried)


def load_image_folder(
    directory: str | os.PathLike,
    labels_csv: str | os.PathLike,
    *,
    attributes: Sequence[str] | None = None,
    image_size: int = 64,
    batch_size: int | None = None,
    shuffle: bool = False,
    seed: int | None = None,
) -> tf.data.Dataset:
    """Your own images and a labels CSV as a `tf.data.Dataset`.

    See `image_folder_arrays` for the CSV format and the preprocessing.

    Args:
        directory: folder the CSV's filenames are relative to.
        labels_csv: CSV with a header, a `filename` column and one 0/1 (or
            -1/1, or true/false) column per attribute.
        attributes: columns to return, in the order wanted. Defaults to `None`,
            every column but `filename`.
        image_size: side of the square images. Defaults to `64`.
        batch_size: if given, the dataset yields batches of this size. Defaults
            to `None`, single examples.
        shuffle: whether to shuffle, with a whole-set buffer. Defaults to
            `False`.
        seed: shuffle seed. Defaults to `None`.

    Returns:
        A `tf.data.Dataset` of float32 images `(image_size, image_size, 3)` in
        `[0, 1]` and float32 0/1 attribute vectors `(K,)`.

    Example:

    ```python
    ds = keras_latent.datasets.load_image_folder(
        "my_faces/", "my_faces/labels.csv", batch_size=32, shuffle=True, seed=0
    )
    ```
    """
    x, a, _ = image_folder_arrays(directory, labels_csv, attributes, image_size)
    return _array_dataset(
        x, a, tf.float32, batch_size=batch_size, shuffle=shuffle, seed=seed
    )

"""Image files: the official CelebA download layout and user folders.

Images are decoded with PIL (`keras_latent.images`), centre-cropped to a square
and resized with LANCZOS, on a thread pool; no TensorFlow needed.
"""

from __future__ import annotations

import csv
import os
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import numpy as np

from keras_latent.datasets.arrays import _attribute_indices
from keras_latent.datasets.celeba_annotations import (
    _CELEBA_PARTITIONS,
    _find_official_annotations,
    _official_roots,
    _read_annotations,
)
from keras_latent.images import _load_square_rgb


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

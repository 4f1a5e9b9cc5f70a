"""Packs the shared data compactly (CelebA as JPEG) and unpacks it again.

    python scripts/pack_jpeg_data.py pack --data_dir ../shared/data --packed .data
    python scripts/pack_jpeg_data.py unpack --packed .data --data_dir /tmp/data

For training on a machine the raw arrays cannot travel to (a lent GPU box
that takes tens of MB): CelebA's train and val images become JPEG bytes
(quality `--quality`, about a fifth of the raw size); attributes, the
annotation files and MNIST travel as they are. `unpack` writes the packed
layout of `shared/data` back (`celeba64/{train,val}.npz`,
`attribute_names.txt`, `annotations/`, `mnist/mnist.npz`), so the recipes
read it with `--data_dir`. A preset trained on it says so in its metadata
through the recipes' `--data_note`.
"""

from __future__ import annotations

import io
import shutil
import sys
from pathlib import Path

import numpy as np
from absl import app, flags
from PIL import Image

flags.DEFINE_string(
    "data_dir", None, "The shared data folder (pack: read; unpack: write)."
)
flags.DEFINE_string("packed", None, "The packed folder (pack: write; unpack: read).")
flags.DEFINE_integer("quality", 90, "JPEG quality of the CelebA images.")
flags.mark_flags_as_required(["data_dir", "packed"])
FLAGS = flags.FLAGS

COPIED = (
    "celeba64/attribute_names.txt",
    "celeba64/annotations/list_attr_celeba.txt.gz",
    "celeba64/annotations/list_eval_partition.txt.gz",
    "mnist/mnist.npz",
)


def encode(images: np.ndarray, quality: int) -> tuple[np.ndarray, np.ndarray]:
    """`(all JPEG bytes end to end, each image's end offset)`."""
    chunks = []
    for image in images:
        buffer = io.BytesIO()
        Image.fromarray(image).save(buffer, "JPEG", quality=quality)
        chunks.append(np.frombuffer(buffer.getvalue(), np.uint8))
    return np.concatenate(chunks), np.cumsum([len(c) for c in chunks])


def decode(data: np.ndarray, ends: np.ndarray) -> np.ndarray:
    starts = np.concatenate([[0], ends[:-1]])
    return np.stack(
        [
            np.asarray(Image.open(io.BytesIO(data[s:e].tobytes())).convert("RGB"))
            for s, e in zip(starts, ends)
        ]
    )


def pack(source: Path, packed: Path) -> None:
    for split in ("train", "val"):
        with np.load(source / f"celeba64/{split}.npz") as z:
            data, ends = encode(z["images"], FLAGS.quality)
            attributes = z["attributes"]
        np.savez(
            packed / f"celeba64_{split}_jpeg.npz",
            jpeg=data,
            ends=ends,
            attributes=attributes,
            quality=FLAGS.quality,
        )
        print(f"{split}: {len(ends)} images, {data.nbytes / 2**20:.1f} MiB of JPEG")
    for relative in COPIED:
        shutil.copy(source / relative, packed / relative.replace("/", "__"))


def unpack(packed: Path, target: Path) -> None:
    (target / "celeba64/annotations").mkdir(parents=True, exist_ok=True)
    (target / "mnist").mkdir(parents=True, exist_ok=True)
    for split in ("train", "val"):
        with np.load(packed / f"celeba64_{split}_jpeg.npz") as z:
            images = decode(z["jpeg"], z["ends"])
            attributes = z["attributes"]
        np.savez(target / f"celeba64/{split}.npz", images=images, attributes=attributes)
        print(f"{split}: {images.shape} decoded")
    for relative in COPIED:
        shutil.copy(packed / relative.replace("/", "__"), target / relative)


def main(argv):
    if len(argv) != 2 or argv[1] not in ("pack", "unpack"):
        sys.exit("usage: pack_jpeg_data.py pack|unpack --data_dir ... --packed ...")
    data_dir, packed = Path(FLAGS.data_dir), Path(FLAGS.packed)
    if argv[1] == "pack":
        packed.mkdir(parents=True, exist_ok=True)
        pack(data_dir, packed)
    else:
        unpack(packed, data_dir)


if __name__ == "__main__":
    app.run(main)

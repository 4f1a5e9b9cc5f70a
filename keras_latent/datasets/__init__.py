"""Datasets for the zoo: NumPy arrays, and `tf.data.Dataset`s that
`keras.Model.fit` accepts on every backend.

Images are uint8 `(N, H, W, C)` from the `*_arrays` functions and float32 in
`[0, 1]` from the `load_*` pipelines. Nothing is ever downloaded: each loader
tries, in order, the packed arrays of the data directory (see
`shared/data/README.md`), a locally prepared TensorFlow Datasets copy and, for
CelebA, the official download layout.

Where the data comes from: the `data_dir=` argument of every loader (the
training recipes' `--data_dir` flag), else `$KERAS_LATENT_DATA`, else a
`shared/data` folder next to the working directory or the checkout; see
`default_data_dir()`.

What lives where:

- `locate`: `default_data_dir`, `DATA_ENV_VAR` and the "could not find ...,
  here is how to get it" errors.
- `arrays`: the packed arrays (`mnist_arrays`, `cifar10_arrays`,
  `celeba_arrays`), `celeba_attribute_names` and `CELEBA_ATTRIBUTE_NAMES`.
- `celeba_annotations`: the complete official attribute and partition files
  (`celeba_annotations`, `celeba_label_vectors`).
- `batches`: `ArrayBatches`, shuffled batches of arrays for `fit` on any
  backend without TensorFlow.
- `image_files`: the official CelebA image layout and user folders with a
  labels CSV (`image_folder_arrays`).
- `pipelines`: the `tf.data` loaders (`load_mnist`, `load_cifar10`,
  `load_celeba`, `load_image_folder`) over all of the above and tfds.

Only `pipelines` imports TensorFlow, and it is imported on first use of a
`load_*` name, so the array functions work without loading TensorFlow.
"""

from keras_latent.datasets.arrays import (
    CELEBA_ATTRIBUTE_NAMES,
    celeba_arrays,
    celeba_attribute_names,
    cifar10_arrays,
    mnist_arrays,
)
from keras_latent.datasets.batches import ArrayBatches
from keras_latent.datasets.celeba_annotations import (
    celeba_annotations,
    celeba_label_vectors,
)
from keras_latent.datasets.image_files import image_folder_arrays
from keras_latent.datasets.locate import (
    CELEBA_OFFICIAL_URL as CELEBA_OFFICIAL_URL,
)
from keras_latent.datasets.locate import DATA_ENV_VAR as DATA_ENV_VAR
from keras_latent.datasets.locate import default_data_dir

__all__ = [
    "ArrayBatches",
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

# Served by `__getattr__` so that importing the package does not import
# TensorFlow (seconds, and a large share of memory on the JAX and PyTorch
# backends) until a `tf.data` loader is asked for.
_PIPELINE_NAMES = ("load_celeba", "load_cifar10", "load_image_folder", "load_mnist")


def __getattr__(name: str):
    if name in _PIPELINE_NAMES:
        from keras_latent.datasets import pipelines

        return getattr(pipelines, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PIPELINE_NAMES))

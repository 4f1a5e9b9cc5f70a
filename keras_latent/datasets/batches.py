"""Shuffled batches of in-memory arrays for `fit` on any backend, without TensorFlow.

`ArrayBatches` is a `keras.utils.PyDataset`: Keras feeds it to `fit` on
TensorFlow, JAX and PyTorch alike, so a machine with only JAX or only PyTorch
(a GPU box, say) trains the zoo's models from the packed arrays.
"""

from __future__ import annotations

import keras
import numpy as np


class ArrayBatches(keras.utils.PyDataset):
    """Endless shuffled batches of uint8 (or float) images, with their labels.

    Every pass over the data is a fresh permutation drawn from `seed` and the
    pass's number, so batch `i` is the same on every run and every backend.
    The last incomplete batch of a pass is dropped, so each batch has
    `batch_size` rows. Images stay in their dtype in memory (uint8 CelebA is
    a quarter of its float32 size) and each batch is converted to float32 in
    `[0, 1]` when it is taken.

    Args:
        images: array `(N, H, W, C)`, uint8 in `[0, 255]` or floats in
            `[0, 1]`.
        labels: array with `N` rows, or `None` for batches of images alone.
            Defaults to `None`.
        batch_size: rows per batch. Defaults to `64`.
        flip: whether to mirror each image left-right with probability 0.5
            (for faces; not for digits). Defaults to `False`.
        seed: seed of the permutations and flips. Defaults to `0`.
        repeat: whether the batches go on forever (`fit` then needs
            `steps_per_epoch`); else one pass. Defaults to `True`.
        **kwargs: `workers`, `use_multiprocessing`, `max_queue_size` of
            `keras.utils.PyDataset`.

    Example:

    ```python
    x, y = keras_latent.datasets.mnist_arrays("train")
    batches = keras_latent.datasets.ArrayBatches(x, y, batch_size=64)
    model.fit(batches, epochs=10, steps_per_epoch=500)
    ```
    """

    def __init__(
        self,
        images: np.ndarray,
        labels: np.ndarray | None = None,
        batch_size: int = 64,
        flip: bool = False,
        seed: int = 0,
        repeat: bool = True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        images = np.asarray(images)
        if images.ndim != 4:
            raise ValueError(
                "`images` must be an array (N, height, width, channels); "
                f"received shape {images.shape}."
            )
        if labels is not None and len(labels) != len(images):
            raise ValueError(
                f"`labels` has {len(labels)} rows but `images` has {len(images)}."
            )
        if not isinstance(batch_size, int) or not 1 <= batch_size <= len(images):
            raise ValueError(
                f"`batch_size` must be an integer from 1 to the {len(images)} "
                f"images; received {batch_size!r}."
            )
        self.images = images
        self.labels = None if labels is None else np.asarray(labels)
        self.batch_size = batch_size
        self.flip = flip
        self.seed = seed
        self.repeat = repeat
        self.batches_per_pass = len(images) // batch_size
        self._order = (None, None)  # (pass number, its permutation)

    @property
    def num_batches(self) -> int | None:
        return None if self.repeat else self.batches_per_pass

    def _permutation(self, pass_number: int) -> np.ndarray:
        cached_pass, order = self._order
        if cached_pass != pass_number:
            rng = np.random.default_rng([self.seed, pass_number])
            order = rng.permutation(len(self.images))
            self._order = (pass_number, order)
        return order

    def __getitem__(self, index: int):
        if not self.repeat and index >= self.batches_per_pass:
            raise IndexError(f"batch {index} of {self.batches_per_pass}")
        pass_number, position = divmod(int(index), self.batches_per_pass)
        start = position * self.batch_size
        rows = np.sort(self._permutation(pass_number)[start : start + self.batch_size])
        images = self.images[rows]
        if images.dtype == np.uint8:
            images = images.astype("float32") / 255.0
        else:
            images = images.astype("float32")
        if self.flip:
            mirror = np.random.default_rng([self.seed, index, 1]).random(len(rows))
            images[mirror < 0.5] = images[mirror < 0.5, :, ::-1]
        if self.labels is None:
            return images
        return images, self.labels[rows]

"""Inference of the label-relevant/irrelevant VAE: codes, samples and edits.

Every method takes NumPy (float images in [0, 1], uint8 images, lists of
images) or tensors and returns float32 NumPy arrays on every backend, with
no autograd history.
"""

from __future__ import annotations

from collections.abc import Mapping

import keras
import numpy as np
from keras import ops

from keras_latent.utils.inputs import (
    check_choice,
    check_int,
    predict_in_batches,
    standardize_images,
    validate_batch_size,
    validate_latents,
    validate_seed,
)

INTERPOLATED_CODES = ("relevant", "irrelevant")


class InferenceMixin:
    """`encode`, `decode`, `reconstruct`, `predict_attributes`, `generate`,
    `transform`, `interpolate` and `inpaint` of `LabelRelevantIrrelevantVAE`.

    Reads the model's networks through its tensor functions
    (`_relevant_code`, `_irrelevant_posterior`, `_decode`, `_class_logits`)
    and its labels through `LabelsMixin`.
    """

    # -- the exported graphs (backend tensors; `keras_latent.export`) ------------

    @property
    def noise_dim(self) -> int:
        """The width of `generator_graph`'s noise: ε_s, then ε_u."""
        return self.relevant_dim + self.irrelevant_dim

    def generator_graph(self, noise, labels):
        """D(μ_y + σ_y ⊙ ε_s, ε_u): a sample of class `labels` from noise.

        `noise` is standard normal: its first `relevant_dim` columns ε_s
        scale the class Gaussian (z_s = μ_y + σ_y ⊙ ε_s, with μ_y = y·μ and
        σ_y = y·σ for a one-hot y), the others are z_u. What `generate`
        runs, and what `keras_latent.export` exports: Keras layers and
        `keras.ops` only.

        Args:
            noise: float32 tensor `(batch, noise_dim)`.
            labels: float32 one-hot tensor `(batch, K)` in the order of
                `attribute_names`.

        Returns:
            A float32 tensor `(batch, H, W, C)` in [0, 1].
        """
        z_s = self.mixture.codes(labels, noise[:, : self.relevant_dim])
        return self._decode(z_s, noise[:, self.relevant_dim :])

    def edit_graph(self, images, labels):
        """D(μ_y, μ(x)): `images` moved to class `labels`, keeping their z_u.

        What `transform` runs, and what `keras_latent.export` exports.

        Args:
            images: float32 tensor `(batch, H, W, C)` in [0, 1].
            labels: float32 one-hot tensor `(batch, K)`, the target classes.

        Returns:
            A float32 tensor `(batch, H, W, C)` in [0, 1].
        """
        z_u = self._irrelevant_posterior(images)[0]
        return self._decode(self.mixture.codes(labels), z_u)

    # -- NumPy in, float32 NumPy out ------------------------------------------------

    def encode(self, images, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
        """The codes `(z_s, z_u_mean)` of `images`: E_s(x) and μ(x) of q(z_u|x).

        Args:
            images: `(N, H, W, C)` floats in [0, 1], uint8 images (divided
                by 255), or a list of images.
            batch_size: int. Defaults to `256`.

        Returns:
            Two float32 NumPy arrays, `(N, relevant_dim)` and
            `(N, irrelevant_dim)`.

        Example:

        ```python
        z_s, z_u = model.encode(images)
        ```
        """
        images = standardize_images(images, self.image_shape)

        def codes(x):
            mean = self._irrelevant_posterior(x)[0]
            return ops.concatenate([self._relevant_code(x), mean], axis=-1)

        both = predict_in_batches(codes, images, batch_size)
        return both[:, : self.relevant_dim], both[:, self.relevant_dim :]

    def decode(self, z_s, z_u, batch_size: int = 256) -> np.ndarray:
        """The decoder's image x̂ = D(concat(z_s, z_u)) in [0, 1].

        Args:
            z_s: label-relevant codes `(N, relevant_dim)`.
            z_u: label-irrelevant codes `(N, irrelevant_dim)`.
            batch_size: int. Defaults to `256`.

        Returns:
            A float32 NumPy array `(N, H, W, C)`.

        Example:

        ```python
        z_s, z_u = model.encode(images)
        same = model.decode(z_s, z_u)  # model.reconstruct(images)
        ```
        """
        z_s = validate_latents(z_s, self.relevant_dim, "z_s")
        z_u = validate_latents(z_u, self.irrelevant_dim, "z_u")
        if len(z_s) != len(z_u):
            raise ValueError(
                "`z_s` and `z_u` must hold as many codes. Received "
                f"{len(z_s)} and {len(z_u)}."
            )
        return predict_in_batches(self._decode, (z_s, z_u), batch_size)

    def reconstruct(self, images, batch_size: int = 256) -> np.ndarray:
        """D(E_s(x), μ(x)): the images decoded from their own codes.

        Args:
            images: `(N, H, W, C)` floats in [0, 1], uint8 images, or a
                list of images.
            batch_size: int. Defaults to `256`.

        Returns:
            A float32 NumPy array `(N, H, W, C)` in [0, 1].

        Example:

        ```python
        reconstructions = model.reconstruct(images)
        ```
        """
        images = standardize_images(images, self.image_shape)
        return predict_in_batches(self, images, batch_size)

    def predict_attributes(self, images, batch_size: int = 256) -> np.ndarray:
        """Class probabilities `softmax_k(−d_k(E_s(x)))` from the GM logits.

        With equal class priors this is the posterior p(k | z_s) of the
        mixture the GM loss fits.

        Args:
            images: `(N, H, W, C)` floats in [0, 1], uint8 images, or a
                list of images.
            batch_size: int. Defaults to `256`.

        Returns:
            A float32 NumPy array `(N, K)`, columns in the order of
            `attribute_names`, rows summing to 1.

        Example:

        ```python
        digits = model.predict_attributes(images).argmax(axis=1)
        ```
        """
        images = standardize_images(images, self.image_shape)
        return predict_in_batches(
            lambda x: ops.softmax(self._class_logits(self._relevant_code(x))),
            images,
            batch_size,
        )

    def generate(
        self,
        attributes=None,
        num_samples: int = 16,
        seed: int | None = None,
        batch_size: int = 256,
    ) -> np.ndarray:
        """Samples images of given classes: z_s ~ N(μ_k, diag σ²_k), z_u ~ N(0, I).

        Args:
            attributes: a dict naming the class, e.g. `{"7": 1}` (classes
                set to 0 are excluded; classes left out are drawn from the
                training marginals), a one-hot array `(K,)` or
                `(num_samples, K)`, or `None` (classes drawn from the
                training marginals). Defaults to `None`.
            num_samples: int. Defaults to `16`.
            seed: int in [0, 2**31 - 1] or None. The same seed gives the
                same images on one backend; `None` advances the model's own
                seed generator. Defaults to `None`.
            batch_size: int. Defaults to `256`.

        Returns:
            A float32 NumPy array `(num_samples, H, W, C)` in [0, 1].

        Example:

        ```python
        sevens = model.generate({"7": 1}, num_samples=8, seed=0)
        ```
        """
        batch_size = validate_batch_size(batch_size)
        seed = validate_seed(seed)
        labels = self.label_vectors(attributes, num_samples, seed)
        # One generator for both codes: a fixed seed reused for two draws of
        # different shapes would give correlated numbers on some backends.
        generator = (
            self.seed_generator if seed is None else keras.random.SeedGenerator(seed)
        )
        # ε_s then ε_u, drawn in the order `mixture.sample` and the z_u draw
        # drew them before, so seeded samples did not change.
        noise = ops.concatenate(
            [
                keras.random.normal((num_samples, dim), seed=generator)
                for dim in (self.relevant_dim, self.irrelevant_dim)
            ],
            axis=-1,
        )
        noise = ops.convert_to_numpy(noise)
        return predict_in_batches(self.generator_graph, (noise, labels), batch_size)

    def transform(self, images, attributes, batch_size: int = 256) -> np.ndarray:
        """Changes the class of `images`, keeping their label-irrelevant code.

        Each image keeps its z_u = μ(x) (its style: stroke width, slant,
        pose); its z_s is replaced by the target class's mean μ_k, the most
        typical label-relevant code of that class:

            x' = D(μ_k, μ(x)).

        Args:
            images: `(N, H, W, C)` floats in [0, 1], uint8 images, or a
                list of images.
            attributes: the target class, as a dict setting one class to 1
                (`{"3": 1}`), or one-hot rows `(K,)` (one class for every
                image) or `(N, K)` (one per image).
            batch_size: int. Defaults to `256`.

        Returns:
            A float32 NumPy array `(N, H, W, C)` in [0, 1].

        Example:

        ```python
        threes = model.transform(images, {"3": 1})
        ```
        """
        batch_size = validate_batch_size(batch_size)
        images = standardize_images(images, self.image_shape)
        class_ids = self._target_classes(attributes, len(images))
        labels = np.eye(self.label_dim, dtype="float32")[class_ids]
        return predict_in_batches(self.edit_graph, (images, labels), batch_size)

    def _target_classes(self, attributes, num_images: int) -> np.ndarray:
        """The class id of each image's edit, `(num_images,)`."""
        if isinstance(attributes, Mapping):
            targets = self._target_dict(attributes)
            on = [name for name, value in targets.items() if value == 1.0]
            if not on:
                raise ValueError(
                    "`attributes` must set the target class to 1, for example "
                    f"{{'{self.attribute_names[0]}': 1}}. Received: {attributes!r}"
                )
            return np.full(num_images, self.attribute_names.index(on[0]))
        if attributes is None:
            raise ValueError(
                "`attributes` must name the target class: a dict such as "
                f"{{'{self.attribute_names[0]}': 1}} or one-hot rows of "
                f"{len(self.attribute_names)} columns. Received: None"
            )
        return np.argmax(self._label_array(attributes, num_images), axis=1)

    def interpolate(
        self,
        images_a,
        images_b,
        steps: int = 8,
        code: str = "relevant",
        batch_size: int = 256,
    ) -> np.ndarray:
        """Walks one code linearly from image a's to image b's.

        With `code="relevant"` the images decode
        `((1 − t) z_s(a) + t z_s(b), z_u(a))`, so the class changes while
        a's style stays; with `code="irrelevant"` they decode
        `(z_s(a), (1 − t) z_u(a) + t z_u(b))`, so the style changes while
        a's class stays. t runs over `steps` evenly spaced values from 0 to
        1; codes are E_s(x) and μ(x).

        Args:
            images_a: `(N, H, W, C)` images (floats in [0, 1], uint8, or a
                list), the starting points.
            images_b: `(N, H, W, C)` images, the end points.
            steps: int >= 2. Images per path, both ends included. Defaults
                to `8`.
            code: `"relevant"` or `"irrelevant"`: the code that moves.
                Defaults to `"relevant"`.
            batch_size: int. Defaults to `256`.

        Returns:
            A float32 NumPy array `(N, steps, H, W, C)` in [0, 1].

        Example:

        ```python
        paths = model.interpolate(ones, sevens, steps=8, code="relevant")
        ```
        """
        check_choice("code", code, INTERPOLATED_CODES)
        steps = check_int(steps, "steps", minimum=2)
        images_a = standardize_images(images_a, self.image_shape, "images_a")
        images_b = standardize_images(images_b, self.image_shape, "images_b")
        if len(images_a) != len(images_b):
            raise ValueError(
                "`images_a` and `images_b` must hold as many images. Received "
                f"{len(images_a)} and {len(images_b)}."
            )
        start, end = (
            self.encode(images_a, batch_size),
            self.encode(images_b, batch_size),
        )
        moving = 0 if code == "relevant" else 1
        t = np.linspace(0.0, 1.0, steps, dtype="float32")[None, :, None]
        paths = []
        for index in (0, 1):
            a = start[index][:, None, :]
            if index == moving:
                # Exactly a's and b's codes at t = 0 and t = 1.
                path = (1.0 - t) * a + t * end[index][:, None, :]
            else:
                path = np.repeat(a, steps, axis=1)
            paths.append(path.reshape(-1, path.shape[-1]))
        images = self.decode(paths[0], paths[1], batch_size)
        return images.reshape(len(images_a), steps, *self.image_shape)

    def inpaint(self, images, mask, batch_size: int = 256) -> np.ndarray:
        """Fills the masked-out pixels with the model's reconstruction.

        `M ⊙ x + (1 − M) ⊙ D(E_s(x), μ(x))`: where the mask is 1 the pixels
        are kept exactly; where it is 0 the reconstruction fills in (values
        in between blend the two).

        Args:
            images: `(N, H, W, C)` floats in [0, 1], uint8 images, or a
                list of images.
            mask: values in [0, 1] (1 = keep), bool or float, of shape
                `(H, W)` or `(H, W, c)` (the same for every image), or
                `(N, H, W, c)`, with c = 1 or C.
            batch_size: int. Defaults to `256`.

        Returns:
            A float32 NumPy array `(N, H, W, C)` in [0, 1].

        Example:

        ```python
        mask = np.ones((28, 28)); mask[14:] = 0  # keep the top half
        completed = model.inpaint(images, mask)
        ```
        """
        images = standardize_images(images, self.image_shape)
        mask = self._check_mask(mask, len(images))
        reconstructed = self.reconstruct(images, batch_size)
        return (mask * images + (1.0 - mask) * reconstructed).astype("float32")

    def _check_mask(self, mask, num_images: int) -> np.ndarray:
        """`mask` checked, as float32 `(1 or N, H, W, 1 or C)`."""
        height, width, channels = self.image_shape
        try:
            array = np.asarray(keras.ops.convert_to_numpy(mask))
        except (TypeError, ValueError, RuntimeError):
            array = np.asarray(None)
        if array.dtype.kind not in "biuf":
            raise ValueError(
                f"`mask` must be a numeric or bool array. Received: {mask!r}"
            )
        if array.ndim == 2:
            array = array[..., None]
        if array.ndim == 3:
            array = array[None]
        valid = (
            array.ndim == 4
            and array.shape[0] in (1, num_images)
            and array.shape[1:3] == (height, width)
            and array.shape[3] in (1, channels)
        )
        if not valid:
            raise ValueError(
                f"`mask` must have shape ({height}, {width}), ({height}, "
                f"{width}, 1) or ({num_images}, {height}, {width}, 1) (or with "
                f"{channels} channels). Received shape {np.shape(mask)}."
            )
        array = array.astype("float32")
        if not np.all((array >= 0.0) & (array <= 1.0)):
            raise ValueError(
                "`mask` must hold values in [0, 1] (1 = keep the pixel), with no NaN."
            )
        return array

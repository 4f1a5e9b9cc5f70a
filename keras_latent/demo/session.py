"""What the attribute page does, without the page: NumPy in, NumPy out.

`DemoSession` holds one loaded model and answers the page's two questions:
a grid of samples for the chosen attributes, seed and count, and the
reconstruction and edit of an uploaded photo. The Gradio layer
(`keras_latent.demo.page`) only wires controls to these methods, so all of
this is tested without a browser or Gradio.
"""

from __future__ import annotations

import inspect
import logging
import os
import threading
import time
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from keras_latent.images import image_grid, load_image

logger = logging.getLogger(__name__)

# What a control reads when it leaves an attribute alone: drawn from the
# training marginals when generating, the photo's own when editing.
ANY = "any"
KEEP = "keep"
# The two values of a multi-label attribute, as the page shows them.
WITHOUT = "off"
WITH = "on"
# Limits on an upload, checked before it is decoded: a photo for a 64x64 or
# 32x32 model needs neither more bytes nor more pixels.
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_UPLOAD_PIXELS = 40_000_000
MAX_SAMPLES = 64
MAX_SEED = 2**31 - 1
# Tiles are shown this many times larger, so that a 28x28 digit is visible.
DISPLAY_SIZE = 128


class UploadError(ValueError):
    """An uploaded file the page cannot edit; its message is shown as is."""


def _display_scale(image_shape) -> int:
    return max(1, DISPLAY_SIZE // int(image_shape[0]))


def _enlarge(grid: np.ndarray, scale: int) -> np.ndarray:
    """Nearest-neighbour enlargement: pixels stay sharp, as in the CLI's grids."""
    if scale == 1:
        return grid
    return np.repeat(np.repeat(grid, scale, axis=0), scale, axis=1)


class DemoSession:
    """One model behind the attribute page.

    Args:
        model: a generative model of the zoo: one with `generate`
            (conditional ones also have `attribute_names` and `label_type`),
            optionally `transform` and `reconstruct` for editing.
        name: str. What the page calls the model, e.g. the preset's name.
            Defaults to the class name.
        warm_up: bool. Generate once now, so that the first request does not
            pay for tracing and compilation. Defaults to `True`.

    Example:

    ```python
    session = DemoSession(keras_latent.from_preset("celeba_latent_constraints"))
    grid = session.sample_grid({"Smiling": "with"}, seed=0, count=16)
    ```
    """

    def __init__(self, model, name: str | None = None, warm_up: bool = True):
        if not hasattr(model, "generate"):
            raise ValueError(
                f"The page needs a generative model; {type(model).__name__} "
                "does not generate images. Use a preset such as "
                "celeba_latent_constraints (keras-latent list shows them all)."
            )
        self.model = model
        self.name = name or type(model).__name__
        self.attribute_names = list(getattr(model, "attribute_names", []))
        self.categorical = getattr(model, "label_type", None) == "categorical"
        self.can_edit = hasattr(model, "transform") and hasattr(model, "reconstruct")
        self.edit_methods = self._edit_methods(model) if self.can_edit else []
        self.scale = _display_scale(model.image_shape)
        # The page answers each request in a thread of its own; one model
        # call at a time keeps the seed generators and the compiled
        # functions' caches out of races.
        self._lock = threading.Lock()
        if warm_up:
            self.sample_grid({}, seed=0, count=1)

    @staticmethod
    def _edit_methods(model) -> list:
        """The `method` choices of `transform`, default first; [] if it has one."""
        parameter = inspect.signature(model.transform).parameters.get("method")
        if parameter is None:
            return []
        choices = list(getattr(model, "transform_methods", [parameter.default]))
        default = parameter.default
        return [default] + [c for c in choices if c != default]

    @property
    def conditional(self) -> bool:
        return bool(self.attribute_names)

    # -- choices from the controls ---------

    def attributes_from_choices(self, choices: Mapping, leave: str) -> dict:
        """The model's `attributes` dict from the controls' values.

        Args:
            choices: for multi-label models, attribute name → `leave`,
                `"without"` or `"with"`; for categorical ones, `{"class":
                leave or a class name}`.
            leave: the value that leaves an attribute alone (`"any"` when
                generating, `"keep"` when editing).

        Returns:
            dict of name → 0/1, only the attributes that are set.
        """
        if self.categorical:
            chosen = choices.get("class", leave)
            if chosen in (None, leave):
                return {}
            self._check_value("class", chosen, self.attribute_names)
            return {chosen: 1}
        attributes = {}
        for name, value in choices.items():
            if value in (None, leave):
                continue
            self._check_value(name, value, (leave, WITHOUT, WITH))
            attributes[name] = 1 if value == WITH else 0
        return attributes

    def _check_value(self, name, value, valid) -> None:
        """Raises a ValueError unless `name` is a control and `value` one of `valid`."""
        if name != "class" and name not in self.attribute_names:
            raise ValueError(
                f"Unknown attribute '{name}'; {self.name} knows {self.attribute_names}."
            )
        if value not in valid:
            raise ValueError(
                f"'{name}' cannot be '{value}'; choose one of {list(valid)}."
            )

    # -- the two answers ---------

    def sample_grid(self, choices: Mapping, seed, count) -> np.ndarray:
        """A grid of `count` samples with the chosen attributes, as uint8 RGB.

        Args:
            choices: see `attributes_from_choices` (values `"any"` are drawn).
            seed: int in [0, 2**31 - 1]; the same seed gives the same grid.
            count: int in [1, 64].

        Returns:
            uint8 array `(height, width, 3)`, the tiles enlarged for display.
        """
        seed = _bounded_int("seed", seed, 0, MAX_SEED)
        count = _bounded_int("count", count, 1, MAX_SAMPLES)
        kwargs = {}
        if self.conditional:
            kwargs["attributes"] = self.attributes_from_choices(choices, ANY)
        started = time.perf_counter()
        with self._lock:
            images = self.model.generate(num_samples=count, seed=seed, **kwargs)
        logger.debug(
            "%d samples of %s in %.2f s",
            count,
            self.name,
            time.perf_counter() - started,
        )
        return _enlarge(image_grid(images), self.scale)

    def edit_grid(self, path, choices: Mapping, method: str | None = None):
        """The uploaded photo, its reconstruction and its edit, side by side.

        Args:
            path: the uploaded file.
            choices: see `attributes_from_choices` (values `"keep"` keep the
                photo's own attribute).
            method: one of `edit_methods`, or None for the model's default.
                Defaults to `None`.

        Returns:
            `(grid, message)`: uint8 RGB array of the three tiles, and a line
            saying what was done.

        Raises:
            UploadError: the file is too big, has too many or too few pixels,
                or is not an image; its message names the file by its name.
        """
        if not self.can_edit:
            raise ValueError(f"{self.name} does not edit photos.")
        image = load_upload(path, self.model.image_shape)[None]
        attributes = self.attributes_from_choices(choices, KEEP)
        options = {}
        if method is not None and self.edit_methods:
            if method not in self.edit_methods:
                raise ValueError(
                    f"`method` must be one of {self.edit_methods}. Received: {method!r}"
                )
            options["method"] = method
        with self._lock:
            reconstruction = self.model.reconstruct(image)
            if attributes:
                edited = self.model.transform(image, attributes, **options)
        if attributes:
            message = "Edited: " + ", ".join(
                f"{k} {'on' if v else 'off'}" for k, v in attributes.items()
            )
        else:
            edited = reconstruction
            message = "Choose an attribute to change; the edit is the reconstruction."
        tiles = np.concatenate([image, reconstruction, edited])
        return _enlarge(image_grid(tiles, rows=1), self.scale), message


def _bounded_int(name: str, value, low: int, high: int) -> int:
    """`value` as an int in [low, high], or a ValueError naming `name`."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")  # reported as not a whole number below
    if not np.isfinite(number) or number != int(number):
        raise ValueError(f"`{name}` must be a whole number. Received: {value!r}")
    if not low <= number <= high:
        raise ValueError(f"`{name}` must be in [{low}, {high}]. Received: {value!r}")
    return int(number)


def load_upload(path, image_shape) -> np.ndarray:
    """Reads an uploaded photo as the model's input, refusing bad uploads.

    Checks the file's size and the image's pixel count before decoding it,
    then reads it with `keras_latent.images.load_image` (centre crop, resize;
    it refuses files that are not images and images too small to upscale).

    Args:
        path: the uploaded file.
        image_shape: `(height, width, channels)` of the model.

    Returns:
        float32 array `image_shape` in [0, 1].

    Raises:
        UploadError: with a message that names the file by its name only
            (the server's temporary folder is not the user's business).
    """
    from PIL import Image

    if path is None:
        raise UploadError("Upload a photo first.")
    name = Path(path).name
    size = os.path.getsize(path)
    if size > MAX_UPLOAD_BYTES:
        raise UploadError(
            f"{name} is {size / 2**20:.1f} MB; upload a photo of at most "
            f"{MAX_UPLOAD_BYTES // 2**20} MB."
        )
    try:
        with Image.open(path) as img:  # reads the header only
            width, height = img.size
    except Exception as err:  # PIL raises several types for non-images
        raise UploadError(
            f"{name} is not an image the page can read; upload a JPEG, PNG or "
            "WebP photo."
        ) from err
    if width * height > MAX_UPLOAD_PIXELS:
        raise UploadError(
            f"{name} is {width}x{height} pixels; upload a photo of at most "
            f"{MAX_UPLOAD_PIXELS // 10**6} megapixels."
        )
    try:
        return load_image(path, image_shape)
    except ValueError as err:
        raise UploadError(str(err).replace(str(path), name)) from err

"""A small convolutional image classifier: the zoo's judge network."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
from keras import layers

from keras_latent.layers import stacks
from keras_latent.optimizers import Adam
from keras_latent.presets import PresetMixin
from keras_latent.trainer.nonfinite import SkipsNonFiniteSteps
from keras_latent.utils.inputs import (
    ChecksFitImages,
    ChecksPredictImages,
    predict_in_batches,
    standardize_images,
    validate_images,
)
from keras_latent.utils.state_guard import RestoreStateOnError


@keras.saving.register_keras_serializable(package="keras_latent")
class ImageClassifier(
    PresetMixin,
    ChecksFitImages,
    ChecksPredictImages,
    RestoreStateOnError,
    SkipsNonFiniteSteps,
    keras.Model,
):
    """Convolutional classifier that judges generated images.

    It is trained apart from every generator (an *independent* judge), and
    outputs probabilities: softmax over classes, or one sigmoid per attribute
    when `multi_label=True`.

    `predict_proba` takes NumPy images (uint8 or floats in [0, 1]) and
    returns float32 NumPy on every backend. `fit` and Keras's `predict` check
    NumPy images the same way (floats in [0, 1]); calling the model
    (`judge(images)`) works on tensors, inside graphs too, and checks only
    their shape and dtype, never their values.

    Args:
        image_shape: tuple `(height, width, channels)`. Defaults to
            `(28, 28, 1)`.
        class_names: sequence of str. One name per class or attribute.
            Defaults to the digits `"0"` … `"9"`.
        multi_label: bool. Independent sigmoids (attributes) instead of a
            softmax. Defaults to `False`.
        filters: sequence of int. Channels of the conv blocks, each two 3×3
            convolutions and a 2×2 max-pool. Defaults to `(32, 64)`.
        dense_units: int. Width of the hidden dense layer. Defaults to `128`.
        dropout: float. Dropout before the output layer. Defaults to `0.3`.

    Example:

    ```python
    judge = keras_latent.models.ImageClassifier(image_shape=(28, 28, 1))
    judge.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    judge.fit(images, labels, epochs=3)
    probabilities = judge.predict_proba(generated)
    ```
    """

    optimizer_identifiers = {"adam": Adam}

    def __init__(
        self,
        image_shape: Sequence[int] = (28, 28, 1),
        class_names: Sequence[str] = tuple(str(d) for d in range(10)),
        multi_label: bool = False,
        filters: Sequence[int] = (32, 64),
        dense_units: int = 128,
        dropout: float = 0.3,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.image_shape = tuple(int(d) for d in image_shape)
        self.class_names = [str(n) for n in class_names]
        self.multi_label = bool(multi_label)
        self.filters = tuple(int(f) for f in filters)
        self.dense_units = int(dense_units)
        self.dropout = float(dropout)
        data_format = stacks.conv_data_format()
        stack = [keras.Input(self.image_shape), *stacks.to_conv_layout(data_format)]
        for count in self.filters:
            stack += [
                layers.Conv2D(
                    count,
                    3,
                    padding="same",
                    activation="relu",
                    data_format=data_format,
                ),
                layers.Conv2D(
                    count,
                    3,
                    padding="same",
                    activation="relu",
                    data_format=data_format,
                ),
                layers.MaxPooling2D(data_format=data_format),
            ]
        stack += stacks.from_conv_layout(data_format)
        stack += [
            layers.Flatten(),
            layers.Dense(self.dense_units, activation="relu"),
            layers.Dropout(self.dropout),
            # float32 probabilities under mixed precision too, as Keras
            # advises for a model's last layer.
            layers.Dense(
                len(self.class_names),
                activation="sigmoid" if self.multi_label else "softmax",
                dtype="float32",
            ),
        ]
        self.network = stacks.Sequential(stack, name="network")
        self.built = True

    def call(self, images, training: bool = False):
        validate_images(images, self.image_shape)
        return self.network(images, training=training)

    def predict_proba(self, images, batch_size: int = 256) -> np.ndarray:
        """Class (or attribute) probabilities as a float32 NumPy array.

        Args:
            images: `(N, H, W, C)` floats in [0, 1], uint8 images (divided by
                255), or a list of images.
            batch_size: int. Defaults to `256`.

        Returns:
            A float32 NumPy array `(N, len(class_names))`.
        """
        images = standardize_images(images, self.image_shape)
        return predict_in_batches(self, images, batch_size)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "image_shape": list(self.image_shape),
                "class_names": self.class_names,
                "multi_label": self.multi_label,
                "filters": list(self.filters),
                "dense_units": self.dense_units,
                "dropout": self.dropout,
            }
        )
        return config

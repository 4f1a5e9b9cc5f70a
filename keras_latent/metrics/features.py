"""Feature networks for FID / KID: the zoo's own classifier, or InceptionV3."""

from __future__ import annotations

import os

import keras
import numpy as np

from keras_latent.utils.batching import (
    ImageSource,
    advance,
    iterate_image_batches,
    num_images,
    progress_bar,
    to_numpy,
)

INCEPTION_WEIGHTS_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"
INCEPTION_WEIGHTS_URL = (
    "https://storage.googleapis.com/tensorflow/keras-applications/"
    "inception_v3/" + INCEPTION_WEIGHTS_FILE
)
INCEPTION_IMAGE_SIZE = 299


def _feature_model(classifier, layer_name: str | None) -> keras.Model:
    network = getattr(classifier, "network", classifier)
    if not isinstance(network, keras.Model) or not network.inputs:
        raise ValueError(
            "`classifier` must be a keras_latent `ImageClassifier` or a built "
            "Sequential/functional `keras.Model`. Received: "
            f"{type(classifier).__name__}"
        )
    if layer_name is not None:
        layer = network.get_layer(layer_name)
    else:
        dense = [
            layer for layer in network.layers if isinstance(layer, keras.layers.Dense)
        ]
        if len(dense) < 2:
            raise ValueError(
                "The classifier needs at least two Dense layers (a hidden one "
                "for features and the output one); pass `layer_name` to pick "
                "the feature layer instead."
            )
        # The hidden Dense before the output layer: ImageClassifier's
        # `dense_units` ReLU features (the Dropout after it is the identity
        # at inference).
        layer = dense[-2]
    return keras.Model(network.inputs, layer.output)


def classifier_features(
    classifier,
    images: ImageSource,
    batch_size: int = 256,
    *,
    layer_name: str | None = None,
    verbose: bool = False,
) -> np.ndarray:
    """Penultimate-layer activations of a zoo classifier, for FID and KID.

    The zoo's default feature network (docs/models.md, "Metrics and their
    protocol"): a domain classifier such as
    `keras_latent.models.ImageClassifier`, read at its hidden Dense layer
    (`dense_units` ReLU units). Record the classifier with every number.

    Args:
        classifier: an `ImageClassifier` (its `network` is used), or any
            built Sequential or functional `keras.Model`.
        images: array of shape `(num_images, *image_shape)` in `[0, 1]`, or a
            `(fn, num_samples)` tuple where `fn(n)` returns `n` images, drawn
            in batches (e.g. `(lambda n: model.generate(n), 10000)`).
        batch_size: int. Images per forward pass. Defaults to `256`.
        layer_name: str, optional. Read this layer's output instead of the
            Dense layer before the output layer. Defaults to `None`.
        verbose: bool. Show a progress bar. Defaults to `False`.

    Returns:
        A float32 NumPy array of shape `(num_images, feature_dim)`.

    Example:

    ```python
    # judge: a trained keras_latent.models.ImageClassifier
    real = keras_latent.metrics.classifier_features(judge, test_images)
    fake = keras_latent.metrics.classifier_features(
        judge, (lambda n: model.generate(n), 10000)
    )
    keras_latent.metrics.fid(real, fake)
    ```
    """
    model = _feature_model(classifier, layer_name)
    image_shape = getattr(classifier, "image_shape", None)
    bar = progress_bar(num_images(images), verbose)
    outputs = []
    for batch in iterate_image_batches(images, batch_size):
        if image_shape is not None:
            # Imported here: the models package is heavier than the metrics.
            from keras_latent.utils.inputs import validate_images

            validate_images(batch, image_shape)
        # predict_on_batch: compiled (jit on JAX), and no autograd on torch.
        outputs.append(to_numpy(model.predict_on_batch(batch)))
        advance(bar, len(outputs[-1]))
    return np.concatenate(outputs, axis=0).astype("float32")


def _default_inception_weight_paths() -> list[str]:
    # Where `keras.utils.get_file` caches downloads: $KERAS_HOME or ~/.keras,
    # with /tmp/.keras as its fallback when the home is not writable.
    home = os.environ.get("KERAS_HOME") or os.path.join(
        os.path.expanduser("~"), ".keras"
    )
    candidates = [
        os.path.join(home, "models", INCEPTION_WEIGHTS_FILE),
        os.path.join("/tmp", ".keras", "models", INCEPTION_WEIGHTS_FILE),
    ]
    return list(dict.fromkeys(candidates))


def _find_inception_weights(weights_path: str | None) -> str:
    candidates = (
        _default_inception_weight_paths()
        if weights_path is None
        else [os.path.expanduser(os.fspath(weights_path))]
    )
    for path in candidates:
        if os.path.isfile(path):
            return path
    raise FileNotFoundError(
        "InceptionV3 weights (no top) were not found; looked in: "
        + ", ".join(candidates)
        + ". Without network access they can't be downloaded here. Download "
        + f"{INCEPTION_WEIGHTS_URL} elsewhere and either copy it to "
        + _default_inception_weight_paths()[0]
        + " or pass its path as `weights_path=`. Otherwise use "
        + "`classifier_features` with a zoo classifier as the feature network."
    )


def inception_features(
    images: ImageSource,
    weights_path: str | None = None,
    batch_size: int = 64,
    *,
    max_val: float = 1.0,
    verbose: bool = False,
) -> np.ndarray:
    """InceptionV3 pool3 features (2048-d), the standard FID / KID features.

    Images are scaled to `[0, 255]`, converted to RGB if grayscale, resized
    to 299×299 with bilinear interpolation (`keras.ops.image.resize`, no
    antialiasing), and passed through
    `keras.applications.inception_v3.preprocess_input` (to `[-1, 1]`) and
    `InceptionV3(include_top=False, pooling="avg")`. Numbers from this
    resizer are close to, but not identical with, those of the TF1
    `pool_3` graph used by the original FID code; record the resizer with
    every number (docs/models.md, "Metrics and their protocol"). Never
    downloads anything.

    Args:
        images: array of shape `(num_images, height, width, channels)` with
            1 or 3 channels in `[0, max_val]`, or a `(fn, num_samples)` tuple
            where `fn(n)` returns `n` such images, drawn in batches.
        weights_path: str, optional. The Keras
            `inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5` file.
            `None` looks in the Keras cache (`$KERAS_HOME` or
            `~/.keras/models/`). Defaults to `None`.
        batch_size: int. Images per forward pass. Defaults to `64`.
        max_val: float. Maximum pixel value of `images`. Defaults to `1.0`.
        verbose: bool. Show a progress bar. Defaults to `False`.

    Returns:
        A float32 NumPy array of shape `(num_images, 2048)`.

    Raises:
        FileNotFoundError: if the weights file is not there; the message says
            where it looked and how to supply the file.

    Example:

    ```python
    real = keras_latent.metrics.inception_features(test_images)
    fake = keras_latent.metrics.inception_features(
        (lambda n: model.generate(n), 10000)
    )
    keras_latent.metrics.fid(real, fake)
    ```
    """
    # Checked before building the network, so keras.applications never
    # tries to download the weights.
    path = _find_inception_weights(weights_path)
    size = INCEPTION_IMAGE_SIZE
    model = keras.applications.InceptionV3(
        include_top=False,
        weights=path,
        input_shape=(size, size, 3),
        pooling="avg",
    )
    bar = progress_bar(num_images(images), verbose)
    outputs = []
    for batch in iterate_image_batches(images, batch_size):
        batch = to_numpy(batch, "float32")
        if batch.ndim != 4 or batch.shape[-1] not in (1, 3):
            raise ValueError(
                "Images must have shape (batch, height, width, channels) with 1 "
                f"or 3 channels, channels last. Received shape {batch.shape}."
            )
        if batch.shape[-1] == 1:
            batch = np.repeat(batch, 3, axis=-1)
        batch = batch * (255.0 / max_val)
        resized = keras.ops.image.resize(
            batch, (size, size), interpolation="bilinear", data_format="channels_last"
        )
        inputs = keras.applications.inception_v3.preprocess_input(resized)
        outputs.append(to_numpy(model.predict_on_batch(inputs)))
        advance(bar, len(outputs[-1]))
    return np.concatenate(outputs, axis=0).astype("float32")

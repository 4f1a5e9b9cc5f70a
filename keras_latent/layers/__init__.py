"""Layers and network builders shared by the zoo's models.

`stacks` holds the zoo's `Sequential` and the conv and MLP image
encoders/decoders that several models build their players from;
`regularizers` the discriminator regularisers that are layers or
constraints (`MinibatchDiscrimination`, `ClipWeights`,
`SpectralNormalization`). A network only one model uses lives in that
model's package.
"""

from keras_latent.layers.gaussian_mixture import GaussianMixture
from keras_latent.layers.regularizers import (
    ClipWeights,
    MinibatchDiscrimination,
    SpectralNormalization,
)
from keras_latent.layers.stacks import (
    Sequential,
    conv_data_format,
    conv_image_decoder,
    conv_image_encoder,
    from_conv_layout,
    mlp_image_decoder,
    mlp_image_encoder,
    strided_convolutions,
    to_conv_layout,
)

__all__ = [
    "ClipWeights",
    "GaussianMixture",
    "MinibatchDiscrimination",
    "SpectralNormalization",
    "Sequential",
    "conv_data_format",
    "conv_image_decoder",
    "conv_image_encoder",
    "from_conv_layout",
    "mlp_image_decoder",
    "mlp_image_encoder",
    "strided_convolutions",
    "to_conv_layout",
]

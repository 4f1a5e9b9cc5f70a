"""Metrics for conditional generation: FID, KID, IS, MS-SSIM and edit scores.

Every function takes NumPy arrays or tensors of the active backend and
returns NumPy arrays or Python floats. Every function refuses NaN and
infinite inputs with a ValueError that names the argument (or the batch of
generated images) and counts the values. What to record with each number
(feature network, numbers of images, reference split, resizer) is in
docs/models.md, "Metrics and their protocol".
"""

from keras_latent.metrics.classifier_scores import (
    attribute_scores,
    edit_success,
    inception_score,
)
from keras_latent.metrics.feature_distances import (
    feature_statistics,
    fid,
    frechet_distance,
    kid,
)
from keras_latent.metrics.features import classifier_features, inception_features
from keras_latent.metrics.reconstruction import latent_mse, reconstruction_mse
from keras_latent.metrics.structural_similarity import (
    MS_SSIM_POWER_FACTORS,
    intra_class_diversity,
    ms_ssim,
)

__all__ = [
    "MS_SSIM_POWER_FACTORS",
    "attribute_scores",
    "classifier_features",
    "edit_success",
    "feature_statistics",
    "fid",
    "frechet_distance",
    "inception_features",
    "inception_score",
    "intra_class_diversity",
    "kid",
    "latent_mse",
    "ms_ssim",
    "reconstruction_mse",
]

"""keras-latent: conditional generation and attribute editing with latent-variable
models, in Keras 3, on TensorFlow, JAX and PyTorch."""

from keras_latent import export, layers, losses, metrics, models, optimizers, trainer
from keras_latent.evaluation import evaluate
from keras_latent.export import export_preset
from keras_latent.hub import upload_preset
from keras_latent.presets import from_preset, list_presets, load_preset_metadata
from keras_latent.version import __version__

__all__ = [
    "__version__",
    "evaluate",
    "export",
    "export_preset",
    "from_preset",
    "layers",
    "list_presets",
    "load_preset_metadata",
    "losses",
    "metrics",
    "models",
    "optimizers",
    "trainer",
    "upload_preset",
]

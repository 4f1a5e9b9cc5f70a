import os

# Keep TensorFlow quiet; it is imported on every backend by the data pipeline.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import pytest  # noqa: E402

if keras.backend.backend() == "torch":
    import torch

    # Tiny test models gain nothing from a second thread, and torch's threads
    # spin badly when another process holds the other core.
    torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _seed():
    keras.utils.set_random_seed(1234)
    yield
    keras.backend.clear_session()

import numpy as np
import pytest
from PIL import Image

from keras_latent import cli
from keras_latent.models import VAE


def test_sample_writes_a_png_grid(tmp_path, capsys):
    VAE(image_shape=(8, 8, 1), latent_dim=3, hidden_units=(16,)).save_to_preset(
        tmp_path / "preset"
    )
    out = tmp_path / "grid.png"
    code = cli.main(
        [
            "sample",
            str(tmp_path / "preset"),
            "-n",
            "6",
            "--rows",
            "2",
            "--scale",
            "1",
            "-o",
            str(out),
        ]
    )
    assert code == 0
    grid = np.asarray(Image.open(out))
    # 2 rows × 3 columns of 8×8 tiles with 2-pixel borders.
    assert grid.shape == (2 * 10 + 2, 3 * 10 + 2, 3)
    assert "wrote 6 samples" in capsys.readouterr().out


def test_unknown_preset_is_a_clean_error(capsys):
    assert cli.main(["sample", "no_such_preset", "-o", "x.png"]) == 2
    assert "Unknown preset" in capsys.readouterr().err


def test_bad_sample_count_is_rejected():
    with pytest.raises(SystemExit):
        cli.main(["sample", "mnist_vae", "-n", "0"])

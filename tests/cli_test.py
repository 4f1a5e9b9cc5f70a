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


def _evaluation_fixtures(tmp_path):
    """A tiny VAE preset, a tiny judge preset and real 8×8 images in a .npz."""
    from keras_latent.models import ImageClassifier

    VAE(image_shape=(8, 8, 1), latent_dim=3, hidden_units=(16,)).save_to_preset(
        tmp_path / "tiny_vae"
    )
    ImageClassifier(
        image_shape=(8, 8, 1), class_names=["a", "b", "c"], filters=(4,), dense_units=8
    ).save_to_preset(tmp_path / "judge")
    rng = np.random.default_rng(0)
    np.savez(
        tmp_path / "real.npz",
        images=rng.integers(0, 256, (24, 8, 8, 1), dtype=np.uint8),
        labels=np.arange(24) % 3,
    )
    return [
        str(tmp_path / "tiny_vae"),
        "-n",
        "20",
        "--batch-size",
        "8",
        "--data",
        str(tmp_path / "real.npz"),
        "--judge",
        str(tmp_path / "judge"),
        "--quiet",
    ]


def test_evaluate_prints_a_table_and_writes_json(tmp_path, capsys):
    import json

    args = _evaluation_fixtures(tmp_path)
    out = tmp_path / "report.json"
    code = cli.main(["evaluate", *args, "--metrics", "fid,kid,is", "--json", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "| metric | value | protocol |" in printed
    assert "| FID |" in printed and "| IS |" in printed
    report = json.loads(out.read_text())
    assert list(report["results"]) == ["fid", "kid", "is"]
    assert report["protocol"]["num_fake"] == 20
    assert report["protocol"]["num_real"] == 24


def test_evaluate_json_goes_to_stdout_or_a_default_file(tmp_path, capsys, monkeypatch):
    import json

    args = _evaluation_fixtures(tmp_path)
    assert cli.main(["evaluate", *args, "--metrics", "fid"]) == 0
    printed = capsys.readouterr().out
    assert '"results"' in printed
    # The JSON object is printed whole after the table.
    start = printed.index("{")
    end = printed.rindex("}") + 1
    assert "fid" in json.loads(printed[start:end])["results"]

    monkeypatch.chdir(tmp_path)
    assert cli.main(["evaluate", *args, "--metrics", "fid", "--json"]) == 0
    assert (tmp_path / "tiny_vae_evaluation.json").is_file()


def test_evaluate_errors_are_clean(tmp_path, capsys):
    assert cli.main(["evaluate", "mnist_vae", "--metrics", "fid,sharpness"]) == 2
    err = capsys.readouterr().err
    assert "Unknown metric(s): 'sharpness'" in err and "Valid metrics" in err
    assert cli.main(["evaluate", "no_such_preset", "-n", "10"]) == 2
    assert "Unknown preset" in capsys.readouterr().err
    args = _evaluation_fixtures(tmp_path)
    args[args.index("--data") + 1] = "mnist:valid"
    assert cli.main(["evaluate", *args]) == 2
    assert "mnist:test" in capsys.readouterr().err

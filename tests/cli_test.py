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


@pytest.mark.parametrize("seed", ["-1", str(2**31)])
def test_seed_outside_what_every_backend_accepts_is_rejected(seed, capsys):
    with pytest.raises(SystemExit) as raised:
        cli.main(["sample", "mnist_vae", "--seed", seed])
    assert raised.value.code == 2
    assert f"must be an integer in [0, {2**31 - 1}]" in capsys.readouterr().err


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


def _tiny_latent_constraints(path):
    from keras_latent.models import LatentConstraints

    model = LatentConstraints(
        vae=VAE(image_shape=(8, 8, 3), latent_dim=3, hidden_units=(8,)),
        attribute_names=["Smiling", "Eyeglasses"],
        critic_units=(8,),
        actor_units=(8,),
        attribute_critics=[
            {"attribute_names": ["Smiling", "Eyeglasses"], "hidden_units": [4]}
        ],
    )
    model.save_to_preset(path)
    return path


def test_sample_with_attributes(tmp_path, capsys):
    preset = _tiny_latent_constraints(tmp_path / "lc")
    out = tmp_path / "faces.png"
    args = ["sample", str(preset), "--attributes", "Smiling=1,Eyeglasses=0"]
    code = cli.main(args + ["-n", "4", "--scale", "1", "-o", str(out)])
    assert code == 0, capsys.readouterr().err
    assert np.asarray(Image.open(out)).shape == (2 * 10 + 2, 2 * 10 + 2, 3)
    bare = ["-n", "1", "--scale", "1", "--padding", "0", "-o", str(out)]
    assert cli.main(args + bare) == 0
    assert np.asarray(Image.open(out)).shape == (8, 8, 3)
    assert cli.main(args[:3] + ["Beard=1", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "Unknown attribute" in err and "Eyeglasses" in err


@pytest.mark.parametrize("name", ["CGAN", "ACGAN"])
def test_sample_with_attributes_from_a_conditional_gan(tmp_path, capsys, name):
    from keras_latent import models

    preset = tmp_path / name
    getattr(models, name)(
        image_shape=(8, 8, 1),
        attribute_names=["a", "b", "c"],
        latent_dim=4,
        generator_filters=(8, 4),
        critic_filters=(4, 8),
    ).save_to_preset(preset)
    out = tmp_path / "grid.png"
    args = ["sample", str(preset), "--attributes", "b=1", "-n", "4", "-o", str(out)]
    assert cli.main(args + ["--scale", "1"]) == 0, capsys.readouterr().err
    assert np.asarray(Image.open(out)).shape[:2] == (2 * 10 + 2, 2 * 10 + 2)
    assert cli.main(args[:3] + ["d=1", "-o", str(out)]) == 2
    assert "Unknown attribute" in capsys.readouterr().err


def test_sample_attributes_need_a_conditional_preset(tmp_path, capsys):
    VAE(image_shape=(8, 8, 1), latent_dim=3, hidden_units=(16,)).save_to_preset(
        tmp_path / "vae"
    )
    args = ["sample", str(tmp_path / "vae"), "--attributes", "Smiling=1"]
    assert cli.main(args + ["-o", str(tmp_path / "x.png")]) == 2
    assert "unconditional" in capsys.readouterr().err


def test_bad_attribute_syntax_is_rejected(tmp_path):
    with pytest.raises(SystemExit):
        cli.main(["sample", "x", "--attributes", "Smiling"])
    with pytest.raises(SystemExit):
        cli.main(["edit", "x", "--image", "a.png", "--set", "Smiling=2"])


def test_edit_writes_input_reconstruction_and_edit(tmp_path, capsys):
    preset = _tiny_latent_constraints(tmp_path / "lc")
    face = tmp_path / "face.jpg"
    # Not square: the CLI crops the centre and resizes to 8×8.
    Image.fromarray(
        (np.random.RandomState(0).rand(30, 20, 3) * 255).astype("uint8")
    ).save(face)
    out = tmp_path / "edited.png"
    args = ["edit", str(preset), "--image", str(face), "--image", str(face)]
    code = cli.main(args + ["--set", "Smiling=1", "--scale", "1", "-o", str(out)])
    assert code == 0, capsys.readouterr().err
    # Two rows of input | reconstruction | edit.
    assert np.asarray(Image.open(out)).shape == (2 * 10 + 2, 3 * 10 + 2, 3)
    assert "Smiling=1" in capsys.readouterr().out
    code = cli.main(args[:4] + ["--set", "Smiling=1", "--only-edit", "-o", str(out)])
    assert code == 0

    assert cli.main(args[:4] + ["--set", "Hat=1", "-o", str(out)]) == 2
    assert "Unknown attribute" in capsys.readouterr().err
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not an image")
    code = cli.main(["edit", str(preset), "--image", str(broken), "--set", "Smiling=1"])
    assert code == 2
    assert "Could not read image" in capsys.readouterr().err
    code = cli.main(
        [
            "edit",
            str(preset),
            "--image",
            str(tmp_path / "none.jpg"),
            "--set",
            "Smiling=1",
        ]
    )
    assert code == 2
    assert "does not exist" in capsys.readouterr().err


def _tiny_editing_model(name):
    from keras_latent import models

    common = dict(image_shape=(8, 8, 3), attribute_names=["Smiling", "Eyeglasses"])
    if name == "LabelRelevantIrrelevantVAE":  # classes, not attributes
        return models.LabelRelevantIrrelevantVAE(
            relevant_dim=2, irrelevant_dim=2, filters=(4,), **common
        )
    return getattr(models, name)(
        label_type="multi_label", latent_dim=3, filters=(4,), **common
    )


@pytest.mark.parametrize(
    "name", ["CVAE", "IFcVAEGAN", "CVAEGAN", "LabelRelevantIrrelevantVAE"]
)
def test_sample_and_edit_work_on_every_editing_model(tmp_path, capsys, name):
    preset = tmp_path / name
    _tiny_editing_model(name).save_to_preset(preset)
    out = tmp_path / "grid.png"
    args = ["sample", str(preset), "--attributes", "Smiling=1", "-n", "4"]
    assert cli.main(args + ["--scale", "1", "-o", str(out)]) == 0, (
        capsys.readouterr().err
    )
    assert np.asarray(Image.open(out)).shape[:2] == (2 * 10 + 2, 2 * 10 + 2)
    face = tmp_path / "face.png"
    Image.fromarray(np.full((8, 8, 3), 128, "uint8")).save(face)
    edit = ["edit", str(preset), "--image", str(face), "--set", "Smiling=1"]
    assert cli.main(edit + ["--scale", "1", "-o", str(out)]) == 0, (
        capsys.readouterr().err
    )
    assert np.asarray(Image.open(out)).shape == (10 + 2, 3 * 10 + 2, 3)
    # --method belongs to Latent Constraints; elsewhere it is refused by name.
    assert cli.main(edit + ["--method", "optimize", "-o", str(out)]) == 2
    assert "--method" in capsys.readouterr().err
    assert cli.main(edit[:4] + ["--set", "Hat=1", "-o", str(out)]) == 2
    assert "Hat" in capsys.readouterr().err


@pytest.mark.parametrize(
    "option, value",
    [
        ("--padding", "-1"),
        ("--padding", "two"),
        ("--scale", "0"),
        ("-n/--num-samples", "-3"),
        ("--rows", "0"),
    ],
)
def test_bad_numbers_are_argument_errors(option, value, capsys):
    # Rejected by the parser, before any preset is looked up.
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["sample", "no_such_preset", option.split("/")[0], value])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {option}: must be" in err and repr(value) in err


def test_more_rows_than_samples_is_rejected_before_loading(capsys):
    code = cli.main(["sample", "no_such_preset", "-n", "2", "--rows", "3"])
    assert code == 2
    err = capsys.readouterr().err
    assert "--rows" in err and "Unknown preset" not in err


def test_output_path_is_checked_before_loading(tmp_path, capsys):
    with pytest.raises(SystemExit):
        cli.main(["sample", "no_such_preset", "-o", str(tmp_path / "noext")])
    err = capsys.readouterr().err
    assert "argument -o/--output" in err and ".png" in err and ".jpg" in err
    a_file = tmp_path / "a_file"
    a_file.write_text("")
    with pytest.raises(SystemExit):
        cli.main(["sample", "no_such_preset", "-o", str(a_file / "grid.png")])
    assert "is a file" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        args = ["edit", "no_such_preset", "--image", "a.png", "--set", "Smiling=1"]
        cli.main(args + ["-o", str(tmp_path / "edited.txt")])
    assert "argument -o/--output" in capsys.readouterr().err
    code = cli.main(["evaluate", "no_such_preset", "--json", str(a_file / "r.json")])
    assert code == 2
    err = capsys.readouterr().err
    assert "argument --json" in err and "Unknown preset" not in err


def test_missing_output_directories_are_created(tmp_path, capsys):
    VAE(image_shape=(8, 8, 1), latent_dim=3, hidden_units=(16,)).save_to_preset(
        tmp_path / "preset"
    )
    out = tmp_path / "new" / "dir" / "grid.jpg"
    code = cli.main(["sample", str(tmp_path / "preset"), "-n", "1", "-o", str(out)])
    assert code == 0, capsys.readouterr().err
    assert Image.open(out).format == "JPEG"
    # One sample, in the singular.
    assert "wrote 1 sample of" in capsys.readouterr().out


def test_edit_image_that_is_a_directory(tmp_path, capsys):
    from keras_latent.images import load_image

    args = ["edit", "no_such_preset", "--image", str(tmp_path), "--set", "Smiling=1"]
    # Checked before the preset is loaded.
    assert cli.main(args + ["-o", str(tmp_path / "e.png")]) == 2
    err = capsys.readouterr().err
    assert "is a directory" in err and "does not exist" not in err
    with pytest.raises(ValueError, match="is a directory"):
        load_image(tmp_path, (8, 8, 3))


def test_tiny_image_is_refused_not_upscaled(tmp_path, capsys):
    from PIL import Image

    from keras_latent.images import load_image

    Image.new("RGB", (1, 1), (200, 10, 10)).save(tmp_path / "dot.png")
    with pytest.raises(ValueError, match="is 1x1 pixels.*at least 2 pixels"):
        load_image(tmp_path / "dot.png", (8, 8, 3))
    Image.new("RGB", (2, 3), (200, 10, 10)).save(tmp_path / "small.png")
    assert load_image(tmp_path / "small.png", (8, 8, 3)).shape == (8, 8, 3)
    args = ["edit", "celeba_latent_constraints", "--image", str(tmp_path / "dot.png")]
    out = str(tmp_path / "e.png")
    assert cli.main(args + ["--set", "Smiling=1", "-o", out]) == 2
    assert "is 1x1 pixels" in capsys.readouterr().err


def test_wrong_kind_of_preset_reads_well(tmp_path, capsys):
    from keras_latent.models import ImageClassifier

    ImageClassifier(
        image_shape=(8, 8, 1), class_names=["a", "b"], filters=(4,), dense_units=8
    ).save_to_preset(tmp_path / "judge")
    out = str(tmp_path / "x.png")
    assert cli.main(["sample", str(tmp_path / "judge"), "-o", out]) == 2
    assert "holds an ImageClassifier," in capsys.readouterr().err


def test_load_image_does_not_import_tensorflow(tmp_path):
    import importlib.util
    import os
    import subprocess
    import sys
    from pathlib import Path

    if importlib.util.find_spec("torch") is None:
        pytest.skip("needs PyTorch for KERAS_BACKEND=torch")
    face = tmp_path / "face.png"
    Image.fromarray(np.zeros((12, 10, 3), dtype="uint8")).save(face)
    script = (
        "import sys\n"
        "from keras_latent.images import load_image\n"
        f"assert load_image({str(face)!r}, (8, 8, 3)).shape == (8, 8, 3)\n"
        "print('tensorflow' in sys.modules)\n"
    )
    root = str(Path(__file__).resolve().parents[1])
    env = dict(os.environ, KERAS_BACKEND="torch", TF_CPP_MIN_LOG_LEVEL="3")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False"


def test_python_dash_m_runs_the_cli(monkeypatch, capsys):
    import runpy

    # `python -m keras_latent.cli --help`, in process.
    monkeypatch.setattr("sys.argv", ["keras-latent", "--help"])
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_module("keras_latent.cli", run_name="__main__")
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "usage: keras-latent" in out
    assert "{sample,edit,evaluate,serve,export,upload,list}" in out


# Limits (issue 15): an output too big for the memory is refused before
# anything is generated, and generation streams in batches.


def _mnist_sized_preset(path):
    """A tiny VAE with MNIST's image shape, like the built-in mnist_vae."""
    VAE(image_shape=(28, 28, 1), latent_dim=3, hidden_units=(8,)).save_to_preset(path)
    return str(path)


def _generate_must_not_run(monkeypatch):
    def generate(self, *args, **kwargs):
        raise AssertionError("the output must be refused before generating")

    monkeypatch.setattr(VAE, "generate", generate)


@pytest.mark.parametrize(
    "options, blamed, hint",
    [
        (["-n", "1", "--scale", "100000"], "argument --scale", "Use --scale"),
        (["-n", "1000000"], "argument -n", "fewer images"),
    ],
)
def test_sample_refuses_an_output_too_big_for_memory(
    tmp_path, capsys, monkeypatch, options, blamed, hint
):
    preset = _mnist_sized_preset(tmp_path / "vae")
    _generate_must_not_run(monkeypatch)
    out = tmp_path / "grid.png"
    assert cli.main(["sample", preset, *options, "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {blamed}: ") and hint in err
    assert "megapixels" in err and "available memory" in err
    assert not out.exists()


def test_sample_size_limit_follows_the_memory(tmp_path, capsys, monkeypatch):
    from keras_latent.utils import batching

    preset = _mnist_sized_preset(tmp_path / "vae")
    out = str(tmp_path / "grid.png")
    # 4 images at --scale 2: a 64×64 grid, far below the pixel cap.
    assert cli.main(["sample", preset, "-n", "4", "-o", out]) == 0
    monkeypatch.setattr(batching, "memory_budget", lambda fraction=0.5: 10_000)
    _generate_must_not_run(monkeypatch)
    assert cli.main(["sample", preset, "-n", "4", "-o", out]) == 2
    err = capsys.readouterr().err
    assert "argument -n" in err and "10.0 kB" in err


def test_edit_refuses_an_output_too_big_for_memory(tmp_path, capsys, monkeypatch):
    from keras_latent.models import LatentConstraints

    preset = _tiny_latent_constraints(tmp_path / "lc")
    face = tmp_path / "face.png"
    Image.fromarray(np.zeros((8, 8, 3), dtype="uint8")).save(face)

    def transform(self, *args, **kwargs):
        raise AssertionError("the output must be refused before editing")

    monkeypatch.setattr(LatentConstraints, "transform", transform)
    args = ["edit", str(preset), "--image", str(face), "--set", "Smiling=1"]
    assert cli.main(args + ["--scale", "100000", "-o", str(tmp_path / "e.png")]) == 2
    err = capsys.readouterr().err
    assert "argument --scale" in err and "Use --scale" in err


def test_sample_generates_in_batches_of_uint8(tmp_path, capsys, monkeypatch):
    import keras_latent
    from keras_latent.cli import limits, sample
    from keras_latent.images import image_grid

    preset = _mnist_sized_preset(tmp_path / "vae")
    model = keras_latent.from_preset(preset)
    # Up to SAMPLE_BATCH images: exactly one `generate(n, seed)` call, as before.
    tiles = sample.generate_tiles(model, 6, seed=3)
    assert tiles.dtype == np.uint8
    expected = image_grid(model.generate(num_samples=6, seed=3), padding=0)
    np.testing.assert_array_equal(image_grid(tiles, padding=0), expected)

    calls = []
    original = VAE.generate

    def spy(self, num_samples, seed=None, **kwargs):
        calls.append((num_samples, seed))
        return original(self, num_samples=num_samples, seed=seed, **kwargs)

    monkeypatch.setattr(limits, "SAMPLE_BATCH", 4)
    monkeypatch.setattr(VAE, "generate", spy)
    out = tmp_path / "grid.png"
    args = ["sample", preset, "-n", "10", "--seed", "5", "--scale", "1"]
    assert cli.main(args + ["-o", str(out)]) == 0
    assert calls == [(4, 5), (4, 6), (2, 7)]
    grid = np.asarray(Image.open(out))
    assert grid.shape == (3 * 30 + 2, 4 * 30 + 2, 3)


def test_sample_refuses_non_finite_images(tmp_path, capsys, monkeypatch):
    preset = _mnist_sized_preset(tmp_path / "vae")

    def generate(self, num_samples, seed=None, **kwargs):
        images = np.full((num_samples, 28, 28, 1), 0.5, "float32")
        images[0, 0, 0, 0] = np.nan
        return images

    monkeypatch.setattr(VAE, "generate", generate)
    out = tmp_path / "grid.png"
    assert cli.main(["sample", preset, "-n", "3", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "Generated batch 0 (images 0 to 2) holds 1 NaN value" in err
    assert not out.exists()


def test_out_of_memory_is_a_clean_error(tmp_path, capsys, monkeypatch):
    preset = _mnist_sized_preset(tmp_path / "vae")

    def generate(self, *args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(VAE, "generate", generate)
    assert cli.main(["sample", preset, "-n", "3", "-o", str(tmp_path / "g.png")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: out of memory while running 'sample'")

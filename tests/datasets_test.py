"""Tests for `keras_latent.datasets`.

Real-data tests read the packed arrays of `shared/data` and are skipped where it
is absent. The tfds tests use `tfds.testing.mock_data`; the official CelebA
layout and the image-folder tests write tiny fixtures to `tmp_path`.
"""

import ast
import csv
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from PIL import Image

from keras_latent import datasets

# --------------------------------------------------------------------------
# Fixtures.
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def data_root():
    root = datasets.default_data_dir()
    if root is None or not (root / "mnist" / "mnist.npz").is_file():
        pytest.skip("shared/data with the packed arrays is not available")
    return root


def _first(ds):
    x, y = next(iter(ds))
    return np.asarray(x), np.asarray(y)


def _write_official_celeba(root, partitions, rng):
    """Writes a tiny CelebA in the official layout; returns filenames and labels."""
    images = root / "img_align_celeba"
    images.mkdir(parents=True)
    names = datasets.CELEBA_ATTRIBUTE_NAMES
    filenames = [f"{i + 1:06d}.jpg" for i in range(len(partitions))]
    labels = rng.integers(0, 2, size=(len(filenames), len(names)))
    for name in filenames:
        # Red and blue bands above and below the standard 178x178 crop.
        pixels = rng.integers(60, 200, size=(218, 178, 3), dtype=np.uint8)
        pixels[:20] = (255, 0, 0)
        pixels[198:] = (0, 0, 255)
        Image.fromarray(pixels).save(images / name, quality=95)
    # The official format: a count, the names, then `filename` and -1/1 values.
    lines = [str(len(filenames)), " ".join(names) + " "]
    for name, row in zip(filenames, labels):
        lines.append(name + " " + " ".join(f"{2 * v - 1:2d}" for v in row))
    (root / "list_attr_celeba.txt").write_text("\n".join(lines) + "\n")
    (root / "list_eval_partition.txt").write_text(
        "".join(f"{n} {p}\n" for n, p in zip(filenames, partitions))
    )
    return np.asarray(filenames), labels


@pytest.fixture
def image_folder(tmp_path):
    """PNGs of varied sizes and modes plus a CSV mixing label spellings."""
    specs = {
        "a.png": ("RGB", (40, 30), (255, 0, 0)),
        "b.png": ("L", (20, 50), 128),
        "sub/c.png": ("RGBA", (64, 64), (0, 255, 0, 255)),
        "d.png": ("P", (100, 80), 3),
    }
    for name, (mode, size, color) in specs.items():
        path = tmp_path / name
        path.parent.mkdir(exist_ok=True)
        Image.new(mode, size, color).save(path)
    rows = [
        ("a.png", "1", "-1"),
        ("b.png", "0", "1"),
        ("sub/c.png", "true", "False"),
        ("d.png", "-1", "1"),
    ]
    with open(tmp_path / "labels.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["filename", "smiling", "male"])
        writer.writerows(rows)
    return tmp_path, np.array([[1, 0], [0, 1], [1, 0], [0, 1]], dtype=np.int8)


# --------------------------------------------------------------------------
# Packed arrays.
# --------------------------------------------------------------------------


def test_mnist_batch_matches_raw_arrays(data_root):
    x, y = _first(datasets.load_mnist("test", batch_size=8))
    assert x.shape == (8, 28, 28, 1) and x.dtype == np.float32
    assert y.shape == (8,) and y.dtype == np.int32
    assert 0.0 <= x.min() and x.max() <= 1.0
    with np.load(data_root / "mnist" / "mnist.npz") as z:
        np.testing.assert_allclose(x[..., 0] * 255.0, z["x_test"][:8], atol=1e-3)
        np.testing.assert_array_equal(y, z["y_test"][:8])


def test_cifar10_batch(data_root):
    x, y = _first(datasets.load_cifar10(batch_size=16))
    assert x.shape == (16, 32, 32, 3) and x.dtype == np.float32
    assert y.dtype == np.int32 and set(y.tolist()) <= set(range(10))
    assert 0.0 <= x.min() and x.max() <= 1.0 and x.max() > 0.5
    xa, ya = datasets.cifar10_arrays("train")
    assert xa.shape == (5000, 32, 32, 3) and xa.dtype == np.uint8
    assert np.bincount(ya).tolist() == [500] * 10


def test_celeba_attributes_by_name_match_raw_columns(data_root):
    chosen = ["Smiling", "Male", "Eyeglasses"]
    x, a = _first(datasets.load_celeba("val", attributes=chosen, batch_size=32))
    assert x.shape == (32, 64, 64, 3) and x.dtype == np.float32
    assert a.shape == (32, 3) and a.dtype == np.float32
    assert 0.0 <= x.min() and x.max() <= 1.0
    names = (data_root / "celeba64" / "attribute_names.txt").read_text().split()
    with np.load(data_root / "celeba64" / "val.npz") as z:
        raw_images, raw_attrs = z["images"], z["attributes"]
    columns = [names.index(n) for n in chosen]
    np.testing.assert_array_equal(a, raw_attrs[:32][:, columns])
    np.testing.assert_allclose(x * 255.0, raw_images[:32], atol=1e-3)

    xa, aa, got_names = datasets.celeba_arrays("validation", chosen)
    assert got_names == chosen and aa.dtype == np.int8
    np.testing.assert_array_equal(aa, raw_attrs[:, columns])
    assert xa.shape == (780, 64, 64, 3)


def test_celeba_resizes_packed_arrays(data_root):
    x, a = _first(datasets.load_celeba("val", image_size=32, batch_size=4))
    assert x.shape == (4, 32, 32, 3) and a.shape == (4, 40)
    assert 0.0 <= x.min() and x.max() <= 1.0
    # A resize keeps the mean brightness of each image.
    full, _ = _first(datasets.load_celeba("val", batch_size=4))
    np.testing.assert_allclose(x.mean(axis=(1, 2)), full.mean(axis=(1, 2)), atol=0.02)


def test_celeba_test_split_is_held_back(data_root):
    with pytest.raises(FileNotFoundError, match="held back"):
        datasets.load_celeba("test", source="arrays")
    with pytest.raises(FileNotFoundError, match="use split='val'"):
        datasets.celeba_arrays("test")


def test_unknown_celeba_attribute_suggests_close_match(data_root):
    with pytest.raises(ValueError, match="did you mean 'Smiling'") as info:
        datasets.load_celeba("val", attributes=["Smilling"])
    assert "Wearing_Necktie" in str(info.value)


def test_invalid_split_and_source():
    with pytest.raises(ValueError, match="'train', 'test'"):
        datasets.load_mnist("val")
    with pytest.raises(ValueError, match="'auto', 'arrays', 'tfds'"):
        datasets.load_mnist(source="official")
    with pytest.raises(ValueError, match="'official'"):
        datasets.load_celeba("val", source="kaggle")
    with pytest.raises(ValueError, match="'val'"):
        datasets.celeba_label_vectors("dev")


def test_shuffle_is_seeded_and_reshuffles(data_root):
    def labels(ds):
        return [y.numpy().tolist() for _, y in ds.take(1)][0]

    plain = labels(datasets.load_mnist("test", batch_size=32))
    ds = datasets.load_mnist("test", batch_size=32, shuffle=True, seed=7)
    first, second = labels(ds), labels(ds)
    again = labels(datasets.load_mnist("test", batch_size=32, shuffle=True, seed=7))
    assert first == again
    assert first != plain
    assert first != second


def test_mnist_fits_a_keras_model_on_current_backend(data_root):
    model = keras.Sequential(
        [keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10)]
    )
    model.compile(
        optimizer="sgd",
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    ds = datasets.load_mnist(batch_size=8)
    history = model.fit(ds, epochs=1, steps_per_epoch=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


# --------------------------------------------------------------------------
# CelebA annotations.
# --------------------------------------------------------------------------


def test_celeba_label_vectors_of_official_partitions(data_root):
    test = datasets.celeba_label_vectors("test")
    assert test.shape == (19962, 40) and test.dtype == np.int8
    assert set(np.unique(test).tolist()) == {0, 1}
    assert datasets.celeba_label_vectors("val").shape == (19867, 40)
    smiling = datasets.celeba_label_vectors("test", ["Smiling"])
    np.testing.assert_array_equal(smiling[:, 0], test[:, 31])


def test_celeba_annotations_agree_with_packed_val(data_root):
    filenames, attrs, partition = datasets.celeba_annotations()
    assert attrs.shape == (202599, 40) and partition.shape == (202599,)
    val_files = (data_root / "celeba64" / "val_filenames.txt").read_text().split()
    rows = np.searchsorted(filenames, val_files)
    np.testing.assert_array_equal(filenames[rows], val_files)
    assert (partition[rows] == 1).all()
    with np.load(data_root / "celeba64" / "val.npz") as z:
        np.testing.assert_array_equal(attrs[rows], z["attributes"])


def test_attribute_names_fall_back_to_builtin_list(tmp_path, data_root):
    builtin = datasets.celeba_attribute_names(data_dir=tmp_path)
    assert builtin == list(datasets.CELEBA_ATTRIBUTE_NAMES) and len(builtin) == 40
    assert datasets.celeba_attribute_names() == builtin


# --------------------------------------------------------------------------
# Locating data and reporting what is missing.
# --------------------------------------------------------------------------


def test_missing_data_dir_names_where_it_looked(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        datasets.load_mnist(data_dir=tmp_path, source="arrays")
    message = str(info.value)
    assert str(tmp_path / "mnist" / "mnist.npz") in message
    assert "KERAS_LATENT_DATA" in message
    with pytest.raises(FileNotFoundError, match="KERAS_LATENT_DATA"):
        datasets.celeba_label_vectors(data_dir=tmp_path)


def test_explicit_tfds_source_not_prepared(tmp_path):
    with pytest.raises(FileNotFoundError, match="tfds: 'mnist'"):
        datasets.load_mnist(source="tfds", tfds_data_dir=tmp_path)


def test_default_data_dir_order(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_LATENT_DATA", str(tmp_path / "from_env"))
    assert datasets.default_data_dir() == tmp_path / "from_env"
    monkeypatch.delenv("KERAS_LATENT_DATA")
    (tmp_path / "shared" / "data").mkdir(parents=True)
    (tmp_path / "repo").mkdir()
    monkeypatch.chdir(tmp_path / "repo")
    assert datasets.default_data_dir() == tmp_path / "shared" / "data"


def _top_level_imports(path):
    imported = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    return imported


def test_module_does_not_import_jax_or_torch():
    package = Path(datasets.__file__).parent
    by_module = {p.stem: _top_level_imports(p) for p in package.glob("*.py")}
    imported = set().union(*by_module.values())
    assert "tensorflow" in imported
    assert not imported & {"jax", "jaxlib", "torch"}
    # Only the tf.data pipelines need TensorFlow; the arrays never do.
    assert {m for m, names in by_module.items() if "tensorflow" in names} == {
        "pipelines"
    }


def test_array_loaders_do_not_import_tensorflow():
    code = (
        "import sys\n"
        "from keras_latent import datasets\n"
        "assert 'tensorflow' not in sys.modules, 'imported early'\n"
        "assert callable(datasets.mnist_arrays)\n"
        "assert 'tensorflow' not in sys.modules, 'imported by an array loader'\n"
        "assert datasets.load_mnist.__name__ == 'load_mnist'\n"
        "assert 'tensorflow' in sys.modules\n"
    )
    env = {**os.environ, "KERAS_BACKEND": "numpy"}
    # `python -c` puts its working directory, the checkout, on sys.path.
    repo = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=repo)


# --------------------------------------------------------------------------
# TensorFlow Datasets (mocked).
# --------------------------------------------------------------------------


def test_tfds_mnist_mock():
    tfds = pytest.importorskip("tensorflow_datasets")
    with tfds.testing.mock_data(num_examples=6):
        x, y = _first(datasets.load_mnist("test", source="tfds", batch_size=4))
    assert x.shape == (4, 28, 28, 1) and x.dtype == np.float32
    assert y.shape == (4,) and y.dtype == np.int32
    assert 0.0 <= x.min() and x.max() <= 1.0


def test_tfds_celeb_a_mock():
    tfds = pytest.importorskip("tensorflow_datasets")
    chosen = ["Smiling", "Male"]
    with tfds.testing.mock_data(num_examples=5):
        ds = datasets.load_celeba(
            "val", source="tfds", attributes=chosen, image_size=32, batch_size=5
        )
        x, a = _first(ds)
        raw = tfds.load("celeb_a", split="validation", download=False)
        expected = [[float(ex["attributes"][n]) for n in chosen] for ex in raw]
    assert x.shape == (5, 32, 32, 3) and x.dtype == np.float32
    assert a.shape == (5, 2) and a.dtype == np.float32
    assert 0.0 <= x.min() and x.max() <= 1.0
    np.testing.assert_array_equal(a, expected)


# --------------------------------------------------------------------------
# Official CelebA layout.
# --------------------------------------------------------------------------


def test_official_celeba_layout(tmp_path):
    rng = np.random.default_rng(0)
    partitions = [0, 0, 0, 1, 1, 2]
    filenames, labels = _write_official_celeba(tmp_path, partitions, rng)
    smiling = datasets.CELEBA_ATTRIBUTE_NAMES.index("Smiling")

    ds = datasets.load_celeba(
        "train", attributes=["Smiling"], data_dir=tmp_path, source="official"
    )
    pairs = list(ds)
    assert len(pairs) == 3
    x = np.stack([p[0].numpy() for p in pairs])
    a = np.stack([p[1].numpy() for p in pairs])
    assert x.shape == (3, 64, 64, 3) and x.dtype == np.float32
    np.testing.assert_array_equal(a[:, 0], labels[:3, smiling])
    # The standard box (0, 20, 178, 198) then LANCZOS, as the packed arrays.
    with Image.open(tmp_path / "img_align_celeba" / filenames[0]) as img:
        box = img.convert("RGB").crop((0, 20, 178, 198))
        expected = np.asarray(box.resize((64, 64), Image.Resampling.LANCZOS))
    np.testing.assert_allclose(x[0] * 255.0, expected, atol=1e-3)

    # "auto" finds the layout after the arrays and tfds come up empty.
    val = list(datasets.load_celeba("val", image_size=32, data_dir=tmp_path))
    assert len(val) == 2 and val[0][0].shape == (32, 32, 3)
    np.testing.assert_array_equal(np.stack([v[1] for v in val]), labels[3:5])
    test = list(datasets.load_celeba("test", data_dir=tmp_path, source="official"))
    assert len(test) == 1


# --------------------------------------------------------------------------
# A user's image folder with a labels CSV.
# --------------------------------------------------------------------------


def test_image_folder_labels_and_images(image_folder):
    root, labels = image_folder
    ds = datasets.load_image_folder(root, "labels.csv", image_size=16, batch_size=4)
    x, a = _first(ds)
    assert x.shape == (4, 16, 16, 3) and x.dtype == np.float32
    assert a.dtype == np.float32
    np.testing.assert_array_equal(a, labels)
    np.testing.assert_allclose(x[0], np.broadcast_to([1.0, 0.0, 0.0], x[0].shape))
    np.testing.assert_allclose(x[1], 128 / 255, atol=1e-6)
    np.testing.assert_allclose(x[2], np.broadcast_to([0.0, 1.0, 0.0], x[2].shape))

    _, male, names = datasets.image_folder_arrays(
        root, root / "labels.csv", attributes=["male"]
    )
    assert names == ["male"]
    np.testing.assert_array_equal(male[:, 0], labels[:, 1])


def test_image_folder_missing_image(image_folder):
    root, _ = image_folder
    with open(root / "labels.csv", "a", newline="") as f:
        f.write("ghost.png,1,0\n")
    with pytest.raises(FileNotFoundError, match="1 of 5.*ghost.png"):
        datasets.load_image_folder(root, root / "labels.csv")


def test_image_folder_unknown_attribute(image_folder):
    root, _ = image_folder
    with pytest.raises(ValueError, match="Valid names: smiling, male"):
        datasets.load_image_folder(root, root / "labels.csv", attributes=["bald"])


def test_image_folder_corrupt_image(image_folder):
    root, _ = image_folder
    (root / "b.png").write_bytes(b"not a png at all")
    with pytest.raises(ValueError, match="b.png"):
        datasets.load_image_folder(root, root / "labels.csv")


# --------------------------------------------------------------------------
# ArrayBatches: NumPy batches for `fit` on any backend.
# --------------------------------------------------------------------------


def _numbered_images(n, size=4):
    """uint8 images whose every pixel holds the row number, left half darker."""
    x = np.repeat(np.arange(n, dtype=np.uint8), size * size).reshape(n, size, size, 1)
    x = x.copy()
    x[:, :, : size // 2] //= 2
    return x


def test_array_batches_cover_every_row_once_per_pass_and_reshuffle():
    x = _numbered_images(10)
    y = np.arange(10)
    batches = datasets.ArrayBatches(x, y, batch_size=3, seed=1)
    assert batches.num_batches is None and batches.batches_per_pass == 3
    first = [batches[i][1] for i in range(3)]
    second = [batches[i][1] for i in range(3, 6)]
    for one_pass in (first, second):
        rows = np.concatenate(one_pass)
        assert len(set(rows.tolist())) == 9  # one row dropped: 10 // 3 batches
    assert not np.array_equal(np.concatenate(first), np.concatenate(second))
    # The same index gives the same batch, on a new object too.
    again = datasets.ArrayBatches(x, y, batch_size=3, seed=1)
    np.testing.assert_array_equal(again[4][1], batches[4][1])


def test_array_batches_scale_uint8_and_keep_images_with_their_labels():
    x = _numbered_images(6)
    images, labels = datasets.ArrayBatches(x, np.arange(6), batch_size=6)[0]
    assert images.dtype == np.float32 and images.shape == (6, 4, 4, 1)
    np.testing.assert_allclose(images[:, 0, -1, 0] * 255.0, labels, atol=1e-4)
    alone = datasets.ArrayBatches(x.astype("float32") / 255.0, batch_size=2)[0]
    assert isinstance(alone, np.ndarray) and alone.max() <= 1.0


def test_array_batches_flip_mirrors_some_images_left_right():
    x = _numbered_images(64)
    batch = datasets.ArrayBatches(x, np.arange(64), batch_size=64, flip=True)
    images, labels = batch[0]
    originals = x[labels].astype("float32") / 255.0
    mirrored = np.array(
        [not np.allclose(image, original) for image, original in zip(images, originals)]
    )
    assert 10 < mirrored.sum() < 54
    np.testing.assert_allclose(images[mirrored], originals[mirrored][:, :, ::-1])
    unflipped = datasets.ArrayBatches(x, np.arange(64), batch_size=64)[0]
    np.testing.assert_allclose(unflipped[0], x[unflipped[1]] / 255.0, rtol=1e-6)


def test_array_batches_one_pass_ends():
    batches = datasets.ArrayBatches(_numbered_images(5), batch_size=2, repeat=False)
    assert batches.num_batches == 2
    with pytest.raises(IndexError):
        batches[2]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(images=np.zeros((4, 8, 8))), "images"),
        (dict(images=np.zeros((4, 8, 8, 1)), labels=np.zeros(3)), "labels"),
        (dict(images=np.zeros((4, 8, 8, 1)), batch_size=5), "batch_size"),
    ],
)
def test_array_batches_reject_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        datasets.ArrayBatches(**kwargs)


def test_array_batches_feed_fit_on_this_backend():
    from test_case import tiny_gan

    from keras_latent.models import ACGAN

    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (32, 8, 8, 1), dtype=np.uint8)
    gan = tiny_gan()
    gan.compile()
    history = gan.fit(
        datasets.ArrayBatches(x, batch_size=8), epochs=2, steps_per_epoch=3
    )
    assert len(history.history["critic_loss"]) == 2
    acgan = tiny_gan(ACGAN, attribute_names=list("abc"), critic_steps=1)
    acgan.compile()
    labels = rng.integers(0, 3, 32)
    acgan.fit(
        datasets.ArrayBatches(x, labels, batch_size=8), epochs=1, steps_per_epoch=5
    )
    assert int(keras.ops.convert_to_numpy(acgan.optimizer["generator"].iterations)) == 5

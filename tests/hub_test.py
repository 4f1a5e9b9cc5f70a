"""`upload_preset` and `keras-latent upload`, against fake hub clients.

The fakes record every call and keep a copy of each uploaded folder, which
their download functions hand back: an upload then a `from_preset` of the
same URI is a round trip through the "hub".
"""

import argparse
import json
import os
import shutil
import sys
import types

import numpy as np
import pytest

import keras_latent
from keras_latent import hub
from keras_latent.cli import upload as upload_command
from keras_latent.models import VAE

METADATA = {
    "command": "python train_tiny.py --steps 0",
    "data": "none (untrained)",
    "split": {"train": "none", "report": "none"},
    "steps": 0,
    "wall_time_s": 0.1,
    "metrics": {"nothing": {"value": 0.0, "protocol": "a placeholder"}},
}
CARD = "# tiny\n\nAn untrained 8x8 VAE.\n"
Z = np.random.RandomState(0).randn(2, 3).astype("float32")
PRESET_FILES = ["README.md", "config.json", "metadata.json", "model.weights.h5"]


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A tiny preset, saved once, and what its model decodes from `Z`."""
    path = tmp_path_factory.mktemp("saved") / "tiny"
    model = VAE(image_shape=(8, 8, 1), latent_dim=3, hidden_units=(16,), seed=0)
    model.save_to_preset(path, metadata=METADATA)
    (path / "README.md").write_text(CARD)
    return path, model.decode(Z)


@pytest.fixture
def preset(saved, tmp_path):
    """A fresh copy of the tiny preset, for the test to change."""
    return shutil.copytree(saved[0], tmp_path / "tiny")


class FakeHubs:
    """Fake `huggingface_hub` and `kagglehub` modules in `sys.modules`."""

    def __init__(self, root, monkeypatch):
        self.root, self.calls, self.error = root, [], None
        hf = types.ModuleType("huggingface_hub")
        hf.create_repo = self.create_repo
        hf.upload_folder = self.upload_folder
        hf.snapshot_download = lambda repo_id: str(self.root / "hf" / repo_id)
        kaggle = types.ModuleType("kagglehub")
        kaggle.model_upload = self.model_upload
        kaggle.model_download = lambda handle: str(self.root / "kaggle" / handle)
        monkeypatch.setitem(sys.modules, "huggingface_hub", hf)
        monkeypatch.setitem(sys.modules, "kagglehub", kaggle)

    def create_repo(self, repo_id, exist_ok=False):
        self.calls.append(("create_repo", repo_id, exist_ok))
        return types.SimpleNamespace(repo_id=repo_id)

    def upload_folder(self, *, repo_id, folder_path, commit_message=None):
        self.calls.append(("upload_folder", repo_id, folder_path))
        if self.error:
            raise self.error
        shutil.copytree(folder_path, self.root / "hf" / repo_id)

    def model_upload(self, handle, local_model_dir, version_notes=""):
        self.calls.append(("model_upload", handle, local_model_dir))
        shutil.copytree(local_model_dir, self.root / "kaggle" / handle)

    def uploaded(self, scheme, handle):
        return self.root / scheme / handle


@pytest.fixture
def hubs(tmp_path, monkeypatch):
    return FakeHubs(tmp_path / "remote", monkeypatch)


def front_matter(card):
    # PyYAML comes with the hub clients (and flax), not with keras-latent.
    yaml = pytest.importorskip("yaml")
    assert card.startswith("---\n"), card
    header, body = card[4:].split("\n---\n", 1)
    return yaml.safe_load(header), body


def assert_round_trip(uri, expected):
    loaded = keras_latent.from_preset(uri)
    np.testing.assert_allclose(loaded.decode(Z), expected, atol=1e-6)


def test_hugging_face_upload_sends_the_preset_with_a_hub_card(preset, hubs, saved):
    url = keras_latent.hub.upload_preset(preset, "hf://me/tiny", verbose=False)
    assert url == "https://huggingface.co/me/tiny"
    assert hubs.calls[0] == ("create_repo", "me/tiny", True)
    (_, repo_id, staged), *_ = hubs.calls[1:]
    assert repo_id == "me/tiny"
    # The card was amended in a staged copy, gone after the upload.
    assert os.path.abspath(staged) != os.path.abspath(preset)
    assert not os.path.exists(staged)
    remote = hubs.uploaded("hf", "me/tiny")
    assert sorted(os.listdir(remote)) == PRESET_FILES
    header, body = front_matter((remote / "README.md").read_text())
    assert header == {"library_name": "keras", "tags": ["keras-latent"]}
    assert body == CARD
    for name in PRESET_FILES[1:]:
        assert (remote / name).read_bytes() == (preset / name).read_bytes()
    # The user's folder is as it was.
    assert (preset / "README.md").read_text() == CARD
    assert sorted(os.listdir(preset)) == PRESET_FILES
    assert_round_trip("hf://me/tiny", saved[1])


def test_kaggle_upload_sends_the_folder_itself(preset, hubs, saved):
    url = hub.upload_preset(preset, "kaggle://me/tiny/keras/v1", verbose=False)
    assert url == "https://www.kaggle.com/models/me/tiny/keras/v1"
    assert hubs.calls == [("model_upload", "me/tiny/keras/v1", str(preset))]
    remote = hubs.uploaded("kaggle", "me/tiny/keras/v1")
    assert sorted(os.listdir(remote)) == PRESET_FILES
    assert (remote / "README.md").read_text() == CARD
    assert_round_trip("kaggle://me/tiny/keras/v1", saved[1])


def test_a_card_with_hub_front_matter_is_sent_unstaged(preset, hubs):
    card = "---\nlibrary_name: keras\ntags: [gan, keras-latent]\n---\n" + CARD
    (preset / "README.md").write_text(card)
    (preset / "figures").mkdir()
    (preset / "figures" / "samples.png").write_bytes(b"png")
    hub.upload_preset(str(preset), "hf://me/tiny", verbose=False)
    assert hubs.calls[1] == ("upload_folder", "me/tiny", str(preset))
    remote = hubs.uploaded("hf", "me/tiny")
    assert (remote / "README.md").read_text() == card
    assert (remote / "figures" / "samples.png").read_bytes() == b"png"


# Each case: a card, and the front matter the Hub should then read. Pure
# string cases share one test: conftest's per-test clear_session costs more
# than the checks themselves.
CARDS = [
    ("# x\n", {"library_name": "keras", "tags": ["keras-latent"]}),
    (
        "---\nlicense: mit\n---\n# x\n",
        {"license": "mit", "library_name": "keras", "tags": ["keras-latent"]},
    ),
    (
        "---\nlibrary_name: keras-hub\ntags:\n  - gan\n---\n# x\n",
        {"library_name": "keras-hub", "tags": ["keras-latent", "gan"]},
    ),
    (
        "---\nlibrary_name: keras\ntags: ['gan', vae]\n---\n# x\n",
        {"library_name": "keras", "tags": ["keras-latent", "gan", "vae"]},
    ),
    (
        "---\ntags: gan\n---\n# x\n",
        {"tags": ["keras-latent", "gan"], "library_name": "keras"},
    ),
]


def test_hub_card_adds_only_what_the_front_matter_lacks():
    for card, header in CARDS:
        amended = hub.hub_card(card)
        assert front_matter(amended) == (header, "# x\n"), card
        assert hub.hub_card(amended) is None, card
    complete = "---\nlibrary_name: keras\ntags:\n- keras-latent\n---\n# x\n"
    assert hub.hub_card(complete) is None


def _edit_metadata(change):
    def edit(path):
        metadata = json.loads((path / "metadata.json").read_text())
        change(metadata)
        (path / "metadata.json").write_text(json.dumps(metadata))

    return edit


def _write(name, content):
    def write(path):
        data = content.encode() if isinstance(content, str) else content
        (path / name).write_bytes(data)

    return write


def _remove(name):
    return lambda path: (path / name).unlink()


def _link(path):
    (path / "elsewhere.txt").symlink_to(path.parent)


# How a preset can be unfit to share, and what the error then says.
BROKEN = [
    (_edit_metadata(lambda m: m.pop("wall_time_s")), r"lacks \['wall_time_s'\]"),
    (_edit_metadata(lambda m: m.pop("versions")), "save the model again"),
    (
        _edit_metadata(lambda m: m["metrics"]["nothing"].pop("protocol")),
        r"metrics \['nothing'\] have no `protocol`",
    ),
    (_edit_metadata(lambda m: m.update(metrics={})), "non-empty object"),
    (_edit_metadata(lambda m: m.update({"class": "WGANGP"})), "different saves"),
    (_write("metadata.json", "{"), "metadata.json is not valid JSON"),
    (_remove("metadata.json"), "metadata.json is missing"),
    (_remove("README.md"), "README.md is missing"),
    (_write("README.md", "\n"), "is empty"),
    (_remove("model.weights.h5"), "model.weights.h5 is missing"),
    (_write("config.json", "{not json"), "config.json' is not valid JSON"),
    (_write("config.json", "{}"), "is incomplete"),
    (_write("model.weights.h5", b"not hdf5"), "does not load: Could not load"),
    (_write("model.weights.h5.tmp", b"x"), "'model.weights.h5.tmp' should not"),
    (lambda p: (p / ".ipynb_checkpoints").mkdir(), "'.ipynb_checkpoints' should"),
    (_link, "'elsewhere.txt' should not be shared: a link"),
]


def test_a_preset_that_is_not_ready_is_never_sent(saved, tmp_path, hubs):
    for index, (break_preset, message) in enumerate(BROKEN):
        preset = shutil.copytree(saved[0], tmp_path / str(index))
        break_preset(preset)
        for uri in ("hf://me/tiny", "kaggle://me/tiny/keras/v1"):
            with pytest.raises(ValueError, match=message):
                hub.upload_preset(preset, uri, verbose=False)
    assert hubs.calls == []


def test_every_problem_is_named_at_once(preset, hubs):
    _remove("README.md")(preset)
    _edit_metadata(lambda m: m.pop("data"))(preset)
    (preset / "model.weights.h5.tmp").write_bytes(b"x")
    with pytest.raises(ValueError) as info:
        hub.upload_preset(preset, "hf://me/tiny", verbose=False)
    for fragment in ("README.md is missing", "['data']", "model.weights.h5.tmp"):
        assert fragment in str(info.value)


def test_an_unknown_model_class_is_refused(preset, hubs):
    config = json.loads((preset / "config.json").read_text())
    config["registered_name"] = "keras_latent>NoSuchModel"
    (preset / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="does not load: Could not build a model"):
        hub.upload_preset(preset, "hf://me/tiny", verbose=False)
    assert hubs.calls == []


BAD_URIS = [
    "hf://me",
    "hf://me/tiny/extra",
    "hf://me/",
    "hf://me/two words",
    "hf://me/-tiny",
    "hf://me/ti--ny",
    "kaggle://me/tiny/keras",
    "kaggle://me/tiny/pytorch/v1",
    "kaggle://me/tiny/keras/v1/2",
    "s3://bucket/tiny",
    "me/tiny",
]


def test_bad_uris_name_the_argument_and_the_valid_forms(preset, hubs):
    for uri in BAD_URIS:
        with pytest.raises(ValueError, match="`uri`") as info:
            hub.upload_preset(preset, uri, verbose=False)
        assert "'hf://user/name'" in str(info.value), uri
        assert "'kaggle://owner/model/keras/variant'" in str(info.value), uri
    with pytest.raises(TypeError, match="`uri` must be a str"):
        hub.upload_preset(preset, None, verbose=False)
    assert hubs.calls == []


def test_preset_dir_must_be_a_local_folder(preset, hubs):
    for preset_dir, message in [
        ("mnist_vae", "built-in preset name, not a folder"),
        ("hf://me/tiny", "is a hub handle, not a local folder"),
        ("no/such/folder", "does not exist"),
        ("", "`preset_dir` is empty"),
        (preset / "config.json", "is a file"),
    ]:
        with pytest.raises(ValueError, match=message):
            hub.upload_preset(preset_dir, "hf://me/tiny", verbose=False)
    # keras-hub's order, upload_preset(uri, preset), is the reverse.
    with pytest.raises(ValueError, match="other way round"):
        hub.upload_preset("hf://me/tiny", str(preset), verbose=False)
    assert hubs.calls == []


def test_missing_client_says_how_to_install(preset, monkeypatch):
    for uri, module in [
        ("hf://me/tiny", "huggingface_hub"),
        ("kaggle://me/tiny/keras/v1", "kagglehub"),
    ]:
        monkeypatch.setitem(sys.modules, module, None)
        with pytest.raises(ImportError, match=r'pip install "keras-latent\[hub\]"'):
            hub.upload_preset(preset, uri, verbose=False)
        # A dry run sends nothing, so it needs no client.
        assert hub.upload_preset(preset, uri, dry_run=True, verbose=False)


def test_dry_run_checks_and_lists_but_sends_nothing(preset, hubs, capsys):
    url = hub.upload_preset(preset, "hf://me/tiny", dry_run=True)
    assert url == "https://huggingface.co/me/tiny"
    assert hubs.calls == []
    out = capsys.readouterr().out
    assert "a VAE, 4 files" in out and ", ".join(PRESET_FILES) in out
    assert "Dry run: nothing was sent" in out


def run_cli(*argv):
    parser = argparse.ArgumentParser(prog="keras-latent")
    upload_command.add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["upload", *map(str, argv)])
    return args.run(args)


def test_cli_uploads_and_dry_runs(preset, hubs, capsys):
    assert run_cli(preset, "kaggle://me/tiny/keras/v1", "--dry-run") == 0
    assert "model.weights.h5" in capsys.readouterr().out
    assert hubs.calls == []
    assert run_cli(preset, "hf://me/tiny") == 0
    assert "Uploaded to https://huggingface.co/me/tiny" in capsys.readouterr().out
    assert [call[0] for call in hubs.calls] == ["create_repo", "upload_folder"]


def test_cli_errors_exit_with_status_2(preset, hubs, capsys):
    for argv, message in [
        ((preset, "hf://me"), "error: `uri` 'hf://me'"),
        ((preset / "missing", "hf://me/tiny"), "does not exist"),
        (("mnist_vae", "hf://me/tiny"), "built-in preset name"),
    ]:
        assert run_cli(*argv) == 2, argv
        assert message in capsys.readouterr().err
    _remove("README.md")(preset)
    assert run_cli(preset, "hf://me/tiny") == 2
    assert "README.md is missing" in capsys.readouterr().err
    assert hubs.calls == []


def test_cli_reports_a_refused_upload_with_status_1(preset, hubs, capsys):
    hubs.error = OSError("401 Unauthorized")
    assert run_cli(preset, "hf://me/tiny") == 1
    err = capsys.readouterr().err
    assert "uploading to hf://me/tiny failed: OSError: 401 Unauthorized" in err
    assert "hf auth login" in err

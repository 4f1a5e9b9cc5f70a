from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")

REPO = Path(__file__).resolve().parents[1]


def test_every_subpackage_is_in_the_wheel():
    # pyproject lists packages explicitly (zoo/ installs as keras_latent.zoo);
    # a new subpackage missing from the list would be left out of `pip install .`.
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    found = {
        ".".join(init.parent.relative_to(REPO).parts)
        for init in (REPO / "keras_latent").rglob("__init__.py")
    }
    assert found | {"keras_latent.zoo"} == listed
    assert config["package-dir"] == {"keras_latent.zoo": "zoo"}

"""Guards that keep the zoo's layout: import direction, backends, sizes.

The package is layered; a unit may import only units on lower levels (and
itself):

    0  utils, version
    1  trainer, layers, images
    2  losses, optimizers
    3  presets
    4  models, hub
    5  metrics, datasets, export
    6  evaluation, demo
    7  cli
       keras_latent/__init__.py (the public API) may import anything.

Besides: TensorFlow, JAX and torch are imported only in `trainer/backends`
(and TensorFlow's data API in `datasets`); Keras's private API is touched
only in `utils/keras_internals.py`; no module is over 700 lines and no
function body over 80.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import keras
import pytest

from keras_latent.utils import keras_internals

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "keras_latent"

LEVELS = {
    "utils": 0,
    "version": 0,
    "trainer": 1,
    "layers": 1,
    "optimizers": 2,
    "images": 1,
    "losses": 2,
    "presets": 3,
    "models": 4,
    "hub": 4,
    "metrics": 5,
    "datasets": 5,
    "export": 5,
    "evaluation": 6,
    "demo": 6,
    "cli": 7,
    "__init__": 8,
}
FRAMEWORKS = ("tensorflow", "tensorflow_datasets", "jax", "jaxlib", "torch")
# Where each framework may be imported, as paths relative to keras_latent/.
FRAMEWORK_HOMES = {
    "tensorflow": ("trainer/backends/", "datasets"),
    "tensorflow_datasets": ("datasets",),
    "jax": ("trainer/backends/",),
    "jaxlib": ("trainer/backends/",),
    "torch": ("trainer/backends/",),
}
KERAS_INTERNALS = "utils/keras_internals.py"
# Private attributes of Keras objects the zoo has needed; any use of them
# belongs in `utils/keras_internals.py`.
PRIVATE_KERAS_ATTRIBUTES = {
    "_value",
    "_tracker",
    "_momentums",
    "_velocities",
    "_velocity_hats",
    "_get_variable_index",
    "_variables",
    "_deferred_initialize",
    "_trainable_variables",
    "_non_trainable_variables",
    "_layers",
    "_optimizer_variables",
}
MAX_MODULE_LINES = 700
MAX_FUNCTION_LINES = 80


def _modules():
    return sorted(PACKAGE.rglob("*.py"))


def _relative(path: Path) -> str:
    return path.relative_to(PACKAGE).as_posix()


def unit_of(relative: str) -> str:
    """`models/vae/vae.py` → `models`; `presets.py` → `presets`."""
    first = relative.split("/")[0]
    return first[: -len(".py")] if first.endswith(".py") else first


def imported_modules(tree: ast.AST, relative: str) -> list[tuple[int, str]]:
    """`(line, absolute module name)` of every import in `tree`."""
    package = ["keras_latent", *relative.split("/")[:-1]]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module
            found.append((node.lineno, name))
            # `from keras_latent import models` imports the unit `models`.
            if name == "keras_latent":
                found += [(node.lineno, f"keras_latent.{a.name}") for a in node.names]
    return found


def import_direction_violations(tree: ast.AST, relative: str) -> list[str]:
    unit = unit_of(relative)
    level = LEVELS[unit]
    problems = []
    for line, name in imported_modules(tree, relative):
        parts = name.split(".")
        if parts[0] != "keras_latent" or len(parts) < 2:
            continue
        target = parts[1]
        if target == "zoo" or target == unit:
            continue
        if target not in LEVELS:
            problems.append(f"{relative}:{line} imports unknown unit {name}")
        elif LEVELS[target] >= level:
            problems.append(
                f"{relative}:{line}: {unit} (level {level}) imports {name} "
                f"(level {LEVELS[target]})"
            )
    return problems


def framework_violations(tree: ast.AST, relative: str) -> list[str]:
    problems = []
    for line, name in imported_modules(tree, relative):
        framework = name.split(".")[0]
        if framework in FRAMEWORKS and not relative.startswith(
            FRAMEWORK_HOMES[framework]
        ):
            problems.append(f"{relative}:{line} imports {name}")
    return problems


def private_keras_violations(tree: ast.AST, relative: str) -> list[str]:
    if relative == KERAS_INTERNALS:
        return []
    problems = [
        f"{relative}:{line} imports {name}"
        for line, name in imported_modules(tree, relative)
        if name.startswith("keras.src")
    ]
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in PRIVATE_KERAS_ATTRIBUTES:
            problems.append(f"{relative}:{node.lineno} uses .{node.attr}")
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and node.value.startswith("keras.src")
        ):
            problems.append(f"{relative}:{node.lineno} names {node.value!r}")
    return problems


def long_functions(tree: ast.AST, relative: str) -> list[str]:
    """Functions whose body, docstring excluded, is over the limit."""
    problems = []
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        body = node.body
        if (
            len(body) > 1
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            body = body[1:]
        lines = node.end_lineno - body[0].lineno + 1
        if lines > MAX_FUNCTION_LINES:
            problems.append(f"{relative}:{node.lineno} {node.name}: {lines} lines")
    return problems


def _parsed():
    return [(ast.parse(p.read_text()), _relative(p)) for p in _modules()]


def test_every_unit_has_a_level():
    units = {unit_of(relative) for _, relative in _parsed()}
    assert units - {"zoo"} <= set(LEVELS), units - set(LEVELS)


def test_imports_point_one_way():
    problems = [
        p for tree, rel in _parsed() for p in import_direction_violations(tree, rel)
    ]
    assert not problems, "\n".join(problems)


def test_frameworks_are_imported_only_where_they_belong():
    problems = [p for tree, rel in _parsed() for p in framework_violations(tree, rel)]
    assert not problems, "\n".join(problems)


def test_private_keras_api_only_in_keras_internals():
    problems = [
        p for tree, rel in _parsed() for p in private_keras_violations(tree, rel)
    ]
    assert not problems, "\n".join(problems)


def test_models_read_no_files():
    problems = []
    for tree, relative in _parsed():
        if unit_of(relative) != "models":
            continue
        for line, name in imported_modules(tree, relative):
            if name.split(".")[0] in ("PIL", "h5py", "csv", "gzip"):
                problems.append(f"{relative}:{line} imports {name}")
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "open":
                problems.append(f"{relative}:{node.lineno} calls open()")
    assert not problems, "\n".join(problems)


def test_no_module_over_the_line_limit():
    sizes = {_relative(p): len(p.read_text().splitlines()) for p in _modules()}
    too_long = {name: n for name, n in sizes.items() if n > MAX_MODULE_LINES}
    assert not too_long, too_long


def test_no_function_body_over_the_line_limit():
    problems = [p for tree, rel in _parsed() for p in long_functions(tree, rel)]
    assert not problems, "\n".join(problems)


def test_installed_keras_is_supported_and_pinned():
    keras_internals.check_keras_version()
    lowest, unsupported = keras_internals.SUPPORTED_KERAS
    pyproject = (REPO / "pyproject.toml").read_text()
    pin = re.search(r'"keras>=(\d+)\.(\d+),<(\d+)\.(\d+)"', pyproject)
    assert pin, "pyproject.toml must pin keras as 'keras>=A.B,<C.D'"
    numbers = tuple(int(n) for n in pin.groups())
    assert numbers == (*lowest, *unsupported)


def test_keras_version_check_rejects_releases_outside_the_range(monkeypatch):
    monkeypatch.setattr(keras, "__version__", "3.99.0")
    with pytest.raises(RuntimeError, match="supports Keras 3.12"):
        keras_internals.check_keras_version()
    monkeypatch.setattr(keras, "__version__", "3.15.1.dev2026")
    keras_internals.check_keras_version()


# The checkers themselves, on small sources: each must catch what it guards.


def _check(checker, source, relative):
    return checker(ast.parse(source), relative)


def test_checkers_catch_violations():
    assert _check(
        import_direction_violations, "from keras_latent import models", "losses/x.py"
    )
    assert _check(
        import_direction_violations,
        "from ..evaluation import evaluate",
        "metrics/x.py",
    )
    assert not _check(
        import_direction_violations, "from keras_latent import utils", "models/x.py"
    )
    assert _check(framework_violations, "import torch", "models/vae/vae.py")
    assert not _check(framework_violations, "import torch", "trainer/backends/t.py")
    assert not _check(framework_violations, "import tensorflow as tf", "datasets/p.py")
    assert _check(private_keras_violations, "v._value = 1", "utils/state_guard.py")
    assert _check(
        private_keras_violations, "from keras.src import backend", "presets.py"
    )
    assert not _check(private_keras_violations, "v._value = 1", KERAS_INTERNALS)
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES + 1))
    assert _check(long_functions, f"def f():\n    '''Doc.'''\n{body}\n", "x.py")
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    assert not _check(long_functions, f"def f():\n    '''Doc.'''\n{body}\n", "x.py")

"""Export a model's generator and edit as ONNX files or a TensorFlow SavedModel.

What is exported is the model's graph-level methods, written with Keras
layers and `keras.ops` only:

- `generate`: `generator_graph(noise[, labels])`, standard normal noise
  (and, for conditional models, label vectors) to images in [0, 1];
- `edit` (editing models): `edit_graph(images, labels)`, images in [0, 1]
  and the full target label vectors to edited images in [0, 1].

Each becomes a functional `keras.Model` with named inputs (`noise`,
`labels`, `images`) that Keras's own exporters convert: `model.export(...,
format="onnx")` (tf2onnx on TensorFlow, jax2onnx on JAX, torch.onnx on
PyTorch) and `keras.export.ExportArchive` for the SavedModel (TensorFlow and
JAX; PyTorch would need torch_xla). The batch dimension stays dynamic.

Layout: for ONNX, `PATH/generate.onnx` and `PATH/edit.onnx`; for a SavedModel,
`PATH/` is one SavedModel with the signatures `generate` and `edit`. Both hold
`PATH/signature.json`, which names and describes every input and output.
Everything is written into a hidden sibling folder first and renamed into
place, so a failed export leaves nothing behind.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import importlib.util
import inspect
import json
import os
import shutil
import warnings
from pathlib import Path

import keras
import numpy as np

from keras_latent.presets import from_preset
from keras_latent.utils.files import hidden_sibling, replace_directory
from keras_latent.utils.inputs import check_choice, predict_in_batches
from keras_latent.version import __version__

FORMATS = ("onnx", "saved_model")
SIGNATURE_FILE = "signature.json"
INSTALL_HINT = 'pip install "keras-latent[export]"'
# How far an exported function may be from the Keras graph: float32 round-off
# of other kernels, far below one grey level (1/255).
TOLERANCE = 1e-4
CHECK_BATCH = 3
# The Python modules each backend's ONNX export needs: Keras's converter
# (torch's own TorchScript exporter, which a dynamic batch selects, needs no
# other) and `onnx`, which names the files' inputs and outputs.
ONNX_MODULES = {
    "tensorflow": ("onnx", "tf2onnx"),
    "jax": ("onnx", "jax2onnx"),
    "torch": ("onnx",),
}
SAVED_MODEL_BACKENDS = ("tensorflow", "jax")


@dataclasses.dataclass(frozen=True)
class Port:
    """One named float32 input or output of an exported function.

    Args:
        name: str. The input's or output's name in the exported file.
        shape: tuple. `(None, ...)`: the batch dimension is dynamic.
        meaning: str. What the values are, for people.
    """

    name: str
    shape: tuple
    meaning: str

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "shape": list(self.shape),
            "dtype": "float32",
            "meaning": self.meaning,
        }


@dataclasses.dataclass(frozen=True)
class ExportedFunction:
    """What one exported function computes, and from what.

    Args:
        name: str. `"generate"` or `"edit"`: the file's or signature's name.
        method: str. The model's graph method it wraps.
        inputs: tuple of `Port`.
        output: `Port`.
        summary: str. One sentence on what it computes.
    """

    name: str
    method: str
    inputs: tuple
    output: Port
    summary: str

    def as_dict(self) -> dict:
        return {
            "summary": self.summary,
            "inputs": [p.as_dict() for p in self.inputs],
            "outputs": [self.output.as_dict()],
        }


def _first_paragraph(method) -> str:
    text = inspect.getdoc(method) or ""
    return " ".join(text.split("\n\n")[0].split())


def _noise_meaning(model) -> str:
    meaning = "standard normal noise z ~ N(0, I), one row per image"
    relevant_dim = getattr(model, "relevant_dim", None)
    if relevant_dim:
        meaning += (
            f"; columns 0-{relevant_dim - 1} are ε_s, which the class "
            f"Gaussian scales, columns {relevant_dim}-{model.noise_dim - 1} "
            "the label-irrelevant code z_u"
        )
    return meaning


def _labels_port(model, edit: bool) -> Port:
    names = list(model.attribute_names)
    if getattr(model, "label_type", "categorical") == "categorical":
        what = "the target class" if edit else "the class"
        meaning = f"{what} of each image, one-hot over attribute_names"
    elif edit:
        meaning = (
            "every attribute's target value, 0/1 in the order of "
            "attribute_names (pass an attribute's current value to keep it)"
        )
    else:
        meaning = "0/1 per attribute, in the order of attribute_names"
    return Port("labels", (None, len(names)), meaning)


def exported_functions(model) -> list[ExportedFunction]:
    """The functions `export_model` exports from `model`, described.

    Args:
        model: a keras-latent model.

    Returns:
        A list of `ExportedFunction`: `generate` for models with a
        `generator_graph`, then `edit` for models with an `edit_graph`.

    Raises:
        ValueError: for a model with neither (a classifier, say).

    Example:

    ```python
    [f.name for f in exported_functions(keras_latent.from_preset("mnist_cgan"))]
    # ['generate']
    ```
    """
    conditional = hasattr(model, "attribute_names")
    image_shape = (None, *model.image_shape)
    functions = []
    if hasattr(model, "generator_graph"):
        noise = Port("noise", (None, model.noise_dim), _noise_meaning(model))
        inputs = (noise, _labels_port(model, edit=False)) if conditional else (noise,)
        output = Port("images", image_shape, "generated images in [0, 1]")
        summary = _first_paragraph(model.generator_graph)
        functions.append(
            ExportedFunction("generate", "generator_graph", inputs, output, summary)
        )
    if hasattr(model, "edit_graph"):
        images = Port("images", image_shape, "images to edit, floats in [0, 1]")
        # Not "images" again: ONNX names every value of a graph once.
        output = Port("edited", image_shape, "the edited images in [0, 1]")
        functions.append(
            ExportedFunction(
                "edit",
                "edit_graph",
                (images, _labels_port(model, edit=True)),
                output,
                _first_paragraph(model.edit_graph),
            )
        )
    if not functions:
        raise ValueError(
            f"{type(model).__name__} has nothing to export: export takes "
            "generative models (noise [and labels] → images) and editing "
            "models (images and labels → images), such as mnist_cgan or "
            "celeba_latent_constraints."
        )
    return functions


class _GraphCall(keras.layers.Layer):
    """Calls one graph method of `source`: the one layer of an exported graph.

    A layer rather than the method applied to `keras.Input`s directly, so
    that the functional graph tracks every variable of `source` (some graph
    methods read variables outside sub-networks, such as the class means of
    a Gaussian mixture) and runs the method on real tensors.
    """

    def __init__(self, source, method: str, **kwargs):
        super().__init__(**kwargs)
        self.source = source
        self.method = method

    def call(self, inputs):
        return getattr(self.source, self.method)(*inputs)


def exportable_functions(model) -> dict[str, keras.Model]:
    """Functional Keras models of what `model` exports, with named inputs.

    Args:
        model: a keras-latent model with a `generator_graph` (and, for
            editing models, an `edit_graph`).

    Returns:
        A dict from `"generate"` (and `"edit"`) to a functional `keras.Model`
        whose inputs are `keras.Input`s named as in `exported_functions`
        (called on a list of tensors in that order), returning float32
        images in [0, 1].

    Example:

    ```python
    graphs = exportable_functions(keras_latent.from_preset("mnist_cgan"))
    images = graphs["generate"]([noise, labels])
    ```
    """
    graphs = {}
    for function in exported_functions(model):
        inputs = [
            keras.Input(port.shape[1:], name=port.name, dtype="float32")
            for port in function.inputs
        ]
        layer = _GraphCall(model, function.method, name=function.output.name)
        graphs[function.name] = keras.Model(inputs, layer(inputs), name=function.name)
    return graphs


def export_signature(model) -> dict:
    """What `model`'s exported functions take and return, JSON-serialisable.

    Args:
        model: a keras-latent model.

    Returns:
        A dict: `model` (the class name), `image_shape`, `attribute_names`
        and `label_type` (`None` for unconditional models), and `functions`,
        from each function's name to its `summary`, `inputs` and `outputs`
        (each a dict of `name`, `shape` with `None` for the batch, `dtype`,
        `meaning`).

    Example:

    ```python
    signature = export_signature(keras_latent.from_preset("mnist_cgan"))
    signature["functions"]["generate"]["inputs"][0]["name"]  # 'noise'
    ```
    """
    names = getattr(model, "attribute_names", None)
    return {
        "model": type(model).__name__,
        "image_shape": list(model.image_shape),
        "attribute_names": None if names is None else list(names),
        "label_type": getattr(model, "label_type", "categorical" if names else None),
        "functions": {f.name: f.as_dict() for f in exported_functions(model)},
    }


def check_export_support(format: str, check: bool = True) -> None:
    """Raises unless this backend can export `format` with what is installed.

    Args:
        format: `"onnx"` or `"saved_model"`.
        check: bool. Whether onnxruntime will check the ONNX files. Defaults
            to `True`.

    Raises:
        ValueError: for an unknown format, or a format this backend cannot
            export.
        ImportError: when a converter is missing, naming the `pip install`
            that adds it.
    """
    check_choice("format", format, FORMATS)
    backend = keras.backend.backend()
    if format == "saved_model":
        if backend not in SAVED_MODEL_BACKENDS:
            raise ValueError(
                f"`format='saved_model'` needs the TensorFlow or JAX backend "
                f"(received {backend!r}): Keras exports a PyTorch model to a "
                "SavedModel through torch_xla, which keras-latent does not "
                "support. A preset does not depend on the backend: run the "
                "export with KERAS_BACKEND=tensorflow (or jax), or use "
                "`format='onnx'`."
            )
        return
    if backend not in ONNX_MODULES:
        raise ValueError(
            "`format='onnx'` needs the TensorFlow, JAX or PyTorch backend. "
            f"Received backend: {backend!r}"
        )
    needed = ONNX_MODULES[backend] + (("onnxruntime",) if check else ())
    missing = [m for m in needed if importlib.util.find_spec(m) is None]
    if missing:
        raise ImportError(
            f"ONNX export on the {backend} backend needs {', '.join(missing)}: "
            f"{INSTALL_HINT}"
        )


def _specs(function: ExportedFunction) -> list:
    return [
        keras.InputSpec(shape=port.shape, dtype="float32", name=port.name)
        for port in function.inputs
    ]


def _name_onnx_ports(file: Path, function: ExportedFunction, props: dict) -> None:
    """Names the output, documents every input and output, marks the batch.

    The converters name outputs after internal ops (`Identity:0`,
    `div_out_0`, `268`) and the batch dimension each their own way.
    """
    import onnx

    proto = onnx.load(str(file))
    graph = proto.graph
    produced, wanted = graph.output[0].name, function.output.name
    if produced != wanted:
        used = {name for node in graph.node for name in node.output}
        used |= {value.name for value in graph.input}
        if wanted in used:
            raise RuntimeError(f"{file.name} already has a value named {wanted!r}.")
        graph.node.append(onnx.helper.make_node("Identity", [produced], [wanted]))
        graph.output[0].name = wanted
    meanings = {p.name: p.meaning for p in (*function.inputs, function.output)}
    for value in [*graph.input, *graph.output]:
        if value.name not in meanings:
            continue
        value.doc_string = meanings[value.name]
        batch = value.type.tensor_type.shape.dim[0]
        if not batch.HasField("dim_value"):
            batch.dim_param = "batch"
    proto.doc_string = function.summary
    onnx.helper.set_model_props(proto, props)
    onnx.save(proto, str(file))


def _check_inputs(model, functions, graphs) -> dict:
    """Inputs of every function for the check: realistic, seeded.

    Labels are drawn from the model's label marginals; the images to edit
    are the model's own samples.
    """
    rng = np.random.default_rng(0)
    values = {}
    if hasattr(model, "noise_dim"):
        values["noise"] = rng.standard_normal((CHECK_BATCH, model.noise_dim))
        values["noise"] = values["noise"].astype("float32")
    if hasattr(model, "label_vectors"):
        values["labels"] = model.label_vectors(None, CHECK_BATCH, seed=0)
    generate = next((f for f in functions if f.name == "generate"), None)
    if generate is not None:
        arrays = [values[p.name] for p in generate.inputs]
        values["images"] = _run_keras(graphs["generate"], arrays)
    else:
        shape = (CHECK_BATCH, *model.image_shape)
        values["images"] = rng.uniform(size=shape).astype("float32")
    return values


def _run_keras(graph, arrays) -> np.ndarray:
    return predict_in_batches(lambda *batch: graph(list(batch)), tuple(arrays))


def _check_onnx(model, functions, graphs, folder: Path) -> dict:
    """Runs each ONNX file with onnxruntime against the Keras graph.

    Returns:
        `{function name: max |ONNX − Keras|}` on a batch of `CHECK_BATCH`
        (not the batch of 1 some converters trace with).

    Raises:
        ValueError: when a function differs by more than `TOLERANCE`.
    """
    import onnxruntime

    values = _check_inputs(model, functions, graphs)
    differences = {}
    for function in functions:
        arrays = [values[p.name] for p in function.inputs]
        expected = _run_keras(graphs[function.name], arrays)
        session = onnxruntime.InferenceSession(
            str(folder / f"{function.name}.onnx"),
            providers=["CPUExecutionProvider"],
        )
        feed = {p.name: a for p, a in zip(function.inputs, arrays)}
        got = session.run([function.output.name], feed)[0]
        difference = float(np.max(np.abs(got - expected)))
        if not difference <= TOLERANCE:
            raise ValueError(
                f"The exported {function.name}.onnx differs from the Keras model "
                f"by {difference:.3g} (more than {TOLERANCE}) on a check batch: "
                f"the {keras.backend.backend()} converter mistranslated it. Try "
                "another backend (KERAS_BACKEND=tensorflow, jax or torch)."
            )
        differences[function.name] = difference
    return differences


def _write_onnx(model, functions, graphs, folder: Path, check: bool) -> dict:
    props = {"keras_latent_version": __version__, "model": type(model).__name__}
    if hasattr(model, "attribute_names"):
        props["attribute_names"] = json.dumps(list(model.attribute_names))
    files = {}
    for function in functions:
        file = folder / f"{function.name}.onnx"
        with warnings.catch_warnings():
            # torch's tracer warns of every shape it reads as a number; the
            # check runs the file on another batch size than it traced.
            warnings.filterwarnings(
                "ignore",
                message=".*(trace might not generalize|registered as constants)",
            )
            graphs[function.name].export(
                str(file),
                format="onnx",
                verbose=False,
                input_signature=[_specs(function)],
            )
        _name_onnx_ports(file, function, props)
        files[function.name] = file.name
    record = {"files": files}
    if check:
        record["check"] = {
            "runtime": "onnxruntime " + importlib.metadata.version("onnxruntime"),
            "batch": CHECK_BATCH,
            "max_abs_difference": _check_onnx(model, functions, graphs, folder),
        }
    return record


def _endpoint(graph, function: ExportedFunction):
    """`graph` as a function of named tensors, returning `{output name: ...}`.

    The parameter names become the SavedModel signature's input names.
    """

    def endpoint(*tensors):
        return {function.output.name: graph(list(tensors))}

    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    endpoint.__signature__ = inspect.Signature(
        [inspect.Parameter(port.name, kind) for port in function.inputs]
    )
    return endpoint


def _write_saved_model(model, functions, graphs, folder: Path) -> dict:
    archive = keras.export.ExportArchive()
    if keras.backend.backend() == "jax":
        # JAX passes the tracked variables to each endpoint: the model once,
        # not each graph (a variable tracked twice breaks the conversion).
        # TensorFlow tracks what the endpoints use, and only that.
        archive.track(model)
    for function in functions:
        archive.add_endpoint(
            function.name,
            _endpoint(graphs[function.name], function),
            input_signature=_specs(function),
        )
    archive.write_out(str(folder), verbose=False)
    # The first endpoint is also `serving_default`.
    return {"signatures": [f.name for f in functions]}


def export_model(
    model,
    path: str | os.PathLike,
    format: str = "onnx",
    overwrite: bool = False,
    check: bool = True,
    preset: str | None = None,
) -> dict:
    """Exports `model`'s generator (and edit) to the folder `path`.

    ONNX: `path/generate.onnx` (and `path/edit.onnx`); SavedModel: one
    SavedModel in `path` with the signatures `generate` (also
    `serving_default`) and `edit`. Both write `path/signature.json`, the
    dict this returns. Inputs and outputs are float32 with a dynamic batch
    dimension; see `exported_functions` for their names and meanings. Every
    argument is checked before anything is written, and the files are
    written beside `path` and renamed into place: a failed export leaves
    `path` as it was.

    Args:
        model: a keras-latent model that generates (or edits) images.
        path: str or path. The folder to write.
        format: `"onnx"` or `"saved_model"`. Defaults to `"onnx"`.
        overwrite: bool. Replace an existing `path`. Defaults to `False`.
        check: bool. For ONNX, run each file with onnxruntime on a batch of
            `CHECK_BATCH` and raise a ValueError if it differs from the Keras
            graph by more than `TOLERANCE`. Defaults to `True`.
        preset: str or None. The preset's name, recorded in
            `signature.json`. Defaults to `None`.

    Returns:
        The signature (`export_signature`) with `preset`, `format`,
        `backend`, the versions, and the files or signatures written (and
        the check's differences).

    Example:

    ```python
    model = keras_latent.from_preset("mnist_cgan")
    export_model(model, "mnist_cgan_onnx", format="onnx")
    ```
    """
    check_export_support(format, check)
    functions = exported_functions(model)
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ValueError(f"`path` '{path}' exists and is not a folder.")
    if path.exists() and not overwrite:
        raise ValueError(
            f"`path` '{path}' already exists; pass overwrite=True (the CLI's "
            "--overwrite) to replace it."
        )
    signature = {"preset": preset, **export_signature(model), "format": format}
    signature["backend"] = keras.backend.backend()
    signature["versions"] = {"keras_latent": __version__, "keras": keras.__version__}
    graphs = exportable_functions(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = hidden_sibling(path, "new")
    staging.mkdir()
    try:
        if format == "onnx":
            signature.update(_write_onnx(model, functions, graphs, staging, check))
        else:
            signature.update(_write_saved_model(model, functions, graphs, staging))
        text = json.dumps(signature, indent=2, ensure_ascii=False) + "\n"
        (staging / SIGNATURE_FILE).write_text(text, encoding="utf-8")
        replace_directory(staging, path)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return signature


def export_preset(
    preset: str | os.PathLike,
    path: str | os.PathLike,
    format: str = "onnx",
    overwrite: bool = False,
    check: bool = True,
) -> dict:
    """Loads `preset` and exports it with `export_model`.

    Args:
        preset: str or path. A preset name, directory, hf:// or kaggle://
            handle.
        path: str or path. The folder to write.
        format: `"onnx"` or `"saved_model"`. Defaults to `"onnx"`.
        overwrite: bool. Replace an existing `path`. Defaults to `False`.
        check: bool. Check the ONNX files with onnxruntime. Defaults to
            `True`.

    Returns:
        The dict written to `path/signature.json`.

    Example:

    ```python
    export_preset("celeba_latent_constraints", "lc_onnx")
    ```
    """
    # Before the preset loads: a bad format should not cost the download.
    check_export_support(format, check)
    model = from_preset(preset)
    return export_model(model, path, format, overwrite, check, preset=str(preset))


def _shape_text(shape) -> str:
    return "(" + ", ".join("N" if d is None else str(d) for d in shape) + ")"


def _onnx_example(model, preset: str, folder: str) -> list[str]:
    """A runnable onnxruntime snippet for the card."""
    generate = exported_functions(model)[0]
    lines = [
        "```python",
        "import numpy as np",
        "import onnxruntime",
        "",
        f'session = onnxruntime.InferenceSession("{folder}/generate.onnx")',
        "noise = np.random.default_rng(0).standard_normal("
        f"(4, {model.noise_dim})).astype(np.float32)",
    ]
    feed = '{"noise": noise}'
    if len(generate.inputs) == 2:
        first = model.attribute_names[0]
        lines += [
            f"labels = np.zeros((4, {len(model.attribute_names)}), np.float32)",
            f"labels[:, 0] = 1  # {first!r}, the first of attribute_names",
        ]
        feed = '{"noise": noise, "labels": labels}'
    lines += [
        f'images = session.run(["images"], {feed})[0]  # in [0, 1]',
        "```",
    ]
    return lines


def export_card_section(model, preset: str) -> str:
    """The "Export" section of a preset's model card, as Markdown.

    It gives the command, each exported function's inputs and outputs
    (names, shapes, meanings), the order of the labels and an onnxruntime
    snippet.

    Args:
        model: the preset's model.
        preset: str. The preset's name, as the command takes it.

    Returns:
        Markdown text starting with the `## Export` heading.

    Example:

    ```python
    model = keras_latent.from_preset("mnist_cgan")
    print(export_card_section(model, "mnist_cgan"))
    ```
    """
    functions = exported_functions(model)
    names = [f.name for f in functions]
    folder = f"{preset}_onnx"
    files = " and ".join(f"`{n}.onnx`" for n in names)
    lines = [
        "## Export",
        "",
        "```",
        f"keras-latent export {preset} --format onnx -o {folder}",
        f"keras-latent export {preset} --format saved_model -o {preset}_saved_model",
        "```",
        "",
        f"ONNX writes {files}; a SavedModel (TensorFlow or JAX backend) holds "
        "the signatures "
        f"{' and '.join(f'`{n}`' for n in names)}. Both folders hold "
        f"`{SIGNATURE_FILE}`, which describes every input and output. All are "
        "float32 and N, the batch size, is free (`pip install "
        '"keras-latent[export]"` for ONNX).',
        "",
        "| function | input / output | shape | meaning |",
        "|---|---|---|---|",
    ]
    for function in functions:
        rows = [("in", p) for p in function.inputs] + [("out", function.output)]
        for index, (direction, port) in enumerate(rows):
            label = f"`{function.name}`" if index == 0 else ""
            lines.append(
                f"| {label} | {direction} `{port.name}` | "
                f"{_shape_text(port.shape)} | {port.meaning} |"
            )
    lines.append("")
    lines += [f"- `{f.name}`: {f.summary}" for f in functions]
    if hasattr(model, "attribute_names"):
        order = ", ".join(f"`{n}`" for n in model.attribute_names)
        lines += ["", f"Label order (`attribute_names`): {order}."]
    return "\n".join([*lines, "", *_onnx_example(model, preset, folder)]) + "\n"

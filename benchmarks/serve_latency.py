"""How fast `keras-latent serve`'s page answers, per preset and backend.

For each generative preset of the zoo, on each Keras backend, this times what
the page computes for a request (`keras_latent.demo.DemoSession`, the same
code the page calls, without the browser and Gradio's few milliseconds):

- grid: `sample_grid` of `--num_samples` (16) images with the first
  attribute set (the first class for categorical models), a new seed each
  time: generation and the PNG-ready uint8 grid;
- edit: `edit_grid` of one uploaded photo (a generated image saved as PNG)
  with the second attribute set, by the model's default edit method: the
  photo's decoding and checks, the reconstruction and the edit.

The session warms up once (as the page does when it starts); then each is
timed `--repeats` times and the table shows medians. The page's target is a
16-face grid in under 1 s on a 2-core CPU; the script prints it under the
table and checks nothing.

Run from the repository root:

    python benchmarks/serve_latency.py
    python benchmarks/serve_latency.py --backends jax --presets mnist_cgan
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import backend_workers  # benchmarks/ is on sys.path when run as a script
import numpy as np
from absl import app, flags

backend_workers.define_flags()
flags.adopt_module_key_flags(backend_workers)
flags.DEFINE_list("presets", [], "Presets to time (default: every generative one).")
flags.DEFINE_integer("num_samples", 16, "Images per grid.")
flags.DEFINE_integer("repeats", 10, "Timed repeats of each request.")
FLAGS = flags.FLAGS
_FORWARDED = ("presets", "num_samples", "repeats", "torch_threads")
TARGET_SECONDS = 1.0


def _median_seconds(function, repeats: int) -> float:
    times = []
    for index in range(repeats):
        started = time.perf_counter()
        function(index)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _choice(session, position: int) -> dict:
    name = session.attribute_names[position % len(session.attribute_names)]
    return {"class": name} if session.categorical else {name: "on"}


def _time_preset(name: str, workdir: Path) -> dict:
    from PIL import Image

    import keras_latent
    from keras_latent.demo import DemoSession

    model = keras_latent.from_preset(name)
    session = DemoSession(model, name=name)  # warms up, as the page does
    choices = _choice(session, 0) if session.conditional else {}
    result = {
        "preset": name,
        "grid_seconds": _median_seconds(
            lambda i: session.sample_grid(choices, i, FLAGS.num_samples),
            FLAGS.repeats,
        ),
    }
    if session.can_edit:
        face = np.round(model.generate(num_samples=1, seed=0)[0] * 255)
        face = face.astype(np.uint8)
        path = workdir / f"{name}.png"
        Image.fromarray(face[..., 0] if face.shape[-1] == 1 else face).save(path)
        edit = _choice(session, 1)
        session.edit_grid(str(path), edit)  # the edit's own warm-up
        result["edit_seconds"] = _median_seconds(
            lambda i: session.edit_grid(str(path), edit), FLAGS.repeats
        )
        result["edit_method"] = session.edit_methods[0] if session.edit_methods else ""
    return result


def _benchmark(backend: str) -> dict:
    import keras_latent

    presets = FLAGS.presets or [
        name
        for name in keras_latent.list_presets()
        if keras_latent.load_preset_metadata(name).get("class") != "ImageClassifier"
    ]
    with tempfile.TemporaryDirectory() as workdir:
        rows = [_time_preset(name, Path(workdir)) for name in presets]
    return {"backend": backend, "num_samples": FLAGS.num_samples, "presets": rows}


def _report(results: list) -> list:
    header = ["preset", "backend", f"{FLAGS.num_samples} samples (s)", "edit (s)"]
    rows = []
    for result in results:
        for row in result["presets"]:
            edit = "–"
            if "edit_seconds" in row:
                method = f" ({row['edit_method']})" if row["edit_method"] else ""
                edit = f"{row['edit_seconds']:.3f}{method}"
            rows.append(
                [row["preset"], result["backend"], f"{row['grid_seconds']:.3f}", edit]
            )
    print(backend_workers.markdown_table(header, rows, text_columns=2))
    print(f"\nTarget: a grid of 16 faces in under {TARGET_SECONDS:.0f} s on this CPU.")
    return results


def main(argv):
    backend_workers.check_no_arguments(argv)
    backend_workers.run(__file__, _FORWARDED, _benchmark, _report)


if __name__ == "__main__":
    app.run(main)

"""Measures a preset with the evaluation toolkit and records it in the preset.

    python recipes/evaluate_preset.py --preset mnist_wgan_gp

It writes the report (numbers and protocol) under `evaluation` in the preset's
`metadata.json`, and a table in its model card.
"""

import json
import os
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import publishing  # noqa: E402  (recipes/ is on sys.path when run as a script)
from absl import app, flags  # noqa: E402

import keras_latent  # noqa: E402
from keras_latent import presets  # noqa: E402
from keras_latent.evaluation import format_table  # noqa: E402
from keras_latent.utils.files import atomic_write_text  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_string("preset", None, "Preset name or directory.", required=True)
flags.DEFINE_list("metrics", ["fid", "kid", "is", "diversity"], "Metrics to run.")
flags.DEFINE_integer("num_samples", 10000, "Generated images.")
flags.DEFINE_string("data", None, "Reference split, e.g. mnist:test (default: auto).")
flags.DEFINE_string("judge", None, "Judge preset (default: the dataset's).")
flags.DEFINE_integer("seed", 0, "Seed of the generated images.")

CARD_HEADING = "## Measured with the evaluation toolkit"


def main(argv):
    del argv
    clock = publishing.Stopwatch()
    report = keras_latent.evaluate(
        FLAGS.preset,
        metrics=FLAGS.metrics,
        data=FLAGS.data,
        num_samples=FLAGS.num_samples,
        judge=FLAGS.judge,
        seed=FLAGS.seed,
    )
    table = format_table(report)
    print(table)
    report["command"] = publishing.command_line()
    report["wall_time_s"] = clock.seconds()

    preset_dir = presets.resolve_preset(FLAGS.preset)
    metadata_path = Path(preset_dir) / presets.METADATA_FILE
    metadata = json.loads(metadata_path.read_text())
    metadata["evaluation"] = report
    atomic_write_text(metadata_path, json.dumps(metadata, indent=2) + "\n")

    card_path = Path(preset_dir) / "README.md"
    # A preset saved with `save_to_preset` has no card yet: this starts one.
    card = card_path.read_text() if card_path.is_file() else ""
    card = card.split(CARD_HEADING)[0].rstrip() + "\n\n"
    card += f"{CARD_HEADING}\n\n```\n{report['command']}\n```\n\n{table}\n"
    atomic_write_text(card_path, card.lstrip())


if __name__ == "__main__":
    app.run(main)

"""What every recipe does after training: measure, record, publish a preset.

Recipes import this module; the library itself defines no flags and knows
nothing of recipes.
"""

from __future__ import annotations

import json
import shlex
import sys
import time
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]


class Stopwatch:
    def __init__(self):
        self.start = time.time()

    def seconds(self) -> float:
        return round(time.time() - self.start, 1)


def command_line() -> str:
    """The command that ran this recipe, relative to the repository root."""
    script = Path(sys.argv[0]).resolve()
    try:
        script = script.relative_to(REPO_ROOT)
    except ValueError:
        pass
    return shlex.join(["python", str(script), *sys.argv[1:]])


def data_source(relative: str, data_dir: str | None) -> str:
    """Where a recipe read `relative` from, as its metadata records it.

    `shared/data/<relative>` for the project's shared data folder (found by
    the default search or named explicitly), else the full path, so a rerun
    on other data does not claim the shared data.
    """
    from keras_latent import datasets

    root = Path(data_dir).expanduser() if data_dir else datasets.default_data_dir()
    if root is None:
        return relative
    root = root.resolve()
    if root.parts[-2:] == ("shared", "data"):
        return f"shared/data/{relative}"
    return str(root / relative)


def transform_options(method: str, optimize_steps: int) -> dict:
    """`LatentConstraints.transform`'s options for `method`.

    Only `"optimize"` takes a step count; the actor rejects options.
    """
    return {"steps": optimize_steps} if method == "optimize" else {}


def confident_class_shares(probabilities, threshold: float = 0.9) -> dict:
    """The sanity figure for class-conditional data (until issue 3's toolkit).

    For each class: the share of all samples the judge assigns to it, and the
    share of samples it assigns to it with confidence above `threshold`.
    """
    probabilities = np.asarray(probabilities)
    predicted = probabilities.argmax(axis=-1)
    confident = probabilities.max(axis=-1) > threshold
    count = len(predicted)
    per_class = {}
    for k in range(probabilities.shape[-1]):
        is_k = predicted == k
        per_class[str(k)] = {
            "predicted_share": round(float(is_k.sum() / count), 4),
            "confident_share": round(float((is_k & confident).sum() / count), 4),
        }
    return {
        "confident_share": round(float(confident.mean()), 4),
        "per_class": per_class,
    }


def shares_table(generated: dict, real: dict) -> str:
    """Markdown table of `confident_class_shares` for samples next to real data."""
    lines = [
        "| class | samples: share labelled | samples: share labelled, p > 0.9 "
        "| real test: share labelled | real test: share labelled, p > 0.9 |",
        "|---|---|---|---|---|",
    ]
    for k in generated["per_class"]:
        g, r = generated["per_class"][k], real["per_class"][k]
        lines.append(
            f"| {k} | {g['predicted_share']:.3f} | {g['confident_share']:.3f} "
            f"| {r['predicted_share']:.3f} | {r['confident_share']:.3f} |"
        )
    lines.append(
        f"| all | 1.000 | {generated['confident_share']:.3f} | 1.000 "
        f"| {real['confident_share']:.3f} |"
    )
    return "\n".join(lines)


def rounded(value):
    """`value` with every float, however deeply nested in dicts, to 4 places."""
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    if isinstance(value, float):
        return round(value, 4)
    return value


def write_card(preset_dir, title: str, body: str, metadata: dict) -> None:
    """Writes the preset's model card, `README.md`."""
    preset_dir = Path(preset_dir)
    lines = [f"# {title}", "", body.strip(), "", "## How it was trained", ""]
    lines += [
        "```",
        metadata["command"],
        "```",
        "",
        f"- data: {metadata['data']}",
        f"- steps: {metadata['steps']} (epochs: {metadata.get('epochs')}, "
        f"batch size: {metadata.get('batch_size')})",
        f"- wall time: {metadata['wall_time_s']} s on {metadata['hardware']}, "
        f"backend {metadata['backend']}",
        f"- trainable parameters: {metadata['parameter_count']:,}",
        *(
            [
                f"- the actor-critic fit was reused from an identical earlier "
                f"run ({metadata['reused_fit']['wall_time_s']} s of training); "
                "the wall time above covers this run only"
            ]
            if metadata.get("reused_fit")
            else []
        ),
        *([f"- note: {metadata['run_note']}"] if metadata.get("run_note") else []),
        "",
        "All numbers are in `metadata.json`, each with its protocol.",
    ]
    (preset_dir / "README.md").write_text("\n".join(lines) + "\n")


def finish_metadata(preset_dir, updates: dict) -> dict:
    """Merges `updates` into the preset's metadata.json and returns it."""
    path = Path(preset_dir) / "metadata.json"
    metadata = json.loads(path.read_text())
    metadata.update(updates)
    path.write_text(json.dumps(metadata, indent=2) + "\n")
    return metadata


def hardware() -> str:
    import os
    import platform

    return f"{os.cpu_count()}-core {platform.machine()} CPU"

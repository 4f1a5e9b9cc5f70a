"""Prints the README's preset table from each preset's metadata.json.

    python scripts/preset_table.py               # the presets
    python scripts/preset_table.py --evaluation  # their toolkit numbers

Numbers come only from the recipes' records, never typed by hand.
"""

from __future__ import annotations

import json
from pathlib import Path

ZOO = Path(__file__).resolve().parents[1] / "zoo"


# The GAN family's measures (recipes/generator_measures.py): how each reads
# in the table, or None to leave it to the card.
GAN_SUMMARIES = {
    "judge_confident_share": (
        "judge confident on {value:.1%} of samples (real test: {real_test:.1%})"
    ),
    "class_accuracy": "classified as asked {value:.1%} (real test: {real_test:.1%})",
    "diversity": "{value} of 10 classes at least as diverse as real",
    "fid": "FID on judge features {value}",
    "attribute_accuracy": (
        "judge attribute accuracy on samples {value:.3f} (real val {real_val:.3f})"
    ),
    "classes_covered": None,
    "kid": None,
    "inception_score": None,
    # The editing models' measures (recipes/editing_measures.py and
    # recipes/train_celeba_ifcvaegan.py).
    "swap_accuracy": "edits to another class read as it {value:.1%}",
    "identity": None,
    "identity_mse": "identity MSE of edits {value}",
    "reconstruction_mse": "reconstruction MSE {value}",
    "flip_rate": "edits flip the asked attribute on {value:.1%} of val faces",
    "seconds_per_edit": None,
}


def summary(metrics: dict) -> str:
    parts = []
    for name, metric in metrics.items():
        if name == "table1":
            parts += latent_constraints_summary(metric["value"])
        elif name == "new_attributes":
            continue
        elif name == "creswell_table_1":
            table = {
                k: "n/a" if v is None else f"{v:.3g}"
                for k, v in metric["value"].items()
            }
            parts.append(
                "Smiling Class0 {class0} / Class1 {class1} / MSE {mse}".format(**table)
            )
        elif name == "edits" and "actor" not in metric["value"]:
            continue  # per attribute: the card has them
        elif name == "edits":
            # The default method (the optimisation) first, where it was measured.
            for method in ("optimize", "actor"):
                if method in metric["value"]:
                    report = metric["value"][method]
                    parts.append(
                        f"{method} edits: judge agrees "
                        f"{report['mean_flip_success']:.1%}, pixel MSE to "
                        f"reconstruction {report['pixel_mse_to_reconstruction']}"
                    )
        elif name in GAN_SUMMARIES and "value" in metric:
            if GAN_SUMMARIES[name]:
                parts.append(GAN_SUMMARIES[name].format(**metric))
        elif "value" in metric:
            parts.append(f"{name.replace('_', ' ')} {metric['value']}")
        elif "samples" in metric:
            parts.append(
                f"judge confident on {metric['samples']['confident_share']:.1%} of "
                f"samples (real test: {metric['real_test']['confident_share']:.1%})"
            )
    return "; ".join(parts)


def latent_constraints_summary(table: dict) -> list[str]:
    """Judge accuracy on conditional samples per λ_dist, next to real images."""
    parts = []
    for key, value in table.items():
        if key == "real":
            continue
        parts.append(
            f"judge accuracy on conditional samples {value['actor']['accuracy']:.3f} "
            f"at {key.replace('lambda_dist', 'λ_dist')} (zMSE {value['zmse']:.1f})"
        )
    parts.append(f"on real images {table['real']['accuracy']:.3f}")
    return parts


def evaluation_rows() -> None:
    print("| preset | FID | KID | IS (real data) | diversity, generated / real |")
    print("|---|---:|---:|---:|---:|")
    for preset in sorted(p.parent for p in ZOO.glob("*/metadata.json")):
        report = json.loads((preset / "metadata.json").read_text()).get("evaluation")
        if not report:
            continue
        fid, kid, score = (report["results"][k] for k in ("fid", "kid", "is"))
        diversity = report["results"]["diversity"]
        print(
            f"| `{preset.name}` | {fid:.1f} | {kid['mean']:.2f} ± {kid['std']:.2f} "
            f"| {score['mean']:.2f} ({score['real_mean']:.2f}) "
            f"| {diversity['generated_mean']:.3f} / {diversity['real_mean']:.3f} |"
        )


def main() -> None:
    for preset in sorted(p.parent for p in ZOO.glob("*/metadata.json")):
        metadata = json.loads((preset / "metadata.json").read_text())
        wall = metadata["wall_time_s"]
        reused = metadata.get("reused_fit") or {}
        if reused.get("wall_time_s"):  # a fit reloaded from an earlier run
            wall += reused["wall_time_s"]
        print(
            f"| [`{preset.name}`](zoo/{preset.name}) | {metadata['class']} "
            f"| {metadata['data'].split(' from ')[0]}, {metadata['steps']:,} steps, "
            f"{wall / 60:.0f} min ({metadata['backend']}"
            # A run note qualifies the wall time (a resumed or reused run).
            f"{'; see its card' if metadata.get('run_note') else ''}) "
            f"| {summary(metadata['metrics'])} |"
        )


if __name__ == "__main__":
    import sys

    if "--evaluation" in sys.argv:
        evaluation_rows()
    else:
        main()

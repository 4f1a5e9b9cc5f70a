"""Prints the README's preset table from each preset's metadata.json.

    python scripts/preset_table.py               # the presets
    python scripts/preset_table.py --evaluation  # their toolkit numbers

Numbers come only from the recipes' records, never typed by hand.
"""

from __future__ import annotations

import json
from pathlib import Path

ZOO = Path(__file__).resolve().parents[1] / "zoo"


def summary(metrics: dict) -> str:
    parts = []
    for name, metric in metrics.items():
        if "value" in metric:
            parts.append(f"{name.replace('_', ' ')} {metric['value']}")
        elif "samples" in metric:
            parts.append(
                f"judge confident on {metric['samples']['confident_share']:.1%} of "
                f"samples (real test: {metric['real_test']['confident_share']:.1%})"
            )
    return "; ".join(parts)


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
        print(
            f"| [`{preset.name}`](zoo/{preset.name}) | {metadata['class']} "
            f"| {metadata['data'].split(' from ')[0]}, {metadata['steps']:,} steps, "
            f"{metadata['wall_time_s'] / 60:.0f} min ({metadata['backend']}) "
            f"| {summary(metadata['metrics'])} |"
        )


if __name__ == "__main__":
    import sys

    if "--evaluation" in sys.argv:
        evaluation_rows()
    else:
        main()

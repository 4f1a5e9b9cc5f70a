"""`format_table`: a report of `evaluate` as a markdown table."""

from __future__ import annotations


def _number(value) -> str:
    if value is None:
        return "n/a"
    return f"{value:.4g}"


def _plus_minus(value: dict) -> str:
    return f"{_number(value['mean'])} ± {_number(value['std'])}"


def format_table(report: dict) -> str:
    """Formats the results of `evaluate` as a markdown table.

    One row per number, with the protocol it was measured under; per-class
    diversity and per-attribute scores get a row each.

    Args:
        report: the dict returned by `evaluate`.

    Returns:
        The markdown table, a str (no trailing newline).

    Example:

    ```python
    report = keras_latent.evaluate(model, data="mnist:test", num_samples=2000)
    print(keras_latent.evaluation.format_table(report))
    ```
    """
    results = report["results"]
    descriptions = report.get("protocol", {}).get("metrics", {})
    rows = ["| metric | value | protocol |", "|---|---:|---|"]

    def row(name, value, protocol=""):
        rows.append(f"| {name} | {value} | {protocol} |")

    for name, value in results.items():
        protocol = descriptions.get(name, "")
        if name == "fid":
            row("FID", _number(value), protocol)
        elif name == "kid":
            row("KID", _plus_minus(value), protocol)
        elif name == "is":
            row("IS", _plus_minus(value), protocol)
            row(
                "IS (real)",
                f"{_number(value['real_mean'])} ± {_number(value['real_std'])}",
            )
        elif name == "diversity":
            row(
                "diversity (generated / real)",
                f"{_number(value['generated_mean'])} / {_number(value['real_mean'])}",
                protocol,
            )
            for label, fake in value["generated"].items():
                row(
                    f"diversity[{label}]",
                    f"{_number(fake)} / {_number(value['real'].get(label))}",
                )
        elif name == "attributes":
            for key in ("accuracy", "precision", "recall", "f1"):
                row(f"attributes {key}", _number(value[key]), protocol)
                protocol = ""
            for label, scores in value["per_attribute"].items():
                row(
                    f"attributes[{label}] acc / F1",
                    f"{_number(scores['accuracy'])} / {_number(scores['f1'])}",
                )
        else:
            row(name, str(value), protocol)
    return "\n".join(rows)

"""`format_table`: a report of `evaluate` as a markdown table."""

from __future__ import annotations


def _number(value) -> str:
    if value is None:
        return "n/a"
    return f"{value:.4g}"


def _plus_minus(value: dict) -> str:
    return f"{_number(value['mean'])} ± {_number(value['std'])}"


def _edit_rows(value: dict, protocol: str) -> list[tuple[str, str, str]]:
    """The rows of the edit protocol: means, time, then per attribute or class."""
    rows = [
        ("edits flip rate", _number(value["flip_rate"]), protocol),
        ("edits identity MSE", _number(value["identity_mse"]), ""),
        ("edits seconds per image", _number(value["seconds_per_edit"]), ""),
    ]
    per_class = "per_class" in value
    for label, scores in value.get("per_class", value.get("per_attribute", {})).items():
        rows.append(
            (
                f"edits[{label}] flip rate / identity MSE",
                f"{_number(scores['flip_rate'])} / {_number(scores['identity_mse'])}",
                "",
            )
        )
        if not per_class:
            rows.append(
                (
                    f"edits[{label}] Class0 / Class1 / MSE",
                    " / ".join(_number(scores[k]) for k in ("class0", "class1", "mse")),
                    "",
                )
            )
    return rows


def format_table(report: dict) -> str:
    """Formats the results of `evaluate` as a markdown table.

    One row per number, with the protocol it was measured under; per-class
    diversity and per-attribute scores get a row each, and so do the edit
    protocol's per-attribute (or per-class) flip rates and identity MSEs and
    Creswell's Class0 / Class1 / MSE.

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
        elif name == "edits":
            for edit_row in _edit_rows(value, protocol):
                row(*edit_row)
        else:
            row(name, str(value), protocol)
    return "\n".join(rows)

"""What the recipes' table drivers share: rows trained once, one table written.

`gan_equal_budget.py`, `creswell_table.py` and `zheng_sun_table.py` each
train their rows by running a training recipe as a subprocess into
`<runs_dir>/<row>` (a row whose `metadata.json` is there is not trained
again; an interrupted one resumes from `<runs_dir>/<row>_backup`), then copy
each row's figure and write `table.md` and `table.json`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from absl import app

from keras_latent.utils.files import atomic_write_text

RECIPES = Path(__file__).resolve().parent


def check_rows(asked: Sequence[str] | None, rows: dict) -> list:
    """`asked` (all of `rows` if None), or a usage error naming the valid rows."""
    names = list(asked or rows)
    unknown = sorted(set(names) - set(rows))
    if unknown:
        raise app.UsageError(f"Unknown rows {unknown}. Valid rows: {list(rows)}")
    return names


def run_row(
    runs_dir: str, name: str, script: str, flags: Sequence[str], data_dir=None
) -> dict:
    """Trains (or resumes) row `name` with `recipes/<script>.py`; its metadata.

    Args:
        runs_dir: the folder of every row's preset and backup.
        name: the row; its preset is `<runs_dir>/<name>`.
        script: the training recipe, without `.py`.
        flags: the recipe's flags for this row, but for `--output`,
            `--backup_dir` and `--data_dir`.
        data_dir: `--data_dir` for the recipe, or None for its default.
    """
    preset = Path(runs_dir) / name
    metadata_file = preset / "metadata.json"
    if not metadata_file.is_file():
        command = [
            sys.executable,
            str(RECIPES / f"{script}.py"),
            *flags,
            f"--output={preset}",
            f"--backup_dir={Path(runs_dir) / (name + '_backup')}",
            *([f"--data_dir={data_dir}"] if data_dir else []),
        ]
        print(" ".join(command), flush=True)
        subprocess.run(command, check=True)
    return json.loads(metadata_file.read_text())


def write_table(
    output: str,
    runs_dir: str,
    figure: str,
    summary: dict,
    table: Callable[[str], str],
) -> None:
    """Copies each row's `figure` as `<row>.png`, writes `table.json`/`table.md`.

    Args:
        output: the table folder.
        runs_dir: the folder of every row's preset.
        figure: the file name of the figure in each row's preset.
        summary: the JSON record; its `"rows"` name the rows.
        table: the markdown table, given the folder its links point into.
    """
    folder = Path(output)
    folder.mkdir(parents=True, exist_ok=True)
    for name in summary["rows"]:
        shutil.copyfile(Path(runs_dir) / name / figure, folder / f"{name}.png")
    atomic_write_text(folder / "table.json", json.dumps(summary, indent=2) + "\n")
    atomic_write_text(folder / "table.md", table("") + "\n")
    print("For the README:\n" + table(f"{output}/"))


def number(value, spec: str = ".3g") -> str:
    """A measure for a table cell; None (nothing to measure) as n/a."""
    return "n/a" if value is None else format(value, spec)


def command(script: str) -> str:
    """The command line that ran this driver, for its table's record."""
    return " ".join(["python", f"recipes/{script}.py", *sys.argv[1:]])

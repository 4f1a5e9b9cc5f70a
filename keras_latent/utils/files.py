"""Writing files so that a crash never leaves half of one behind."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Writes `text` to `path` whole or not at all.

    The text goes to a temporary file in the same folder, which then replaces
    `path` in one `os.replace` (atomic on POSIX and Windows within a
    filesystem): a reader, or a run killed mid-write, sees the old file or
    the new one, never a truncated mix.

    Args:
        path: the file to write; its folder must exist.
        text: the whole new content (UTF-8).

    Example:

    ```python
    atomic_write_text("run/metadata.json", json.dumps(record, indent=2) + "\\n")
    ```
    """
    path = Path(path)
    # Not `tempfile.mkstemp`: its files are private (0600), and the new file
    # should get the permissions any file written here gets.
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        with open(temporary, "x", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.remove(temporary)
        except OSError:
            pass
        raise


def hidden_sibling(path: str | os.PathLike, role: str) -> Path:
    """A fresh hidden name beside `path`, on the same filesystem.

    Args:
        path: the file or folder the new name sits beside.
        role: str. What the name is for (`"new"`, `"old"`), part of the name.

    Returns:
        `.<name>.<role>-<12 hex digits>` in `path`'s folder, as an absolute path.
    """
    path = Path(os.path.abspath(path))
    return path.with_name(f".{path.name}.{role}-{uuid.uuid4().hex[:12]}")


def replace_directory(new: str | os.PathLike, target: str | os.PathLike) -> None:
    """Puts the folder `new` in the place of `target`.

    A folder cannot be renamed over a non-empty one, so an existing `target`
    is renamed aside first, and deleted once `new` is in place; if that
    second rename fails, the old folder is put back.
    """
    target = Path(os.path.abspath(target))
    if not target.exists():
        os.rename(new, target)
        return
    # A process inside `target` would be left in the deleted old folder.
    cwd = os.getcwd()
    inside = Path(cwd) == target or Path(target) in Path(cwd).parents
    aside = hidden_sibling(target, "old")
    os.rename(target, aside)
    try:
        os.rename(new, target)
    except BaseException:
        os.rename(aside, target)
        raise
    if inside and os.path.isdir(cwd):
        os.chdir(cwd)
    shutil.rmtree(aside, ignore_errors=True)

"""Writing files so that a crash never leaves half of one behind."""

from __future__ import annotations

import os
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

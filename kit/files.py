"""How the kit writes its files: atomically, and never writable by group or others.

Readers (the dag-processor, the api-server's output-notebook view, `kit status`) see the old file
or the new one, never a part of it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def safe_mode(path: Path) -> int:
    """The mode for a file the kit writes at ``path``: the existing file's, else 0644, and never
    writable by group or others whatever the umask (Airflow runs the code of every DAG file)."""
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    return mode & ~0o022


def atomic_write_text(path: Path, text: str) -> None:
    """Write to a temporary file in the same folder, fsync, then rename over ``path`` (a symbolic
    link at ``path`` is replaced, not followed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # Not ``*.py``: the dag-processor only parses Python files, so it never reads the temporary one.
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, safe_mode(path))
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise

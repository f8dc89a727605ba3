"""The stack's lock: one `kit up` or `kit down` at a time per state folder.

Two notebooks may click "up" together; a component launcher (``kit.stack.component``) restarts a
crashed component only while nobody holds the lock, since a `kit down` is then stopping it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

LOCK_FILE = ".lock"  # in the state folder


@contextlib.contextmanager
def held(state_dir: Path) -> Iterator[None]:
    """Hold the lock of ``state_dir`` for the ``with`` block, waiting for it if taken."""
    Path(state_dir).mkdir(parents=True, exist_ok=True)
    with open(Path(state_dir) / LOCK_FILE, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def taken(state_dir: str | os.PathLike[str]) -> bool:
    """True while someone holds the lock of ``state_dir`` (asked without waiting)."""
    try:
        with open(os.path.join(state_dir, LOCK_FILE), "a") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(fh, fcntl.LOCK_UN)
    except OSError:
        return False
    return False

"""The artifacts folder on disk: where it is, paths resolved inside it, tries found there."""

from __future__ import annotations

import os
from pathlib import Path

from kit.airflow_plugin.locate import (
    TaskInstanceRef,
    is_within,
    notebook_name,
    run_folder,
    try_of,
)
from kit.runtime.paths import PROJECT_ENV


def artifacts_root() -> Path:
    """``<project>/artifacts``: ``$KIT_PROJECT_DIR`` (the embedded stack sets it), else
    ``$AIRFLOW_HOME`` (the Compose image mounts the project's artifacts/ there)."""
    project = os.environ.get(PROJECT_ENV) or os.environ.get("AIRFLOW_HOME") or os.getcwd()
    return Path(project) / "artifacts"


def notebook_path(root: Path, ref: TaskInstanceRef, try_number: int) -> Path:
    """Where try ``try_number`` of ``ref`` writes its output notebook (not resolved: the path
    that error pages name)."""
    return root / run_folder(ref) / notebook_name(ref, try_number)


def inside(root: Path, path: Path) -> Path | None:
    """``path`` resolved (``..`` and every symbolic link followed) if that is still under
    ``root``; None if it leaves it. Checked at each request, just before the file is used."""
    try:
        real_root = root.resolve()
        real = path.resolve()
    except (OSError, RuntimeError):  # a symlink loop, an unreadable component
        return None
    return real if is_within(real_root, real) else None


def tries_on_disk(root: Path, ref: TaskInstanceRef) -> list[int]:
    """The try numbers that have an output notebook inside ``root``, oldest first."""
    folder = inside(root, root / run_folder(ref))
    if folder is None:
        return []
    try:
        names = os.listdir(folder)
    except OSError:  # no such run folder yet, or unreadable: nothing to show
        return []
    found = {number for name in names if (number := try_of(ref, name)) is not None}
    # A name that is a symlink out of artifacts/ is not offered: it would not be served.
    return sorted(
        number for number in found if inside(root, folder / notebook_name(ref, number)) is not None
    )

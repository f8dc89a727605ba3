"""Can a user reach a path through its folders' mode bits, and which capabilities do we hold?

Pure logic over ``stat`` results and ``/proc/self/status`` text, so the rules are tested without
users, folders or a kernel of a given kind. ACLs are not read: the kit's folders have none, and a
folder that an ACL opens is only reported as closed (the error then says what to do).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Collection
from pathlib import Path

# linux/capability.h: "bypass file read permission checks and directory read and execute checks".
CAP_DAC_READ_SEARCH = 2

StatFn = Callable[[Path], os.stat_result]


def can_search(mode: int, owner: int, group: int, uid: int, gids: Collection[int]) -> bool:
    """May ``uid`` (in ``gids``) pass through a folder (the x bit)? Like the kernel, only one
    class counts: the owner's bits for the owner, else the group's for a member, else others'."""
    if uid == 0:
        return True  # root passes by CAP_DAC_OVERRIDE (the case of a service user never arises)
    if uid == owner:
        return bool(mode & stat.S_IXUSR)
    if group in gids:
        return bool(mode & stat.S_IXGRP)
    return bool(mode & stat.S_IXOTH)


def first_closed_folder(
    path: Path, uid: int, gids: Collection[int], stat_fn: StatFn = os.stat
) -> Path | None:
    """The first folder, from ``/`` down, that ``uid`` must pass through to reach ``path`` and may
    not; None when every one lets it through. ``path`` is absolute; it need not exist yet (folders
    that do not exist are not checked: whoever makes them sets their mode)."""
    if not path.is_absolute():
        raise ValueError(f"path must be absolute, not {str(path)!r}")
    for folder in reversed(path.parents):
        try:
            info = stat_fn(folder)
        except FileNotFoundError:
            return None
        if not can_search(info.st_mode, info.st_uid, info.st_gid, uid, gids):
            return folder
    return None


def capability_sets(status_text: str) -> dict[str, int]:
    """The capability sets of ``/proc/<pid>/status`` (CapInh, CapPrm, CapEff, CapBnd, CapAmb)."""
    sets = {}
    for line in status_text.splitlines():
        name, _, value = line.partition(":")
        if name.startswith("Cap"):
            sets[name] = int(value.strip(), 16)
    return sets


def can_pass_on(capability: int, status_text: str) -> bool:
    """Can this process give ``capability`` to a child as an ambient capability? Only when it is
    in both its permitted and its bounding set (a container's default set lacks many)."""
    sets = capability_sets(status_text)
    bit = 1 << capability
    return bool(sets.get("CapPrm", 0) & bit and sets.get("CapBnd", 0) & bit)


def own_status() -> str:
    """This process's /proc status (its capabilities)."""
    return Path("/proc/self/status").read_text()

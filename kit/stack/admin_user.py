"""The kit's admin user on the native stacks: made in FAB's tables by ``kit.stack.fab_admin`` in a
process of its own, only when it is not known to be there with the kit's password.

What is known is kept in a marker beside the database (mode 0600): a digest of the user name and
password last made, so a `kit up` with an existing state starts nothing more, and a changed
password in ``secrets.json`` (or a new database) makes the admin again.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

from kit.stack import health
from kit.stack.base import StackError
from kit.stack.secrets import write_private

ADMIN_MARKER_NAME = ".kit-admin"
ENTRY = [sys.executable, "-m", "kit.stack.fab_admin"]


def admin_digest(username: str, password: str) -> str:
    """What the marker keeps of a login: a digest, never the password (pure)."""
    return hashlib.sha256(f"kit-admin\0{username}\0{password}".encode()).hexdigest()


def admin_needed(marker: Path, username: str, password: str) -> bool:
    """True unless the marker says this very login was made."""
    try:
        return marker.read_text().strip() != admin_digest(username, password)
    except OSError:
        return True


def record_admin(marker: Path, username: str, password: str) -> None:
    """Note that the login was made (mode 0600)."""
    write_private(marker, admin_digest(username, password) + "\n")


def entry_command(username: str, *, migrate: bool) -> list[str]:
    """The command line of the entry (pure): the user name, never the password."""
    return [*ENTRY, *(["--migrate"] if migrate else []), username]


def run_admin_entry(
    admin: tuple[str, str], *, env: dict[str, str], cwd: Path, log: Path, migrate: bool
) -> None:
    """Run the entry with the password on its standard input; StackError with its log's tail."""
    username, password = admin
    with open(log, "ab") as fh:
        done = subprocess.run(
            entry_command(username, migrate=migrate),
            input=(password + "\n").encode(),
            env=env,
            cwd=cwd,
            stdout=fh,
            stderr=subprocess.STDOUT,
            timeout=600,
        )
    if done.returncode != 0:
        what = "`airflow db migrate` or making the admin user" if migrate else "making the admin"
        raise StackError(
            f"{what} failed (exit {done.returncode}).\n"
            f"--- last lines of {log} ---\n{health.tail(log)}"
        )

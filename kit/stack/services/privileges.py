"""Run a server as an unprivileged user when the kit runs as root (PostgreSQL refuses root)."""

from __future__ import annotations

import os
import pwd
import shutil
from pathlib import Path

# The system user the Debian postgresql package creates.
SERVICE_USER = "postgres"


def running_as_root() -> bool:
    return os.geteuid() == 0


def as_service_user(command: list[str]) -> list[str]:
    """``command``, run as SERVICE_USER when we are root, else unchanged (as the calling user).

    setpriv execs the command, so the pid the kit records is the server's own pid. The server gets
    one capability, CAP_DAC_READ_SEARCH (look up and read, never write): the state folder is root's
    and mode 0700 (secrets live there), and the server must reach its data folder inside it. What
    it writes (data, socket) is owned by SERVICE_USER.
    """
    if not running_as_root():
        return command
    setpriv = shutil.which("setpriv") or "/usr/bin/setpriv"
    return [
        setpriv,
        f"--reuid={SERVICE_USER}",
        f"--regid={SERVICE_USER}",
        "--init-groups",
        "--inh-caps=+dac_read_search",
        "--ambient-caps=+dac_read_search",
        "--",
        *command,
    ]


def hand_over(path: Path) -> None:
    """Make ``path`` (a folder or file the server writes) belong to the server's user."""
    if not running_as_root():
        return
    try:
        user = pwd.getpwnam(SERVICE_USER)
    except KeyError as exc:
        raise RuntimeError(
            f"running as root, the kit runs PostgreSQL as the system user {SERVICE_USER!r}, which "
            "does not exist: install the Debian package postgresql-15 "
            "(scripts/install-system-deps.sh)."
        ) from exc
    os.chown(path, user.pw_uid, user.pw_gid)

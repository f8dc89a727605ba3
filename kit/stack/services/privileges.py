"""Run a server as an unprivileged user when the kit runs as root (PostgreSQL refuses root)."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from pathlib import Path

# Debian's postgresql package makes this user; the kit uses it when it is there (clusters made
# before the server came from a wheel are owned by it), and else makes a system user of its own.
DEBIAN_USER = "postgres"
KIT_USER = "kit-postgres"


def running_as_root() -> bool:
    """True when this process runs as root."""
    return os.geteuid() == 0


def service_user() -> pwd.struct_passwd:
    """The system user PostgreSQL runs as under root: $KIT_POSTGRES_USER, else Debian's
    ``postgres``, else ``kit-postgres`` (made here, once: no login shell, no home)."""
    wanted = os.environ.get("KIT_POSTGRES_USER")
    for name in [wanted] if wanted else [DEBIAN_USER, KIT_USER]:
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    name = wanted or KIT_USER
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    done = subprocess.run(
        [useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0 and "already exists" not in done.stderr:
        raise RuntimeError(
            f"running as root, the kit runs PostgreSQL as the system user {name!r}, and could not "
            f"create it ({done.stderr.strip() or f'useradd exit {done.returncode}'}). Create it "
            "(useradd --system kit-postgres), or set KIT_POSTGRES_USER to an existing user."
        )
    return pwd.getpwnam(name)


def as_service_user(command: list[str], *, pass_through: bool = False) -> list[str]:
    """``command``, run as the service user when we are root, else unchanged (as the caller).

    setpriv execs the command, so the pid the kit records is the server's own pid. With
    ``pass_through`` the server gets one capability, CAP_DAC_READ_SEARCH (look up and read, never
    write), for when a folder above its data is closed to it: the state folder is root's and mode
    0700 (secrets live there), and the project may be in /root. What it writes (data, socket) is
    owned by the service user. The capability lets open and exec through, not access(2): the
    server's programs must be where the user can reach them (kit.stack.services.program_copy).
    """
    if not running_as_root():
        return command
    user = service_user()
    setpriv = shutil.which("setpriv") or "/usr/bin/setpriv"
    caps = (
        ["--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search"] if pass_through else []
    )
    return [
        setpriv,
        f"--reuid={user.pw_uid}",
        f"--regid={user.pw_gid}",
        "--clear-groups",
        *caps,
        "--",
        *command,
    ]


def service_ids() -> tuple[int, set[int]]:
    """The uid and groups the server runs with as root (setpriv clears the other groups)."""
    user = service_user()
    return user.pw_uid, {user.pw_gid}


def hand_over(path: Path) -> None:
    """Make ``path`` (a folder or file the server writes) belong to the server's user."""
    if not running_as_root():
        return
    user = service_user()
    os.chown(path, user.pw_uid, user.pw_gid)

"""Beyond loopback only with logins: a stack is published on another address (``KIT_BIND_ADDRESS``
for Compose, ``KIT_BIND_HOST`` natively) only when every service published there asks for a login.

Decided from the configuration, before anything starts (pure): Airflow asks unless its auth
manager lets everyone in; MLflow asks only when it runs its basic-auth app (``mlflow server
--app-name basic-auth``); the mail catcher of the ``email`` profile never asks.
"""

from __future__ import annotations

import configparser
import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from kit.stack.base import StackError
from kit.stack.mlflow_auth import AUTH_APP


@dataclass(frozen=True)
class Published:
    """A service published on the bind address, and why it answers without a login (None: it
    asks for one)."""

    name: str
    anonymous: str | None


def is_loopback(address: str) -> bool:
    """Whether ``address`` reaches only this machine (127.0.0.0/8, ::1, ``localhost``)."""
    if address.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(address.strip().strip("[]")).is_loopback
    except ValueError:
        return False  # a host name or anything else: it may reach the network


def mlflow_anonymous(command: Sequence[str] | str | None) -> str | None:
    """Why MLflow answers without a login when run as ``command`` (None when it asks for one)."""
    args = command.split() if isinstance(command, str) else list(command or [])
    app = None
    for i, arg in enumerate(args):
        if arg == "--app-name" and i + 1 < len(args):
            app = args[i + 1]
        elif arg.startswith("--app-name="):
            app = arg.split("=", 1)[1]
    if app == AUTH_APP:
        return None
    return (
        "MLflow runs without its login app (`mlflow server --app-name basic-auth`): anyone who "
        "reaches it may read, change or delete experiments and models"
    )


def airflow_anonymous(config_file: Path, env: Mapping[str, str]) -> str | None:
    """Why Airflow's api-server answers without a login under ``config_file`` and ``env``'s
    AIRFLOW__* overrides (None when it asks for one)."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(config_file)

    def get(section: str, option: str) -> str:
        key = f"AIRFLOW__{section.upper()}__{option.upper()}"
        if key in env:
            return env[key]
        return parser.get(section, option, fallback="")

    manager = get("core", "auth_manager")
    if "SimpleAuthManager" in manager and get("core", "simple_auth_manager_all_admins").lower() in (
        "true",
        "1",
    ):
        return "Airflow's simple_auth_manager_all_admins = True lets anyone in as admin"
    if "FabAuthManager" in manager and get("fab", "auth_role_public"):
        return "Airflow's [fab] auth_role_public lets anyone in with that role"
    return None


def refuse_anonymous_beyond_loopback(
    address: str, variable: str, published: Sequence[Published]
) -> None:
    """A StackError naming each service that would answer without a login on ``address``, when
    it is not loopback; nothing otherwise."""
    if is_loopback(address):
        return
    open_ones = [p for p in published if p.anonymous is not None]
    if not open_ones:
        return
    lines = "\n".join(f"  - {p.name}: {p.anonymous}" for p in open_ones)
    raise StackError(
        f"{variable}={address} would publish services that answer without a login:\n{lines}\n"
        f"Nothing was started. Keep the stack on this machine (unset {variable}, or set it to "
        "127.0.0.1), or give each of these services a login first (docs/security.md, "
        '"Beyond loopback")'
    )

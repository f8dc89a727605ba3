"""What a project's Compose file and ``.env`` say: services, profiles, settings, ports.

Read only, nothing started: ``kit.stack.compose.ComposeStack`` runs what it describes.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from kit.stack.base import StackError
from kit.stack.compose_env import ENV_FILE_NAME, SECRET_KEYS, read_env_file
from kit.stack.exposure import (
    Published,
    airflow_anonymous,
    mlflow_anonymous,
    refuse_anonymous_beyond_loopback,
)

COMPOSE_FILE = "docker-compose.airflow.yml"
# Beside it, included when present: local changes (other images, an extra service, more memory)
# without editing the main file, as `docker compose` does with compose.override.yaml.
OVERRIDE_FILE = "docker-compose.airflow.override.yml"
AIRFLOW_CONFIG = Path("config") / "airflow.cfg"

# Compose profiles can only add services; what a profile changes in the always-on Airflow services
# is a KIT_* variable of docker-compose.airflow.yml, set here when the profile is asked for.
PROFILE_SWITCHES: dict[str, dict[str, str]] = {
    "celery": {"KIT_EXECUTOR": "CeleryExecutor"},
    "remote-logs": {"KIT_REMOTE_LOGGING": "True"},
    "email": {},
}

# The services whose HTTP endpoint `up` waits for, and the setting that moves each port.
AIRFLOW_SERVICE, MLFLOW_SERVICE = "airflow-apiserver", "mlflow"
DAG_PROCESSOR_SERVICE = "airflow-dag-processor"
PORT_SETTINGS = {
    AIRFLOW_SERVICE: ("KIT_AIRFLOW_PORT", 8080),
    MLFLOW_SERVICE: ("KIT_MLFLOW_PORT", 5000),
}

# The celery profile's workers: one container each (`up --scale`), as many as the native stack's.
WORKER_SERVICE, WORKERS_SETTING, DEFAULT_WORKERS = "airflow-worker", "KIT_CELERY_WORKERS", 2


class ComposeProject:
    """The Compose file ``compose_file`` of ``project_dir`` (and its override), with the profiles
    and the Airflow and MLflow ports asked for (None: as the environment or ``.env`` say)."""

    def __init__(
        self,
        project_dir: Path,
        compose_file: str | Path = COMPOSE_FILE,
        profiles: Sequence[str] | None = None,
        *,
        airflow_port: int | None = None,
        mlflow_port: int | None = None,
    ) -> None:
        self.project_dir = Path(project_dir).resolve()
        self.compose_path = (self.project_dir / compose_file).resolve()
        # Explicit ports win over KIT_*_PORT of the environment and .env.
        self._ports = {
            name: str(port)
            for name, port in (("KIT_AIRFLOW_PORT", airflow_port), ("KIT_MLFLOW_PORT", mlflow_port))
            if port is not None
        }
        if profiles is None:
            # Compose's own variable, from the environment or .env: the kit and a manual
            # `docker compose` then agree on the profiles.
            listed = self.setting("COMPOSE_PROFILES", "")
            profiles = [p.strip() for p in listed.split(",") if p.strip()]
        unknown = sorted(set(profiles) - set(PROFILE_SWITCHES))
        if unknown:
            raise StackError(
                f"unknown Compose profile(s) {', '.join(unknown)}; "
                f"known: {', '.join(PROFILE_SWITCHES)}"
            )
        self.profiles = tuple(dict.fromkeys(profiles))

    def compose_files(self) -> list[Path]:
        """The Compose file, and its override beside it when there is one."""
        override = self.compose_path.parent / OVERRIDE_FILE
        return [self.compose_path, *([override] if override.is_file() else [])]

    def celery_workers(self) -> int:
        """How many worker containers the celery profile starts (``KIT_CELERY_WORKERS``)."""
        value = self.setting(WORKERS_SETTING, str(DEFAULT_WORKERS))
        if not value.isdigit() or int(value) < 1:
            raise StackError(
                f"{WORKERS_SETTING}={value!r}: give the number of Celery worker containers, "
                f"a whole number from 1 (default {DEFAULT_WORKERS})"
            )
        return int(value)

    # ------------------------------------------------------------------ the compose file
    def _services(self) -> dict[str, dict[str, Any]]:
        """The services of the Compose file and its override (an override's keys win)."""
        services: dict[str, dict[str, Any]] = {}
        for path in self.compose_files():
            found = (yaml.safe_load(path.read_text()) or {}).get("services") or {}
            for name, service in found.items():
                services[name] = {**services.get(name, {}), **(service or {})}
        return services

    def all_profiles(self) -> list[str]:
        """Every profile a service of the file names (what `down` must cover)."""
        found = {p for svc in self._services().values() for p in svc.get("profiles") or ()}
        return sorted(found)

    def _in_profiles(self, service: dict[str, Any]) -> bool:
        wanted = service.get("profiles")
        return not wanted or bool(set(wanted) & set(self.profiles))

    def long_running_services(self) -> list[str]:
        """Services that should stay up under this stack's profiles (one-shots left out)."""
        return [
            name
            for name, svc in self._services().items()
            if self._in_profiles(svc)
            and svc.get("restart") in ("always", "unless-stopped", "on-failure")
        ]

    def published(self, config_file: Path) -> list[Published]:
        """The services of this stack's profiles that publish a port, and why each answers
        without a login (kit.stack.exposure), from the Compose file(s) and ``config_file``."""
        found = []
        for name, svc in self._services().items():
            if not self._in_profiles(svc) or not svc.get("ports"):
                continue
            if name == MLFLOW_SERVICE:
                why = mlflow_anonymous(svc.get("command"))
            elif name == AIRFLOW_SERVICE:
                env = svc.get("environment") or {}
                fixed = {k: str(v) for k, v in env.items() if "${" not in str(v)}
                why = airflow_anonymous(config_file, fixed)
            elif name == "mailpit":
                why = "the mail catcher's UI and API show every mail Airflow sent, to anyone"
            else:
                why = "not known to ask for a login (a service of an override file?)"
            found.append(Published(name, why))
        return found

    def check_exposure(self, config_file: Path) -> None:
        """Refuse a KIT_BIND_ADDRESS beyond loopback while a published service answers without
        a login (StackError naming each)."""
        address = self.setting("KIT_BIND_ADDRESS", "127.0.0.1") or "127.0.0.1"
        refuse_anonymous_beyond_loopback(address, "KIT_BIND_ADDRESS", self.published(config_file))

    # ------------------------------------------------------------------ settings
    def setting(self, name: str, default: str) -> str:
        """A variable as Compose sees it: the environment, then .env, then the file's default."""
        if name in self._ports:
            return self._ports[name]
        if name in os.environ and name not in SECRET_KEYS:
            return os.environ[name]
        return read_env_file(self.project_dir / ENV_FILE_NAME).get(name, default)

    def _host(self) -> str:
        bind = self.setting("KIT_BIND_ADDRESS", "127.0.0.1")
        return "127.0.0.1" if bind in ("", "0.0.0.0", "::") else bind

    def _port(self, service: str) -> int:
        name, default = PORT_SETTINGS[service]
        return int(self.setting(name, str(default)))

    def _urls(self) -> tuple[str, str]:
        host = self._host()
        return (
            f"http://{host}:{self._port(AIRFLOW_SERVICE)}",
            f"http://{host}:{self._port(MLFLOW_SERVICE)}",
        )

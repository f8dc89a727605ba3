"""The host side of the Compose stack: its ``.env`` (secrets, uid) and bind-mounted folders."""

from __future__ import annotations

import json
import os
from pathlib import Path

from kit.stack.mlflow_auth import ADMIN_USER as MLFLOW_ADMIN
from kit.stack.mlflow_auth import PASSWORDS_FILE_NAME as MLFLOW_PASSWORDS_FILE_NAME
from kit.stack.secrets import load_or_create, write_private

ENV_FILE_NAME = ".env"
SECRETS_FILE_NAME = "secrets.json"
# The admin login for the kit's client ({"user": "password"}); airflow-init makes the user in FAB's
# tables with the same password (python -m kit.stack.fab_admin).
PASSWORDS_FILE_NAME = "compose_passwords.json"
ADMIN_USER = "admin"  # the user airflow-init makes (docker-compose.airflow.yml)

# Keys holding a secret: .env is their only source for Compose (see ComposeStack.environment).
SECRET_KEYS = (
    "POSTGRES_PASSWORD",
    "KIT_AIRFLOW_DB_PASSWORD",
    "KIT_MLFLOW_DB_PASSWORD",
    "KIT_FERNET_KEY",
    "KIT_JWT_SECRET",
    "KIT_API_SECRET_KEY",
    "KIT_ADMIN_PASSWORD",
    "KIT_MLFLOW_ADMIN_PASSWORD",
    "KIT_MLFLOW_SERVICE_PASSWORD",
    "KIT_MLFLOW_SECRET_KEY",
)

# Host folders docker-compose.airflow.yml bind-mounts under /opt/airflow/ (a test keeps them
# in step).
# Created here, as the user, because Docker would create a missing one owned by root.
BIND_MOUNTED_DIRS = ("dags", "logs", "config", "plugins", "notebooks", "pipelines", "artifacts")

_HEADER = """\
# Settings and secrets of the Compose stack (docker-compose.airflow.yml), written by the kit.
# Keep it private (mode 0600) and out of git. The kit never overwrites it: edit freely; it only
# adds keys that are missing. Changing POSTGRES_PASSWORD after the first start needs a fresh
# database volume (docker compose -f docker-compose.airflow.yml down -v). docs/compose.md
"""


def env_values(state_dir: Path) -> dict[str, str]:
    """What the kit puts in ``.env``: the installation's secrets, the host uid, the project dir."""
    secrets = load_or_create(state_dir / SECRETS_FILE_NAME)
    return {
        # Containers then write logs and artifacts as you, not as uid 50000.
        "AIRFLOW_UID": str(os.getuid()),
        # Relative to the folder of the Compose file, so the project folder can move.
        "AIRFLOW_PROJ_DIR": ".",
        # The superuser's: only the postgres service and airflow-init get it (docs/security.md).
        "POSTGRES_PASSWORD": secrets.postgres_password,
        "KIT_AIRFLOW_DB_PASSWORD": secrets.airflow_db_password,
        "KIT_MLFLOW_DB_PASSWORD": secrets.mlflow_db_password,
        "KIT_FERNET_KEY": secrets.fernet_key,
        "KIT_JWT_SECRET": secrets.jwt_secret,
        "KIT_API_SECRET_KEY": secrets.api_secret_key,
        "KIT_ADMIN_PASSWORD": secrets.admin_password,
        # MLflow's logins (kit.stack.mlflow_auth): read by the mlflow service, and the service
        # account's password by the services that run tasks.
        "KIT_MLFLOW_ADMIN_PASSWORD": secrets.mlflow_admin_password,
        "KIT_MLFLOW_SERVICE_PASSWORD": secrets.mlflow_service_password,
        "KIT_MLFLOW_SECRET_KEY": secrets.mlflow_secret_key,
    }


def read_env_file(path: Path) -> dict[str, str]:
    """Parse ``KEY=VALUE`` lines as Compose does for the cases the kit writes (comments, quotes)."""
    values: dict[str, str] = {}
    if not path.exists():
        return values
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        key = key.removeprefix("export ").strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key] = value
    return values


def _lines(values: dict[str, str]) -> str:
    return "".join(f"{key}={value}\n" for key, value in values.items())


def ensure_env(project_dir: Path, state_dir: Path) -> Path:
    """Create ``<project_dir>/.env`` once (mode 0600); later, only add keys it lacks.

    Existing values are kept as they are: the user may have edited them, and the database volume
    was initialised with the POSTGRES_PASSWORD that is there.
    """
    path = project_dir / ENV_FILE_NAME
    wanted = env_values(state_dir)
    if not path.exists():
        write_private(path, _HEADER + _lines(wanted))
        return path
    text = path.read_text()
    present = read_env_file(path)
    missing = {key: value for key, value in wanted.items() if key not in present}
    if missing:
        if text and not text.endswith("\n"):
            text += "\n"
        text += "# added by the kit\n" + _lines(missing)
        write_private(path, text)
    else:
        # It holds secrets: whoever created it, only its owner may read it.
        path.chmod(0o600)
    return path


def ensure_password_file(project_dir: Path, state_dir: Path) -> Path:
    """Write ``<state_dir>/compose_passwords.json`` (0600) from the admin password in ``.env``.

    ``.env`` is what airflow-init hands to Airflow, so the copy follows the user's edits there.
    """
    password = read_env_file(project_dir / ENV_FILE_NAME)["KIT_ADMIN_PASSWORD"]
    path = state_dir / PASSWORDS_FILE_NAME
    write_private(path, json.dumps({ADMIN_USER: password}))
    return path


def ensure_mlflow_password_file(project_dir: Path, state_dir: Path) -> Path:
    """Write ``<state_dir>/mlflow_passwords.json`` (0600) from MLflow's admin password in
    ``.env``, which the mlflow service makes its admin with at every start."""
    password = read_env_file(project_dir / ENV_FILE_NAME)["KIT_MLFLOW_ADMIN_PASSWORD"]
    path = state_dir / MLFLOW_PASSWORDS_FILE_NAME
    write_private(path, json.dumps({MLFLOW_ADMIN: password}))
    return path


def ensure_host_dirs(project_dir: Path) -> list[Path]:
    """Create the bind-mounted folders that are missing; return the ones created."""
    created = []
    for name in BIND_MOUNTED_DIRS:
        folder = project_dir / name
        if not folder.exists():
            folder.mkdir(parents=True)
            created.append(folder)
    return created

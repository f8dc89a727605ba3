"""The native stack's MLflow login files, written at every `kit up` (mode 0600): the basic-auth
config MLflow reads (kit.stack.mlflow_auth) and the admin's password for the kit's own tools."""

from __future__ import annotations

import json
from pathlib import Path

from kit.stack.airflow_env import mlflow_auth, mlflow_auth_file
from kit.stack.mlflow_auth import ADMIN_USER, config_text
from kit.stack.secrets import StackSecrets, write_private
from kit.stack.settings import StackSettings


def _write_if_changed(path: Path, text: str) -> None:
    if not path.exists() or path.read_text() != text:
        write_private(path, text)


def write_mlflow_auth(settings: StackSettings, secrets: StackSecrets) -> None:
    """Write MLflow's auth config and the admin's password file from the stack's secrets."""
    _write_if_changed(mlflow_auth_file(settings), config_text(mlflow_auth(settings, secrets)))
    login = json.dumps({ADMIN_USER: secrets.mlflow_admin_password}) + "\n"
    _write_if_changed(settings.mlflow_passwords_file, login)

"""The .env of the Compose stack: created once, private, never overwritten, completed."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from kit.stack.compose_env import (
    SECRET_KEYS,
    ensure_env,
    ensure_mlflow_password_file,
    ensure_password_file,
    env_values,
    read_env_file,
)
from kit.stack.secrets import load_or_create


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_created_private_from_the_secrets_file(tmp_path: Path) -> None:
    path = ensure_env(tmp_path, tmp_path / "state")
    assert path == tmp_path / ".env"
    assert mode(path) == 0o600
    values = read_env_file(path)
    secrets = load_or_create(tmp_path / "state" / "secrets.json")
    assert values["KIT_FERNET_KEY"] == secrets.fernet_key
    assert values["KIT_JWT_SECRET"] == secrets.jwt_secret
    assert values["KIT_API_SECRET_KEY"] == secrets.api_secret_key
    assert values["KIT_ADMIN_PASSWORD"] == secrets.admin_password
    assert values["POSTGRES_PASSWORD"] == secrets.postgres_password
    assert values["KIT_MLFLOW_ADMIN_PASSWORD"] == secrets.mlflow_admin_password
    assert values["KIT_MLFLOW_SERVICE_PASSWORD"] == secrets.mlflow_service_password
    assert values["KIT_MLFLOW_SECRET_KEY"] == secrets.mlflow_secret_key
    assert values["AIRFLOW_UID"] == str(os.getuid())
    assert values["AIRFLOW_PROJ_DIR"] == "."
    assert all(values[k] for k in SECRET_KEYS)
    assert mode(tmp_path / "state" / "secrets.json") == 0o600


def test_never_overwrites_an_existing_env(tmp_path: Path) -> None:
    path = ensure_env(tmp_path, tmp_path / "state")
    edited = path.read_text().replace("AIRFLOW_PROJ_DIR=.", "AIRFLOW_PROJ_DIR=/srv/mine")
    edited += "KIT_BIND_ADDRESS=0.0.0.0  \n# my note\n"
    path.write_text(edited)
    # Even with other secrets in the state folder, the .env the database was created with wins.
    ensure_env(tmp_path, tmp_path / "other-state")
    assert path.read_text() == edited
    assert read_env_file(path)["AIRFLOW_PROJ_DIR"] == "/srv/mine"


def test_adds_missing_keys_only(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text('POSTGRES_PASSWORD="kept-as-is"\nMY_OWN=1')  # no final newline
    path.chmod(0o644)
    ensure_env(tmp_path, tmp_path / "state")
    values = read_env_file(path)
    assert values["POSTGRES_PASSWORD"] == "kept-as-is"
    assert values["MY_OWN"] == "1"
    assert set(env_values(tmp_path / "state")) <= set(values)
    assert path.read_text().startswith('POSTGRES_PASSWORD="kept-as-is"\nMY_OWN=1\n')
    assert path.read_text().count("POSTGRES_PASSWORD=") == 1
    assert mode(path) == 0o600


def test_tightens_the_mode_of_a_complete_env(tmp_path: Path) -> None:
    path = ensure_env(tmp_path, tmp_path / "state")
    path.chmod(0o644)
    ensure_env(tmp_path, tmp_path / "state")
    assert mode(path) == 0o600


def test_password_file_follows_env(tmp_path: Path) -> None:
    env = ensure_env(tmp_path, tmp_path / "state")
    env.write_text(env.read_text().replace("KIT_ADMIN_PASSWORD=", "KIT_ADMIN_PASSWORD=edited-"))
    path = ensure_password_file(tmp_path, tmp_path / "state")
    assert mode(path) == 0o600
    admin = json.loads(path.read_text())["admin"]
    assert admin.startswith("edited-") and admin == read_env_file(env)["KIT_ADMIN_PASSWORD"]


def test_mlflow_password_file_follows_env(tmp_path: Path) -> None:
    env = ensure_env(tmp_path, tmp_path / "state")
    text = env.read_text().replace(
        "KIT_MLFLOW_ADMIN_PASSWORD=", "KIT_MLFLOW_ADMIN_PASSWORD=edited-"
    )
    env.write_text(text)
    path = ensure_mlflow_password_file(tmp_path, tmp_path / "state")
    assert mode(path) == 0o600
    admin = json.loads(path.read_text())["admin"]
    assert admin.startswith("edited-") and admin == read_env_file(env)["KIT_MLFLOW_ADMIN_PASSWORD"]

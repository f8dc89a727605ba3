"""Per-installation secrets: generated once, kept mode 0600, never hard-coded or printed."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

from cryptography.fernet import Fernet


@dataclass(frozen=True)
class StackSecrets:
    """The secrets of one stack, generated once and kept in its state folder."""

    fernet_key: str  # encrypts connections and variables in the metadata database
    jwt_secret: str  # signs API and task-execution tokens; the same in every Airflow process
    api_secret_key: str  # [api] secret_key: signs file tokens and sessions
    admin_password: str  # the password of the `admin` user
    # PostgreSQL's superuser `postgres`: only the kit's set-up (`kit up`, Compose's airflow-init)
    # uses it, never a long-running service. (A state from before #24 used it for every role;
    # `kit up` then gives the roles the passwords below.)
    postgres_password: str
    redis_password: str  # the Celery broker's requirepass (Celery stacks only)
    # MLflow's basic-auth app (kit.stack.mlflow_auth): its admin, the service account only task
    # processes get, and the key that signs its Flask sessions (CSRF of its sign-up form).
    # token_urlsafe(18) is 24 characters: MLflow refuses passwords under 12.
    mlflow_admin_password: str
    mlflow_service_password: str
    mlflow_secret_key: str
    airflow_db_password: str  # the `airflow` role: owns only the `airflow` database
    mlflow_db_password: str  # the `mlflow` role: owns only the `mlflow` database

    @classmethod
    def generate(cls) -> StackSecrets:
        """New random secrets."""
        return cls(
            fernet_key=Fernet.generate_key().decode(),
            jwt_secret=secrets.token_urlsafe(48),
            api_secret_key=secrets.token_urlsafe(48),
            admin_password=secrets.token_urlsafe(18),
            postgres_password=secrets.token_urlsafe(18),
            redis_password=secrets.token_urlsafe(18),
            mlflow_admin_password=secrets.token_urlsafe(18),
            mlflow_service_password=secrets.token_urlsafe(18),
            mlflow_secret_key=secrets.token_urlsafe(48),
            airflow_db_password=secrets.token_urlsafe(18),
            mlflow_db_password=secrets.token_urlsafe(18),
        )


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner may read, created with that mode (never briefly 0644)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)
    os.chmod(path, 0o600)


def load_or_create(path: Path) -> StackSecrets:
    """Read the secrets kept at ``path``; generate and keep them on first use."""
    if path.exists():
        data = json.loads(path.read_text())
        fresh = asdict(StackSecrets.generate())
        # A secrets file written by an older kit may lack a newer field: add it, keep the rest.
        missing = {k: v for k, v in fresh.items() if k not in data}
        if missing:
            data.update(missing)
            write_private(path, json.dumps(data, indent=2))
        return StackSecrets(**{k: data[k] for k in fresh})
    made = StackSecrets.generate()
    write_private(path, json.dumps(asdict(made), indent=2))
    return made

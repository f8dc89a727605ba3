"""The embedded stack's environment: what it layers on config/airflow.cfg, and nothing more."""

from __future__ import annotations

import configparser
from pathlib import Path

from kit.stack.airflow_env import airflow_environment
from kit.stack.secrets import StackSecrets
from kit.stack.settings import StackSettings
from tests.conftest import REPO

# Settings of airflow.cfg that a native stack must override, each for a stated reason.
PER_STACK = {
    ("core", "dags_folder"): "the project's dags/ instead of the container path",
    ("logging", "base_log_folder"): "the state folder instead of the container path",
    ("api", "host"): "loopback instead of a container's 0.0.0.0",
    ("api", "port"): "the port chosen for this stack",
    ("scheduler", "scheduler_health_check_server_port"): "the port chosen for this stack",
    ("core", "parallelism"): "only when asked for: fewer pre-forked workers (the tests)",
    ("core", "executor"): "the LocalExecutor forking its workers on demand (same parallelism)",
}


def _settings(tmp_path: Path) -> StackSettings:
    return StackSettings.from_env(
        project_dir=REPO,
        state_dir=tmp_path / "state",
        dags_dir=tmp_path / "dags",
        airflow_port=18080,
    )


def test_overrides_touch_only_per_stack_settings(tmp_path: Path) -> None:
    cfg = configparser.ConfigParser()
    cfg.read(REPO / "config" / "airflow.cfg")
    env = airflow_environment(_settings(tmp_path), StackSecrets.generate())
    assert "AIRFLOW__CORE__PARALLELISM" not in env  # the seed's 32 unless asked
    assert cfg["core"]["executor"] == "LocalExecutor"
    assert env["AIRFLOW__CORE__EXECUTOR"] == "kit.stack.local_executor.OnDemandLocalExecutor"
    for name in env:
        if not name.startswith("AIRFLOW__"):
            continue
        section, key = name.removeprefix("AIRFLOW__").lower().split("__", 1)
        if cfg.has_option(section, key):
            assert (section, key) in PER_STACK, f"{name} overrides airflow.cfg without a reason"


def test_loopback_ports_paths_and_secrets(tmp_path: Path) -> None:
    secrets = StackSecrets.generate()
    env = airflow_environment(_settings(tmp_path), secrets)
    assert env["AIRFLOW__API__HOST"] == "127.0.0.1"
    assert env["AIRFLOW__API__PORT"] == "18080"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://127.0.0.1:18080/execution/"
    assert env["AIRFLOW_CONFIG"] == str(REPO / "config" / "airflow.cfg")
    # The default database: the stack's own PostgreSQL on loopback, the password in the URL only.
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://airflow:")
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].endswith("@127.0.0.1:5433/airflow")
    assert env["AIRFLOW__CORE__FERNET_KEY"] == secrets.fernet_key
    assert env["AIRFLOW__API_AUTH__JWT_SECRET"] == secrets.jwt_secret
    assert env["AIRFLOW__API__SECRET_KEY"] == secrets.api_secret_key
    # FAB keeps the admin's password hashed in its tables: no Airflow process is given it.
    assert secrets.admin_password not in env.values()
    assert not any("SIMPLE_AUTH_MANAGER" in name for name in env)


def test_secrets_differ_per_installation() -> None:
    a, b = StackSecrets.generate(), StackSecrets.generate()
    assert all(getattr(a, f) != getattr(b, f) for f in a.__dataclass_fields__)


def test_sqlite_stacks_open_a_connection_per_request_and_postgres_stacks_pool(
    tmp_path: Path,
) -> None:
    sqlite = StackSettings.from_env(
        project_dir=REPO, state_dir=tmp_path / "lite", dags_dir=tmp_path / "dags", database="sqlite"
    )
    env = airflow_environment(sqlite, StackSecrets.generate())
    assert (
        env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == f"sqlite:///{sqlite.airflow_home}/airflow.db"
    )
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_POOL_ENABLED"] == "False"
    env = airflow_environment(_settings(tmp_path), StackSecrets.generate())
    assert "AIRFLOW__DATABASE__SQL_ALCHEMY_POOL_ENABLED" not in env


def test_a_secrets_file_from_before_the_role_passwords_gains_them(tmp_path: Path) -> None:
    import json

    from kit.stack.secrets import load_or_create

    path = tmp_path / "secrets.json"
    old = StackSecrets.generate().__dict__.copy()
    del old["airflow_db_password"], old["mlflow_db_password"]
    path.write_text(json.dumps(old))
    moved = load_or_create(path)
    assert moved.postgres_password == old["postgres_password"]  # the superuser's: kept
    passwords = {moved.postgres_password, moved.airflow_db_password, moved.mlflow_db_password}
    assert len(passwords) == 3
    assert load_or_create(path) == moved  # written back: the same next time
    env = airflow_environment(_settings(tmp_path), moved)
    assert moved.airflow_db_password in env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    assert moved.postgres_password not in str(env)

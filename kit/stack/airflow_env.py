"""The environment of the embedded stack's processes: config/airflow.cfg plus per-stack overrides.

Pure: from settings and secrets to a dict. Everything that config/airflow.cfg says stays there; this
adds only what differs for a native stack on this machine (database, paths, loopback, ports), the
generated secrets, and S3 remote logs / SMTP when their KIT_* variables ask for them
(kit.stack.remote_services), as AIRFLOW__SECTION__KEY variables, which take precedence over the
file.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from kit.bundle import config as bundle_config
from kit.bundle.repo import repo_path
from kit.stack.mlflow_auth import CONFIG_FILE_NAME, MlflowAuth, server_environment, sqlite_auth_uri
from kit.stack.remote_services import airflow_variables
from kit.stack.secrets import StackSecrets
from kit.stack.services.postgres import PostgresServer
from kit.stack.services.redis import RedisServer
from kit.stack.settings import StackSettings
from kit.worker.edge_config import stack_environment as edge_environment
from kit.worker.keys import WorkerFiles

# Marks every process the kit starts (and their children, which inherit it) so `down` can find
# them all, even ones that left their process group or were re-parented.
STACK_MARKER = "KIT_STACK_ID"


def stack_id(settings: StackSettings) -> str:
    """A short id of the stack (from its state folder) that marks its processes."""
    return hashlib.sha256(str(settings.state_dir).encode()).hexdigest()[:16]


def airflow_environment(settings: StackSettings, secrets: StackSecrets) -> dict[str, str]:
    """Variables to add to the caller's environment for every Airflow process of the stack."""
    home = settings.airflow_home
    env = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW_CONFIG": str(settings.config_file),
        "AIRFLOW__CORE__DAGS_FOLDER": str(settings.dags_dir),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(settings.project_dir / "plugins"),
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(settings.logs_dir / "airflow"),
        "AIRFLOW__LOGGING__DAG_PROCESSOR_CHILD_PROCESS_LOG_DIRECTORY": str(
            settings.logs_dir / "dag_processor"
        ),
        # Loopback only: the cfg's 0.0.0.0 is for inside a container.
        "AIRFLOW__API__HOST": settings.host,
        "AIRFLOW__API__PORT": str(settings.airflow_port),
        "AIRFLOW__API__BASE_URL": settings.airflow_url,
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{settings.airflow_url}/execution/",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST": settings.host,
        "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(
            settings.scheduler_health_port
        ),
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(settings.worker_log_port),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(settings.trigger_log_port),
        # One machine, one user: a short idle sleep cuts the gap between chained tasks from ~0.9 s
        # to ~0.1 s (measured on Airflow 3.3.2 here) at the price of a little idle CPU.
        "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.2",
        # Tasks talk to the api-server's execution API. On a small busy machine with SQLite, one
        # call can wait tens of seconds for the database lock (47 s seen while the dag-processor
        # wrote DAGs); the default patience (5 s per call, 5 retries) then kills the task.
        "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "60",
        "AIRFLOW__WORKERS__EXECUTION_API_RETRIES": "10",
        # Secrets, generated per installation (kit.stack.secrets).
        "AIRFLOW__CORE__FERNET_KEY": secrets.fernet_key,
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.jwt_secret,
        "AIRFLOW__API__SECRET_KEY": secrets.api_secret_key,
        # What tasks and notebooks need to find the rest of the stack.
        "MLFLOW_TRACKING_URI": settings.mlflow_url,
        # MLflow's usage telemetry phones home (no network here) and its session-id bookkeeping
        # races between threads (a training notebook died of KeyError on its session id).
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "KIT_PROJECT_DIR": str(settings.project_dir),
        "KIT_STATE_DIR": str(settings.state_dir),
        STACK_MARKER: stack_id(settings),
        "PYTHONUNBUFFERED": "1",
    }
    if settings.kernel_pool_size:
        env["KIT_KERNEL_POOL_DIR"] = str(settings.kernels_dir)
    if settings.parallelism is not None:
        env["AIRFLOW__CORE__PARALLELISM"] = str(settings.parallelism)
    env.update(_shape_environment(settings, secrets))
    env.update(bundle_environment(settings))
    # S3 remote logs and SMTP, from the same KIT_* variables as the Compose profiles; nothing
    # when they are unset, and airflow.cfg's values apply.
    env.update(airflow_variables(settings.remote_services))
    env.update(settings.extra_env)
    return env


def bundle_environment(settings: StackSettings) -> dict[str, str]:
    """Airflow serves the project through the kit's versioned git bundle (kit.bundle): the
    repository the kit commits deploys to (or the team's remote), checkouts in the state folder.
    The processes run as the repository's owner: no safe.directory needed."""
    return bundle_config.airflow_variables(
        settings.bundle_url or str(repo_path(settings.state_dir)),
        str(bundle_config.storage_path(settings.state_dir)),
    )


def _shape_environment(settings: StackSettings, secrets: StackSecrets) -> dict[str, str]:
    """The database and executor of the stack's shape."""
    env: dict[str, str] = {}
    if settings.database == "postgres":
        postgres = PostgresServer(settings, secrets)
        env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = postgres.url("airflow", "postgresql+psycopg2")
    else:
        env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = (
            f"sqlite:///{settings.airflow_home / 'airflow.db'}"
        )
        # SQLite: no connection pool. With 32 tasks reporting at once, the api-server's 15 pooled
        # connections were all taken, waiting on SQLite's one write lock, and further requests
        # failed after 30 s (HTTP 500) where they only needed their turn. A SQLite connection costs
        # a file open. SQLite's own 5 s lock wait is kept: the api-server makes some database calls
        # on its event loop, so a longer wait freezes every request meanwhile (seen: 60 s).
        env["AIRFLOW__DATABASE__SQL_ALCHEMY_POOL_ENABLED"] = "False"
    if settings.executor == "local":
        # The seed's LocalExecutor, forking its workers when tasks come (kit.stack.local_executor).
        env["AIRFLOW__CORE__EXECUTOR"] = "kit.stack.local_executor.OnDemandLocalExecutor"
    if settings.edge:
        # The executor list (LocalExecutor stays the default) and the Edge API with kit-issued
        # worker tokens only (kit.worker.edge_config).
        env.update(edge_environment(WorkerFiles(settings.state_dir).jwks))
    if settings.executor == "celery":
        env["AIRFLOW__CORE__EXECUTOR"] = "CeleryExecutor"
        env["AIRFLOW__CELERY__BROKER_URL"] = RedisServer(settings, secrets).url()
        env["AIRFLOW__CELERY__RESULT_BACKEND"] = PostgresServer(settings, secrets).url(
            "airflow", "db+postgresql"
        )
        # The scheduler serves no task logs under Celery; the api-server fetches a running task's
        # log from this port (the first worker's). Finished tasks' logs are read from the shared
        # log folder, whichever worker ran them.
        first = settings.celery_worker_names()[0]
        env["AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"] = str(
            settings.celery_worker_log_port(first)
        )
    return env


def mlflow_auth_file(settings: StackSettings) -> Path:
    """MLflow's basic-auth config file of the native stack (mode 0600; kit.stack.mlflow_auth)."""
    return settings.mlflow_dir / CONFIG_FILE_NAME


def mlflow_auth(settings: StackSettings, secrets: StackSecrets) -> MlflowAuth:
    """The native stack's MLflow accounts and auth database: on PostgreSQL the tracking
    database itself (the auth tables and their own migration table, alembic_version_auth, sit
    beside the tracking tables; no name is shared), on SQLite a file beside mlflow.db."""
    if settings.database == "postgres":
        database = PostgresServer(settings, secrets).url("mlflow")
    else:
        database = sqlite_auth_uri(settings.mlflow_dir)
    return MlflowAuth(database, secrets.mlflow_admin_password, secrets.mlflow_service_password)


def mlflow_environment(settings: StackSettings, secrets: StackSecrets) -> dict[str, str]:
    """Variables for the MLflow server's process (its stores, logins, no telemetry)."""
    env = {
        **server_environment(mlflow_auth_file(settings), secrets.mlflow_secret_key),
        # MLflow 3's job runner serves GenAI evaluation jobs, which the kit does not use: one busy
        # process less on a small machine.
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
        "MLFLOW_DISABLE_TELEMETRY": "true",
        STACK_MARKER: stack_id(settings),
        "KIT_STATE_DIR": str(settings.state_dir),
        "PYTHONUNBUFFERED": "1",
    }
    if settings.database == "postgres":
        # From the environment, not --backend-store-uri: the URL carries the password.
        env["MLFLOW_BACKEND_STORE_URI"] = PostgresServer(settings, secrets).url("mlflow")
    return env

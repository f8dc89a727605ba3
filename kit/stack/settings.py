"""The settings of a stack: folders, ports and shape, from arguments, the environment, or defaults.

The shape is which metadata database (a PostgreSQL the kit runs itself, the default; or SQLite for
the smallest machines) and which executor (LocalExecutor, or CeleryExecutor with a Redis broker and
N workers) the native stack uses.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import ClassVar

from kit.paths import project_dir as find_project_dir
from kit.stack.remote_services import RemoteServices

# Environment variable that overrides each port; named in the error when that port is busy.
PORT_SETTINGS = {
    "airflow_port": ("KIT_AIRFLOW_PORT", 8080, "Airflow api-server"),
    "mlflow_port": ("KIT_MLFLOW_PORT", 5000, "MLflow tracking server"),
    "scheduler_health_port": ("KIT_SCHEDULER_HEALTH_PORT", 8974, "scheduler health check"),
    "worker_log_port": ("KIT_WORKER_LOG_PORT", 8793, "task log server"),
    "trigger_log_port": ("KIT_TRIGGER_LOG_PORT", 8794, "triggerer log server"),
    # Not 5432/6379: a system PostgreSQL or Redis may already hold those.
    "postgres_port": ("KIT_POSTGRES_PORT", 5433, "PostgreSQL server"),
    "redis_port": ("KIT_REDIS_PORT", 6380, "Redis broker"),
    # Celery worker i (from 1) serves its task logs on celery_log_port + i - 1.
    "celery_log_port": ("KIT_CELERY_LOG_PORT", 8795, "Celery worker log server"),
}

DATABASES = ("postgres", "sqlite")
# The shape of a state folder whose stack.json predates shape fields (SQLite was the default then).
LEGACY_SHAPE = {"database": "sqlite", "executor": "local"}
EXECUTORS = ("local", "celery")


@dataclass(frozen=True)
class StackSettings:
    """Everything that says where a stack lives and listens, and its shape. Pure data."""

    # Besides the ports, what a later `kit up` of the same state folder keeps (in stack.json).
    SHAPE_FIELDS: ClassVar[tuple[str, ...]] = (
        "database",
        "executor",
        "celery_workers",
        "celery_concurrency",
        "parallelism",
        "kernel_pool_size",
        "edge",
    )

    project_dir: Path
    state_dir: Path
    dags_dir: Path
    host: str = "127.0.0.1"
    airflow_port: int = 8080
    mlflow_port: int = 5000
    scheduler_health_port: int = 8974
    worker_log_port: int = 8793
    trigger_log_port: int = 8794
    postgres_port: int = 5433
    redis_port: int = 6380
    celery_log_port: int = 8795
    database: str = "postgres"  # "postgres" (a server from a wheel, kit.stack.services) | "sqlite"
    executor: str = "local"  # "local" | "celery" (needs "postgres")
    celery_workers: int = 2
    # Task slots per Celery worker: Airflow's default [celery] worker_concurrency pre-forks 16
    # processes per worker, a lot for a laptop.
    celery_concurrency: int = 4
    # Fewer pre-forked LocalExecutor workers than the seed's parallelism=32 can be asked for
    # (tests); None keeps config/airflow.cfg's value.
    parallelism: int | None = None
    # Idle Jupyter kernels kept started for notebook tasks (kit.runtime.kernel_pool); 0: none.
    kernel_pool_size: int = 2
    # Edge workers on other machines (kit.worker): the api-server serves the Edge API and the
    # executor list adds Edge after the default one (tasks choose it with executor=).
    edge: bool = False
    # S3 remote task logs and SMTP: the KIT_* variables of the Compose profiles `remote-logs` and
    # `email`, read at each `kit up` and never kept (kit.stack.remote_services).
    remote_services: RemoteServices = field(default_factory=RemoteServices)
    extra_env: dict[str, str] = field(default_factory=dict)
    # The team's own git remote Airflow reads the DAGs from (KIT_BUNDLE_URL); None: the
    # repository the kit keeps in the state folder (kit.bundle, docs/dag-versions.md).
    bundle_url: str | None = None

    def __post_init__(self) -> None:
        if self.database not in DATABASES:
            raise ValueError(f"database must be one of {DATABASES}, not {self.database!r}")
        if self.executor not in EXECUTORS:
            raise ValueError(f"executor must be one of {EXECUTORS}, not {self.executor!r}")
        if self.executor == "celery" and self.database != "postgres":
            # Celery's result backend and many concurrent writers need a real database server.
            raise ValueError("the Celery executor needs database='postgres'")
        if self.edge and (self.database, self.executor) != ("postgres", "local"):
            # Edge beside the default LocalExecutor, on the database server its API writes to.
            raise ValueError("Edge workers (edge=True) need database='postgres', executor='local'")
        if self.celery_workers < 1:
            raise ValueError("celery_workers must be at least 1")
        if self.kernel_pool_size < 0:
            raise ValueError("kernel_pool_size must be 0 (no pool) or more")

    @classmethod
    def from_env(cls, **overrides: object) -> StackSettings:
        """Defaults, then KIT_* environment variables, then explicit (non-None) overrides."""
        root = Path(os.environ.get("KIT_PROJECT_DIR") or find_project_dir()).resolve()
        values: dict[str, object] = {
            "project_dir": root,
            "state_dir": Path(os.environ.get("KIT_STATE_DIR") or root / ".kit").resolve(),
            "dags_dir": Path(os.environ.get("KIT_DAGS_DIR") or root / "dags").resolve(),
        }
        for name, (env, default, _) in PORT_SETTINGS.items():
            values[name] = int(os.environ.get(env, default))
        if host := os.environ.get("KIT_BIND_HOST"):
            values["host"] = host
        if pool := os.environ.get("KIT_KERNEL_POOL_SIZE"):
            values["kernel_pool_size"] = int(pool)
        values["remote_services"] = RemoteServices.from_environ(os.environ)
        if bundle_url := os.environ.get("KIT_BUNDLE_URL"):
            values["bundle_url"] = bundle_url
        values.update({k: v for k, v in overrides.items() if v is not None})
        for key in ("project_dir", "state_dir", "dags_dir"):
            values[key] = Path(values[key]).resolve()  # type: ignore[arg-type]
        return cls(**values)  # type: ignore[arg-type]

    @property
    def config_file(self) -> Path:
        """The project's Airflow configuration file (config/airflow.cfg)."""
        return self.project_dir / "config" / "airflow.cfg"

    @property
    def airflow_home(self) -> Path:
        """AIRFLOW_HOME of the stack's processes."""
        return self.state_dir / "airflow"

    @property
    def logs_dir(self) -> Path:
        """Where the components' logs are written."""
        return self.state_dir / "logs"

    @property
    def run_dir(self) -> Path:
        """Pid files, the timeline and fast-path records."""
        return self.state_dir / "run"

    @property
    def secrets_file(self) -> Path:
        """The stack's generated secrets (mode 0600)."""
        return self.state_dir / "secrets.json"

    @property
    def passwords_file(self) -> Path:
        """The admin login the kit's client uses ({user: password}, mode 0600)."""
        return self.state_dir / "passwords.json"

    @property
    def mlflow_passwords_file(self) -> Path:
        """MLflow's admin login ({user: password}, mode 0600; kit.stack.mlflow_auth)."""
        return self.state_dir / "mlflow_passwords.json"

    @property
    def kernels_dir(self) -> Path:
        """The kernel pool's folder."""
        return self.state_dir / "kernels"

    @property
    def mlflow_dir(self) -> Path:
        """MLflow's own files (its SQLite store in that shape)."""
        return self.state_dir / "mlflow"

    @property
    def artifacts_dir(self) -> Path:
        """Where MLflow keeps artifacts (in the project)."""
        return self.project_dir / "artifacts"

    @property
    def airflow_url(self) -> str:
        """The api-server's URL."""
        return f"http://{self.host}:{self.airflow_port}"

    @property
    def mlflow_url(self) -> str:
        """The MLflow server's URL."""
        return f"http://{self.host}:{self.mlflow_port}"

    @property
    def shape(self) -> str:
        """A short name of the shape: 'postgres+local', 'postgres+celery', 'sqlite+local',
        'postgres+local+edge'."""
        return f"{self.database}+{self.executor}" + ("+edge" if self.edge else "")

    def shape_fields(self) -> dict[str, object]:
        """What besides the ports a later `kit up` must keep (persisted in stack.json)."""
        return {name: getattr(self, name) for name in self.SHAPE_FIELDS}

    def celery_worker_names(self) -> list[str]:
        """The Celery workers' component names (none without Celery)."""
        if self.executor != "celery":
            return []
        return [f"celery-worker-{i}" for i in range(1, self.celery_workers + 1)]

    def celery_worker_log_port(self, name: str) -> int:
        """The log-server port of Celery worker ``name`` (one port each)."""
        return self.celery_log_port + int(name.rsplit("-", 1)[1]) - 1

    @property
    def postgres_dir(self) -> Path:
        """The PostgreSQL server's folder."""
        return self.state_dir / "postgres"

    @property
    def redis_dir(self) -> Path:
        """The Redis server's folder."""
        return self.state_dir / "redis"

    def ports(self) -> dict[str, int]:
        """Every port setting by field name (what stack.json keeps)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name in PORT_SETTINGS}

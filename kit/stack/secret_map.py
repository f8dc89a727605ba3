"""Which process of a stack may hold which secret: the one table docs/security.md shows and the
secret scan (tests/security/) checks running stacks against.

Pure data and pure checks. A *holder* is a process of the native stack (by component) or a
container of the Compose stack (by service); what it holds is what it needs to do its job. Any
other secret found in a process's environment or command line is a finding.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from kit.stack.secrets import StackSecrets

# The stack's secrets, by id: (the field of kit.stack.secrets.StackSecrets, what it guards).
SECRETS: dict[str, tuple[str, str]] = {
    "postgres-superuser": ("postgres_password", "PostgreSQL's superuser `postgres`"),
    "airflow-db": ("airflow_db_password", "the `airflow` role (owns the `airflow` database)"),
    "mlflow-db": ("mlflow_db_password", "the `mlflow` role (owns the `mlflow` database)"),
    "admin-password": ("admin_password", "Airflow's `admin` login"),
    "fernet-key": ("fernet_key", "decrypts connections and variables in Airflow's database"),
    "jwt-secret": ("jwt_secret", "signs Airflow's API and task tokens"),
    "api-secret-key": ("api_secret_key", "signs Airflow's UI sessions and file tokens"),
    "redis-password": ("redis_password", "the Celery broker (Celery stacks only)"),
    "mlflow-admin": ("mlflow_admin_password", "MLflow's `admin` login (grants, every experiment)"),
    "mlflow-service": ("mlflow_service_password", "MLflow's `kit-tasks` login, which tasks use"),
    "mlflow-secret-key": ("mlflow_secret_key", "signs MLflow's UI sessions (CSRF)"),
}

# The variables of Compose's .env that hold each secret (kit.stack.compose_env).
COMPOSE_ENV_KEYS = {
    "postgres-superuser": "POSTGRES_PASSWORD",
    "airflow-db": "KIT_AIRFLOW_DB_PASSWORD",
    "mlflow-db": "KIT_MLFLOW_DB_PASSWORD",
    "admin-password": "KIT_ADMIN_PASSWORD",
    "fernet-key": "KIT_FERNET_KEY",
    "jwt-secret": "KIT_JWT_SECRET",
    "api-secret-key": "KIT_API_SECRET_KEY",
    "mlflow-admin": "KIT_MLFLOW_ADMIN_PASSWORD",
    "mlflow-service": "KIT_MLFLOW_SERVICE_PASSWORD",
    "mlflow-secret-key": "KIT_MLFLOW_SECRET_KEY",
}

# Task code logs to MLflow as the service account `kit-tasks` (MLFLOW_TRACKING_PASSWORD): the
# processes that run tasks, and the kernels and run guards they start, hold that login and no
# other (kit.stack.mlflow_auth.task_environment).
RUNS_TASKS = frozenset({"mlflow-service"})

# What every Airflow component needs: its database, the Fernet key (connections, variables), the
# JWT secret (the same in every process: the scheduler signs task tokens, the api-server checks
# them) and [api] secret_key (Airflow reads it in every component's configuration).
AIRFLOW_COMPONENT = frozenset({"airflow-db", "fernet-key", "jwt-secret", "api-secret-key"})
# Natively, on Celery stacks, the broker's URL (with Redis's password) is in every Airflow
# component's environment, as Airflow's configuration is the same in all of them; only the
# scheduler and the workers talk to the broker.
NATIVE_AIRFLOW = AIRFLOW_COMPONENT | {"redis-password"}
# The native stack's Airflow components (their forks count as them).
AIRFLOW_NAMES = ("api-server", "scheduler", "dag-processor", "triggerer", "celery-worker")


@dataclass(frozen=True)
class Holder:
    """A process (native) or container (Compose) and the secrets it may hold."""

    stack: str  # "native" or "compose"
    name: str  # the component or service
    secrets: frozenset[str]
    why: str  # why it holds them (or why nothing)


HOLDERS: tuple[Holder, ...] = (
    Holder(
        "native",
        "postgres",
        frozenset(),
        "the server keeps password hashes in its data, not in its environment",
    ),
    Holder(
        "native",
        "redis",
        frozenset(),
        "its password is in its 0600 config file, not on its command line",
    ),
    Holder(
        "native",
        "api-server",
        NATIVE_AIRFLOW,
        "serves the UI and API; checks logins against FAB's tables (hashed passwords)",
    ),
    Holder(
        "native",
        "scheduler",
        NATIVE_AIRFLOW | RUNS_TASKS,
        "schedules; its LocalExecutor's task processes are its forks and inherit this",
    ),
    Holder("native", "dag-processor", NATIVE_AIRFLOW, "parses DAG files"),
    Holder("native", "triggerer", NATIVE_AIRFLOW, "runs deferred triggers"),
    Holder(
        "native",
        "celery-worker",
        NATIVE_AIRFLOW | RUNS_TASKS,
        "runs tasks (Celery stacks); its task processes are its forks",
    ),
    Holder(
        "native",
        "mlflow",
        frozenset({"mlflow-db", "mlflow-secret-key"}),
        "MLflow's tracking server: its own database; its logins' config is a 0600 file (a path)",
    ),
    Holder("native", "kernel-pool", frozenset(), "starts notebook kernels; needs no database"),
    Holder(
        "native",
        "run-guard",
        RUNS_TASKS,
        "closes a killed notebook try's MLflow run: talks to MLflow only, as `kit-tasks`",
    ),
    Holder(
        "native",
        "kernel",
        RUNS_TASKS,
        "runs notebook code: logs to MLflow as `kit-tasks`, hands results back in a file",
    ),
    Holder(
        "compose",
        "postgres",
        frozenset({"postgres-superuser"}),
        "the image sets the superuser's password when the volume is first made",
    ),
    Holder(
        "compose",
        "airflow-init",
        frozenset({"postgres-superuser", "airflow-db", "mlflow-db", "admin-password"})
        | AIRFLOW_COMPONENT,
        "one-shot set-up: roles, databases, migration, the admin user in FAB's tables; exits",
    ),
    Holder(
        "compose",
        "airflow-apiserver",
        AIRFLOW_COMPONENT,
        "serves the UI and API; checks logins against FAB's tables (hashed passwords)",
    ),
    Holder(
        "compose",
        "airflow-scheduler",
        AIRFLOW_COMPONENT | RUNS_TASKS,
        "schedules and, on LocalExecutor, runs tasks (notebook code)",
    ),
    Holder("compose", "airflow-dag-processor", AIRFLOW_COMPONENT, "parses DAG files"),
    Holder("compose", "airflow-triggerer", AIRFLOW_COMPONENT, "runs deferred triggers"),
    Holder(
        "compose",
        "airflow-worker",
        AIRFLOW_COMPONENT | RUNS_TASKS,
        "runs tasks (celery profile); the broker has no password inside the project network",
    ),
    Holder(
        "compose", "remote-logs-check", AIRFLOW_COMPONENT, "one-shot check of the S3 bucket; exits"
    ),
    Holder(
        "compose",
        "mlflow",
        frozenset({"mlflow-db", "mlflow-admin", "mlflow-service", "mlflow-secret-key"}),
        "MLflow's tracking server: its own database; makes its admin and `kit-tasks` at start "
        "(the server itself runs without the two passwords: `env -u`)",
    ),
    Holder(
        "compose", "redis", frozenset(), "the broker; reachable only inside the project network"
    ),
    Holder("compose", "mailpit", frozenset(), "the mail catcher of the email profile"),
)


def holder(stack: str, name: str) -> Holder:
    """The holder ``name`` of ``stack``; a numbered Celery worker counts as ``celery-worker``.
    An unknown name may hold nothing (it is reported, never let through)."""
    base = "celery-worker" if name.startswith("celery-worker-") else name
    for entry in HOLDERS:
        if entry.stack == stack and entry.name == base:
            return entry
    return Holder(stack, name, frozenset(), "not in the map: may hold no secret")


def secret_values(secrets: StackSecrets) -> dict[str, str]:
    """Each secret's value, by id (what the scan looks for)."""
    return {sid: getattr(secrets, field) for sid, (field, _) in SECRETS.items()}


@dataclass(frozen=True)
class Finding:
    """A secret found where it does not belong."""

    process: str  # e.g. "scheduler (pid 123)"
    where: str  # "env AIRFLOW__X" or "argv[2]"
    secret: str  # its id in SECRETS

    def __str__(self) -> str:
        return f"{self.process}: {self.where} holds {self.secret} ({SECRETS[self.secret][1]})"


def findings(
    process: str,
    places: Iterable[tuple[str, str]],
    values: Mapping[str, str],
    allowed: Iterable[str],
) -> list[Finding]:
    """Secrets of ``values`` found in ``places`` ((where, text) pairs: environment variables and
    command-line arguments of one process) that ``allowed`` does not list."""
    allowed = set(allowed)
    found = []
    for where, text in places:
        for sid, value in values.items():
            if sid not in allowed and value and value in text:
                found.append(Finding(process, where, sid))
    return found


def markdown_table(stack: str) -> str:
    """The table of ``stack``'s holders for docs/security.md (a test keeps the doc in step)."""
    ids = list(SECRETS)
    lines = [
        "| process | " + " | ".join(ids) + " | why |",
        "|---" * (len(ids) + 2) + "|",
    ]
    for entry in HOLDERS:
        if entry.stack == stack:
            marks = " | ".join("x" if sid in entry.secrets else "" for sid in ids)
            lines.append(f"| `{entry.name}` | {marks} | {entry.why} |")
    return "\n".join(lines)

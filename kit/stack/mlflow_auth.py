"""MLflow with logins on the kit's stacks: MLflow's own basic-auth app (``mlflow server
--app-name basic-auth``), its accounts, the config file it reads, and the environments of the
server and of the task processes. Pure: no file is written and no process started here (the
stack backends write, ``kit.stack.mlflow_server`` starts).

Accounts:

- ``admin`` (``ADMIN_USER``): MLflow's administrator; the kit's own tools (the CLI, `kit demo`,
  notebooks by hand through ``kit.client.use_mlflow``, the tests) log in as it.
- ``kit-tasks`` (``SERVICE_USER``): the service account whose password only the processes that
  run Airflow tasks get (``task_environment``), with EDIT on every experiment and registered
  model (``SERVICE_GRANTS``).
- people: ``kit mlflow-users add NAME --permission read|edit [--experiment X] [--model M]``.

``default_permission`` is ``NO_PERMISSIONS`` (``DEFAULT_PERMISSION``): a logged-in user sees and
changes only what they were granted or created themselves (MLflow gives the creator MANAGE), as
a team's Airflow role sees only its team's DAGs. With ``READ`` every login would read every
experiment and model, and ``--permission read --experiment X`` would grant nothing; a colleague
who should read everything gets ``kit mlflow-users add NAME --permission read`` (READ on all).
"""

from __future__ import annotations

import configparser
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

AUTH_APP = "basic-auth"  # `mlflow server --app-name`: MLflow's own login app
ADMIN_USER = "admin"
SERVICE_USER = "kit-tasks"
DEFAULT_PERMISSION = "NO_PERMISSIONS"
# MLflow's own rule (mlflow.utils.validation._validate_password): checked here first, so a short
# password names the setting that holds it rather than failing inside MLflow's start.
MIN_PASSWORD_LENGTH = 12
CONFIG_FILE_NAME = "basic_auth.ini"  # in the stack's MLflow folder, mode 0600
PASSWORDS_FILE_NAME = "mlflow_passwords.json"  # {"admin": "<password>"}, in the state folder
SQLITE_AUTH_DB = "basic_auth.db"  # the SQLite shape's auth database, beside mlflow.db

# MLflow checks a login's password hash (werkzeug's scrypt) on every request unless it caches
# the check: 0.1-0.7 s of CPU per request measured here, which a lifecycle run pays hundreds of
# times. Cached, a login is checked once a minute per server worker. A password changed or a
# user removed through MLflow's API takes effect at once on the worker that did it, on others
# (Compose runs several) within this many seconds.
AUTH_CACHE_SECONDS = 60

# The service account's grants. Every pipeline's tasks run as this one account (one Airflow
# runs them all), and the experiments and models a run touches are known only when it runs (an
# experiment per DAG; the model name is a run parameter), so the grant is on all of them ("*").
# EDIT, not MANAGE: tasks log, tag, register and move aliases; they never delete anything nor
# grant permissions. What the account creates it manages anyway (MLflow makes the creator MANAGE).
SERVICE_GRANTS: tuple[tuple[str, str, str], ...] = (
    ("experiment", "*", "EDIT"),
    ("registered_model", "*", "EDIT"),
)

# What a user given `--permission read|edit` gets on an experiment or registered model.
PERMISSIONS = {"read": "READ", "edit": "EDIT"}
# MLflow user names: no colon (basic auth splits on it), nothing a shell or a URL must quote.
USER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


@dataclass(frozen=True)
class MlflowAuth:
    """What MLflow's basic-auth app of one stack needs: its database and the kit's accounts."""

    database_uri: str  # SQLAlchemy URL of the auth database (may hold the database password)
    admin_password: str
    service_password: str

    def check(self, names: dict[str, str] | None = None) -> None:
        """ValueError naming the setting when a password is too short or a value spans lines.

        ``names`` says where each value comes from (``{"admin_password": "KIT_MLFLOW_..."}``)."""
        names = names or {}
        for field in ("admin_password", "service_password"):
            value = getattr(self, field)
            if len(value) < MIN_PASSWORD_LENGTH:
                raise ValueError(
                    f"{names.get(field, field)} has {len(value)} characters: MLflow needs at "
                    f"least {MIN_PASSWORD_LENGTH}. Set a longer one (or delete it: the kit "
                    "generates one)."
                )
        for field in ("database_uri", "admin_password", "service_password"):
            if "\n" in getattr(self, field) or "\r" in getattr(self, field):
                raise ValueError(f"{names.get(field, field)} must be one line")


def check_user_name(name: str) -> str:
    """``name`` if it can be an MLflow login; else ValueError saying what a name may hold."""
    if not USER_NAME.match(name):
        raise ValueError(
            f"user name {name!r}: use 1-64 letters, digits, '.', '_', '@' or '-', starting with "
            "a letter or digit (no ':' — basic auth splits on it)."
        )
    return name


def sqlite_auth_uri(mlflow_dir: Path) -> str:
    """The SQLite shape's auth database: a file of its own beside mlflow.db (SQLite has one
    writer; every request reads the auth tables, and runs write the tracking ones)."""
    return f"sqlite:///{mlflow_dir / SQLITE_AUTH_DB}"


def _escape(value: str) -> str:
    # MLflow reads the file with configparser's default interpolation, where '%' starts a
    # reference: a password or a URL-quoted database password with '%' must be written '%%'.
    return value.replace("%", "%%")


def config_text(auth: MlflowAuth) -> str:
    """The file ``MLFLOW_AUTH_CONFIG_PATH`` names: MLflow's ``[mlflow]`` section, plus a
    ``[kit]`` section (the service account) that only ``kit.stack.mlflow_server`` reads."""
    auth.check()
    return (
        "# MLflow's basic-auth app, written by the kit (kit/stack/mlflow_auth.py). Private: it\n"
        "# holds passwords. The kit writes it again at every start: change the passwords in\n"
        "# the stack's secrets (.kit/secrets.json, or .env for Compose), not here.\n"
        "[mlflow]\n"
        f"default_permission = {DEFAULT_PERMISSION}\n"
        f"database_uri = {_escape(auth.database_uri)}\n"
        f"admin_username = {ADMIN_USER}\n"
        f"admin_password = {_escape(auth.admin_password)}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
        f"auth_cache_ttl_seconds = {AUTH_CACHE_SECONDS}\n"
        "\n"
        "[kit]\n"
        f"service_username = {SERVICE_USER}\n"
        f"service_password = {_escape(auth.service_password)}\n"
    )


def read_config(text: str) -> MlflowAuth:
    """The accounts and database of a config file ``config_text`` wrote (read as MLflow reads
    it); ValueError naming what is missing."""
    parser = configparser.ConfigParser()
    parser.read_file(io.StringIO(text))
    try:
        return MlflowAuth(
            database_uri=parser["mlflow"]["database_uri"],
            admin_password=parser["mlflow"]["admin_password"],
            service_password=parser["kit"]["service_password"],
        )
    except KeyError as exc:
        raise ValueError(
            f"the MLflow auth config lacks {exc}; `kit up` writes it again (Compose: the "
            "mlflow service writes it from its environment)."
        ) from None


def server_environment(config_file: Path, secret_key: str) -> dict[str, str]:
    """Variables of the MLflow server's process for the basic-auth app."""
    return {
        "MLFLOW_AUTH_CONFIG_PATH": str(config_file),
        # Signs the app's Flask session (CSRF of its sign-up form); MLflow refuses to start
        # without it. Static, so every worker agrees.
        "MLFLOW_FLASK_SERVER_SECRET_KEY": secret_key,
    }


def task_environment(service_password: str) -> dict[str, str]:
    """The service account's login, for the processes whose forks run Airflow tasks (MLflow's
    client reads these two variables for every request)."""
    return {
        "MLFLOW_TRACKING_USERNAME": SERVICE_USER,
        "MLFLOW_TRACKING_PASSWORD": service_password,
    }


# An MLflow client's login variables. The stack's processes never inherit them from whoever runs
# `kit up` (a notebook logged in as the admin, a shell): each gets only the login it needs.
LOGIN_VARIABLES = ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_TOKEN")


def without_logins(environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` without an MLflow client's login variables."""
    return {k: v for k, v in environ.items() if k not in LOGIN_VARIABLES}


def client_environment(tracking_uri: str, username: str, password: str) -> dict[str, str]:
    """What an MLflow client needs to talk to the stack's MLflow as ``username``."""
    return {
        "MLFLOW_TRACKING_URI": tracking_uri,
        "MLFLOW_TRACKING_USERNAME": username,
        "MLFLOW_TRACKING_PASSWORD": password,
    }


def grants_for(
    permission: str, experiment_ids: list[str], models: list[str]
) -> list[tuple[str, str, str]]:
    """The grants of ``kit mlflow-users add``: ``permission`` (read|edit) on each experiment id
    and registered model named, or on all of both ("*") when none is named."""
    if permission not in PERMISSIONS:
        raise ValueError(
            f"--permission {permission!r}: use one of {', '.join(PERMISSIONS)} (read: see runs "
            "and models; edit: also log runs, register versions, move aliases)"
        )
    level = PERMISSIONS[permission]
    if not experiment_ids and not models:
        return [("experiment", "*", level), ("registered_model", "*", level)]
    return [("experiment", e, level) for e in experiment_ids] + [
        ("registered_model", m, level) for m in models
    ]

"""Drive a running Airflow from Python and notebooks.

``connect()`` finds the running stack (its state folder), logs in and returns an ``AirflowClient``;
``use_mlflow()`` logs this process's MLflow client in to the stack's MLflow.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from kit.client.airflow import AirflowClient
from kit.client.errors import (
    AuthFailed,
    ClientError,
    DagImportError,
    DagNotFound,
    Forbidden,
    ParamsRejected,
    RunTimeout,
    ServerBusy,
    ServerDown,
    ServerError,
)
from kit.client.mlflow_login import mlflow_environment, use_mlflow
from kit.client.models import DagRun, DagTask, TaskRun

if TYPE_CHECKING:  # kit.stack is imported by connect(), when a stack is needed
    from kit.stack.base import Stack

__all__ = [
    "AirflowClient",
    "AuthFailed",
    "ClientError",
    "DagImportError",
    "DagNotFound",
    "DagRun",
    "Forbidden",
    "DagTask",
    "ParamsRejected",
    "RunTimeout",
    "ServerBusy",
    "ServerDown",
    "ServerError",
    "TaskRun",
    "connect",
    "login",
    "mlflow_environment",
    "use_mlflow",
]


def connect(
    state_dir: str | Path | None = None,
    *,
    user: str | None = None,
    password: str | None = None,
    timeout: float = 30.0,
) -> AirflowClient:
    """A client for the stack whose state is in ``state_dir`` (default: $KIT_STATE_DIR or .kit/),
    whatever its backend: its endpoints come from the stack's state.

    It logs in as ``user`` with ``password`` (a token from ``POST /auth/token``); without
    ``user``, as the stack's admin. A user the kit made with a generated password (``kit users
    add``) needs no ``password``: the kit reads it from ``<state_dir>/users/<user>.json``."""
    from kit.stack import StackSettings, open_stack, read_state

    settings = StackSettings.from_env(state_dir=state_dir)
    state = read_state(settings.state_dir)  # StackNotRunning if no stack was ever started
    stack = open_stack(settings.state_dir)
    stack.endpoints()  # StackNotRunning after `kit down`, rather than a connection error later
    username, secret = login(settings.state_dir, state.username, state.password, user, password)
    return AirflowClient(
        state.airflow_url,
        username,
        secret,
        dags_dir=state.dags_dir,
        request_parse=_parse_requester(stack),
        deploy=_deployer(
            settings.state_dir, state.project_dir, state.dags_dir, settings.bundle_url
        ),
        timeout=timeout,
        server_log=state.api_server_log,
    )


def login(
    state_dir: Path,
    admin: str,
    admin_password: Callable[[], str],
    user: str | None,
    password: str | None,
) -> tuple[str, str]:
    """The (user, password) a client logs in with: the admin by default, else ``user`` with the
    password given or the one the kit generated for it; ClientError naming both ways if none."""
    from kit.client.users import password_file, saved_password

    if user is None or (user == admin and password is None):
        return admin, password if password is not None else admin_password()
    if password is not None:
        return user, password
    saved = saved_password(state_dir, user)
    if saved is None:
        raise ClientError(
            f"no password for user {user!r}: give it (connect(user={user!r}, password=...)); "
            f"the kit keeps only passwords it generated, in {password_file(state_dir, user)}."
        )
    return user, saved


def _deployer(
    state_dir: Path, project_dir: Path, dags_dir: Path, remote: str | None
) -> Callable[[Path], str]:
    """The stack's way to deploy a DAG file: a commit to its bundle repository (kit.bundle),
    pushed to the team's remote when KIT_BUNDLE_URL names one; failing as a ClientError."""

    def deploy(dag_file: Path) -> str:
        from kit.bundle.deploy import deploy as commit
        from kit.bundle.repo import BundleError

        try:
            return commit(state_dir, project_dir, dags_dir, [dag_file], remote=remote).version
        except BundleError as exc:
            raise ClientError(str(exc)) from exc

    return deploy


def _parse_requester(stack: Stack) -> Callable[[str], None]:
    """The stack's way to have Airflow parse a file now, failing as a ClientError."""
    from kit.stack import StackError

    def request(relative_fileloc: str) -> None:
        try:
            stack.request_parse(relative_fileloc)
        except StackError as exc:
            raise ClientError(str(exc)) from exc

    return request

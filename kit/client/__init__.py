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
    "DagTask",
    "ParamsRejected",
    "RunTimeout",
    "ServerBusy",
    "ServerDown",
    "ServerError",
    "TaskRun",
    "connect",
    "mlflow_environment",
    "use_mlflow",
]


def connect(state_dir: str | Path | None = None, *, timeout: float = 30.0) -> AirflowClient:
    """A client for the stack whose state is in ``state_dir`` (default: $KIT_STATE_DIR or .kit/),
    whatever its backend: its endpoints and login come from the stack's state."""
    from kit.stack import StackSettings, open_stack, read_state

    settings = StackSettings.from_env(state_dir=state_dir)
    state = read_state(settings.state_dir)  # StackNotRunning if no stack was ever started
    stack = open_stack(settings.state_dir)
    stack.endpoints()  # StackNotRunning after `kit down`, rather than a connection error later
    return AirflowClient(
        state.airflow_url,
        state.username,
        state.password(),
        dags_dir=state.dags_dir,
        request_parse=_parse_requester(stack),
        timeout=timeout,
        server_log=state.api_server_log,
    )


def _parse_requester(stack: Stack) -> Callable[[str], None]:
    """The stack's way to have Airflow parse a file now, failing as a ClientError."""
    from kit.stack import StackError

    def request(relative_fileloc: str) -> None:
        try:
            stack.request_parse(relative_fileloc)
        except StackError as exc:
            raise ClientError(str(exc)) from exc

    return request

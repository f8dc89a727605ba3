"""Drive a running Airflow from Python and notebooks.

``connect()`` finds the running stack (its state folder), logs in and returns an ``AirflowClient``.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

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
from kit.client.models import DagRun, DagTask, TaskRun

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
]


def connect(state_dir: str | Path | None = None, *, timeout: float = 30.0) -> AirflowClient:
    """A client for the stack whose state is in ``state_dir`` (default: $KIT_STATE_DIR or .kit/)."""
    from kit.stack import EmbeddedStack, StackNotRunning, StackSettings

    settings = StackSettings.from_env(state_dir=state_dir)
    state_file = settings.state_dir / "stack.json"
    if not state_file.exists():
        raise StackNotRunning(
            f"no stack has been started with its state in {settings.state_dir}: run `kit up` first."
        )
    state = json.loads(state_file.read_text())
    password = json.loads(Path(state["password_file"]).read_text())[state["username"]]
    request_parse = None
    server_log = None
    if state.get("kind") == "embedded":
        stack = EmbeddedStack.from_state(settings.state_dir)
        stack.endpoints()  # StackNotRunning after `kit down`, rather than a connection error later
        request_parse = lambda rel: _request_parse(stack.environment(), rel)  # noqa: E731
        server_log = stack.log_path("api-server")
    return AirflowClient(
        state["airflow_url"],
        state["username"],
        password,
        dags_dir=Path(state["dags_dir"]),
        request_parse=request_parse,
        timeout=timeout,
        server_log=server_log,
    )


_REQUEST_PARSE = """
import sys
from airflow.models.dagbag import DagPriorityParsingRequest
from airflow.utils.session import create_session
with create_session() as session:
    session.add(DagPriorityParsingRequest(bundle_name=sys.argv[1], relative_fileloc=sys.argv[2]))
"""


def _request_parse(env: dict[str, str], relative_fileloc: str, bundle: str = "dags-folder") -> None:
    """Record a priority-parse request in the metadata database, as Airflow's reparse API does,
    for a file the API cannot name yet (a new file in a bundle where no DAG is known)."""
    python = str(Path(os.sys.executable))
    done = subprocess.run(
        [python, "-c", _REQUEST_PARSE, bundle, relative_fileloc],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        raise ClientError(
            f"could not ask Airflow to parse {relative_fileloc}:\n{done.stderr[-2000:]}"
        )

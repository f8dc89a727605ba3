"""The one record of a started stack: ``<state_dir>/stack.json``.

Every backend writes it when it comes up (``EmbeddedStack``, ``ComposeStack``); everything that
needs the running stack reads it here (``kit.client.connect``, the CLI, the widgets, ``kit
demo``), whatever the backend. Backend fields (an embedded stack's ports and shape, a Compose
stack's file and profiles) ride along as extra fields that only their backend reads.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from kit.files import atomic_write_text
from kit.stack.backends import get_backend
from kit.stack.base import Endpoints, StackError, StackNotRunning

STATE_FILE_NAME = "stack.json"


class StackState(BaseModel):
    """Where a started stack answers, how to log in, and where its files are on this machine."""

    model_config = ConfigDict(extra="allow")

    kind: str  # the backend that wrote it: a name registered in kit.stack.backends
    airflow_url: str
    mlflow_url: str
    username: str
    password_file: Path  # {"<username>": "<password>"}, mode 0600
    dags_dir: Path
    project_dir: Path
    task_logs_dir: Path | None = None  # Airflow's task logs, as seen from this machine
    api_server_log: Path | None = None  # the api-server's log file, where there is one
    # MLflow's admin login; absent in the state of an older kit (its MLflow had no logins).
    mlflow_username: str | None = None
    mlflow_password_file: Path | None = None  # {"<username>": "<password>"}, mode 0600

    @field_validator("kind")
    @classmethod
    def _a_registered_backend(cls, kind: str) -> str:
        get_backend(kind)  # ValueError naming the known backends
        return kind

    def password(self) -> str:
        """The admin password, read from its file (never stored in the state itself)."""
        return self.endpoints().password()

    def endpoints(self) -> Endpoints:
        """The URLs and login, as ``Stack.endpoints()`` gives them."""
        return Endpoints(
            self.airflow_url,
            self.mlflow_url,
            self.username,
            self.password_file,
            mlflow_username=self.mlflow_username,
            mlflow_password_file=self.mlflow_password_file,
        )

    def backend(self) -> dict[str, Any]:
        """The fields only the backend that wrote the state reads."""
        return dict(self.model_extra or {})


def state_file(state_dir: Path) -> Path:
    """Where the state of the stack started with ``state_dir`` is kept."""
    return Path(state_dir) / STATE_FILE_NAME


def read_state(state_dir: Path) -> StackState:
    """The state of the stack last started with ``state_dir``; StackNotRunning if none was."""
    path = state_file(state_dir)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise StackNotRunning(
            f"no stack has been started with its state in {state_dir}: run `kit up` first."
        ) from None
    except (OSError, ValueError) as exc:
        problem = f"{path} is not readable ({exc}); run `kit up` to write it again."
        raise StackError(problem) from exc
    data.setdefault("kind", "embedded")  # the kit's first state files had no kind
    try:
        return StackState.model_validate(data)
    except ValidationError as exc:
        raise StackError(
            f"{path} does not describe a stack ({exc.error_count()} problem(s): "
            f"{exc.errors()[0]['loc']} {exc.errors()[0]['msg']}); run `kit up` to write it again."
        ) from exc


def saved_kind(state_dir: Path) -> str | None:
    """The kind of the stack last started with ``state_dir`` (None: none, or unreadable)."""
    try:
        return read_state(state_dir).kind
    except StackError:
        return None


def write_state(state_dir: Path, state: StackState) -> Path:
    """Write the state atomically: a reader sees the old state or the new one, never half."""
    path = state_file(state_dir)
    text = json.dumps(state.model_dump(mode="json", exclude_none=True), indent=2)
    atomic_write_text(path, text + "\n")
    return path

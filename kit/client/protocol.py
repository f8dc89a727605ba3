"""What the widgets, the CLI and ``kit demo`` ask of Airflow: one protocol.

``AirflowClient`` is the implementation (``kit.client.connect()`` builds it from the stack's
state, whatever the backend). The pure tests drive a real ``AirflowClient`` against one shared fake
Airflow API (``tests/fakes/airflow_api.py``) rather than faking these calls one widget at a time.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from kit.client.models import DagRun, DagTask


@runtime_checkable
class AirflowApi(Protocol):
    """The calls the kit's front ends make; see ``AirflowClient`` for what each does."""

    url: str
    username: str

    def dag_tasks(self, dag_id: str) -> list[DagTask]:
        """The tasks of a DAG, in its order."""

    def import_error_for(self, path: str | Path) -> str | None:
        """Airflow's import error for a DAG file; None when it has none."""

    def make_visible(self, dag_id: str, dag_file: str | Path, *, timeout: float = ...) -> Any:
        """Wait until Airflow has parsed a DAG file and lists the DAG."""

    def set_paused(self, dag_id: str, paused: bool) -> None:
        """Pause or unpause a DAG."""

    def trigger(self, dag_id: str, conf: dict | None = None) -> DagRun:
        """Start a run of a DAG with ``conf`` as its params."""

    def get_run(self, dag_id: str, run_id: str, *, with_tasks: bool = True) -> DagRun:
        """One run of a DAG, with its task tries unless ``with_tasks`` is False."""

    def latest_run(self, dag_id: str) -> DagRun | None:
        """The DAG's newest run; None before its first run."""

    def wait(
        self, dag_id: str, run_id: str, *, timeout: float = ..., progress: bool = ...
    ) -> DagRun:
        """Wait until a run finishes; RunTimeout after ``timeout`` seconds."""

    def run(
        self, dag_id: str, conf: dict | None = None, *, timeout: float = ..., progress: bool = ...
    ) -> DagRun:
        """Trigger a run and wait until it finishes."""

    def task_log(
        self,
        dag_id: str,
        run_id: str,
        task_id: str,
        *,
        try_number: int | None = None,
        map_index: int = -1,
    ) -> str:
        """The log text of one task try."""

    def xcom(
        self, dag_id: str, run_id: str, task_id: str, key: str = ..., *, map_index: int = -1
    ) -> Any:
        """One XCom value of a task of a run."""

    def clear_task(
        self, dag_id: str, run_id: str, task_ids: Iterable[str], *, downstream: bool = True
    ) -> Any:
        """Clear tasks of a run (and by default their downstream) so they run again."""

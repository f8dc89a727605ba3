"""Plain records the client returns: easy to print, compare and put in a DataFrame."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

TERMINAL_RUN_STATES = frozenset({"success", "failed"})
FINISHED_TASK_STATES = frozenset(
    {"success", "failed", "skipped", "upstream_failed", "removed", "remove"}
)


@dataclass(frozen=True)
class TaskRun:
    """One try of one task (or mapped task instance) of a run."""

    task_id: str
    map_index: int
    state: str | None
    try_number: int
    start: datetime | None
    end: datetime | None
    duration: float | None
    operator: str | None
    # The machine (container, Celery worker) that ran the try; None before it started.
    hostname: str | None = None

    @property
    def label(self) -> str:
        """'task' or 'task[map_index]' for a mapped instance."""
        return self.task_id if self.map_index < 0 else f"{self.task_id}[{self.map_index}]"


@dataclass(frozen=True)
class DagTask:
    """One task of a DAG as Airflow loaded it: what a graph of the DAG needs."""

    task_id: str
    operator: str | None  # "@task" for TaskFlow tasks, else the operator's class name
    mapped: bool  # expanded at run time (dynamic task mapping)
    upstream: tuple[str, ...]  # sorted
    downstream: tuple[str, ...]  # sorted


@dataclass(frozen=True)
class DagRun:
    """One run of a DAG, with its task tries when asked for."""

    dag_id: str
    run_id: str
    state: str
    start: datetime | None = None
    end: datetime | None = None
    conf: dict = field(default_factory=dict)
    tasks: tuple[TaskRun, ...] = ()

    @property
    def finished(self) -> bool:
        """True once the run is in a terminal state (success or failed)."""
        return self.state in TERMINAL_RUN_STATES

    @property
    def duration(self) -> float | None:
        """Seconds from start to end; None while it runs or if it never started."""
        if self.start and self.end:
            return (self.end - self.start).total_seconds()
        return None


def task_run_from_api(ti: Any) -> TaskRun:
    """A task instance (or one try of it) as the API returns it."""
    return TaskRun(
        task_id=ti.task_id,
        map_index=ti.map_index,
        state=ti.state.value if ti.state is not None else None,
        try_number=ti.try_number,
        start=ti.start_date,
        end=ti.end_date,
        duration=ti.duration,
        operator=ti.operator,
        hostname=getattr(ti, "hostname", None) or None,
    )


def dag_run_from_api(run: Any) -> DagRun:
    """A DAG run as the API returns it."""
    return DagRun(
        dag_id=run.dag_id,
        run_id=run.dag_run_id,
        state=run.state.value if hasattr(run.state, "value") else str(run.state),
        start=run.start_date,
        end=run.end_date,
        conf=run.conf or {},
    )

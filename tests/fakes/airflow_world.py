"""The fake Airflow's world (DAGs, runs, task instances, import errors, recorded calls and
programmed faults) and its JSON, shaped as Airflow 3's REST API answers it (the fields the
client's generated pydantic models require). Used by ``tests/fakes/airflow_api.py``."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

DEFAULT_BUNDLE = "kit"  # the kit's git bundle (kit.bundle): files are dags/<name>.py in it


def now() -> datetime:
    return datetime.now(UTC)


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass
class Call:
    """One request the fake received, and the status it answered (None: connection closed)."""

    method: str
    path: str  # decoded, without the query
    query: dict[str, list[str]]
    body: Any
    status: int | None = None


@dataclass
class Fault:
    """What the next ``times`` requests matching ``method`` and ``prefix`` get instead."""

    method: str
    prefix: str
    times: int
    kind: Literal["error", "drop", "delay"]
    after: bool = False  # do the request's work first, then fail: the answer is lost
    seconds: float = 0.0


@dataclass
class FakeDag:
    dag_id: str
    relative_fileloc: str
    file_token: str
    is_paused: bool = True
    bundle_name: str = DEFAULT_BUNDLE
    last_parsed_time: datetime | None = None
    has_import_errors: bool = False
    bundle_version: str | None = None  # the bundle commit of its last parse
    task_ids: tuple[str, ...] = ("extract", "load")
    downstream: dict[str, tuple[str, ...]] = field(default_factory=dict)  # task -> its downstream
    mapped: frozenset[str] = frozenset()


@dataclass
class FakeTask:
    task_id: str
    state: str | None = None
    map_index: int = -1
    try_number: int = 0
    start: datetime | None = None
    end: datetime | None = None
    ti_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log: list[dict[str, Any]] = field(default_factory=list)  # structured lines, as Airflow 3's
    result: Any = None  # its return value (XCom "return_value"); None: it pushed none


@dataclass
class FakeRun:
    dag_id: str
    run_id: str
    state: str = "queued"
    conf: dict = field(default_factory=dict)
    run_after: datetime = field(default_factory=now)
    start: datetime | None = None
    end: datetime | None = None
    tasks: list[FakeTask] = field(default_factory=list)


@dataclass
class FakeImportError:
    import_error_id: int
    filename: str
    stack_trace: str
    timestamp: datetime = field(default_factory=now)
    bundle_name: str = DEFAULT_BUNDLE


def dag_json(dag: FakeDag) -> dict[str, Any]:
    return {
        "dag_id": dag.dag_id,
        "dag_display_name": dag.dag_id,
        "bundle_name": dag.bundle_name,
        "bundle_version": dag.bundle_version,
        "description": None,
        "file_token": dag.file_token,
        "fileloc": f"/opt/airflow/bundles/kit/versions/x/{dag.relative_fileloc}",
        "relative_fileloc": dag.relative_fileloc,
        "has_import_errors": dag.has_import_errors,
        "has_task_concurrency_limits": False,
        "is_backfillable": False,
        "is_paused": dag.is_paused,
        "is_stale": False,
        "last_parsed_time": iso(dag.last_parsed_time),
        "last_parse_duration": 0.05,
        "last_expired": None,
        "max_active_runs": 16,
        "max_active_tasks": 16,
        "max_consecutive_failed_dag_runs": 0,
        "next_dagrun_data_interval_end": None,
        "next_dagrun_data_interval_start": None,
        "next_dagrun_logical_date": None,
        "next_dagrun_run_after": None,
        "owners": ["airflow"],
        "tags": [{"name": "fake", "dag_id": dag.dag_id, "dag_display_name": dag.dag_id}],
        "timetable_description": "Never, external triggers only",
        "timetable_partitioned": False,
        "timetable_periodic": False,
        "timetable_summary": None,
    }


def run_json(run: FakeRun) -> dict[str, Any]:
    duration = (run.end - run.start).total_seconds() if run.start and run.end else None
    return {
        "dag_id": run.dag_id,
        "dag_display_name": run.dag_id,
        "dag_run_id": run.run_id,
        "dag_versions": [],
        "conf": run.conf,
        "state": run.state,
        "run_type": "manual",
        "run_after": iso(run.run_after),
        "queued_at": iso(run.run_after),
        "start_date": iso(run.start),
        "end_date": iso(run.end),
        "duration": duration,
        "logical_date": None,
        "data_interval_start": None,
        "data_interval_end": None,
        "triggered_by": "rest_api",
        "triggering_user_name": "admin",
        "note": None,
    }


def task_json(dag: FakeDag, task_id: str) -> dict[str, Any]:
    """A task of a DAG as GET /dags/{dag_id}/tasks lists it."""
    return {
        "task_id": task_id,
        "task_display_name": task_id,
        "operator_name": "@task",
        "is_mapped": task_id in dag.mapped,
        "downstream_task_ids": list(dag.downstream.get(task_id, ())),
        "depends_on_past": False,
        "wait_for_downstream": False,
        "retry_exponential_backoff": 0,
        "extra_links": [],
    }


def xcom_json(run: FakeRun, task: FakeTask, key: str) -> dict[str, Any]:
    return {
        "key": key,
        "value": task.result,
        "dag_id": run.dag_id,
        "dag_display_name": run.dag_id,
        "run_id": run.run_id,
        "task_id": task.task_id,
        "task_display_name": task.task_id,
        "map_index": task.map_index,
        "run_after": iso(run.run_after),
        "timestamp": iso(task.end or now()),
        "logical_date": None,
    }


def ti_json(run: FakeRun, task: FakeTask) -> dict[str, Any]:
    duration = (task.end - task.start).total_seconds() if task.start and task.end else None
    return {
        "id": task.ti_id,
        "task_id": task.task_id,
        "task_display_name": task.task_id,
        "dag_id": run.dag_id,
        "dag_display_name": run.dag_id,
        "dag_run_id": run.run_id,
        "map_index": task.map_index,
        "try_number": task.try_number,
        "max_tries": 0,
        "state": task.state,
        "start_date": iso(task.start),
        "end_date": iso(task.end),
        "duration": duration,
        "executor_config": "{}",
        "pool": "default_pool",
        "pool_slots": 1,
        "run_after": iso(run.run_after),
        "operator": "_PythonDecoratedOperator",
        "operator_name": "@task",
    }

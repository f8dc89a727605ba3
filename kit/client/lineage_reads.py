"""The Airflow reads behind ``kit lineage``: one task try with the DAG version it ran, and one DAG
run with the bundle version it pinned. Plain dicts, None when Airflow has no such record."""

from __future__ import annotations

from typing import Any

import airflow_client.client as af
from airflow_client.client.exceptions import ApiException

from kit.client.airflow import AirflowClient


def _or_none(read: Any) -> Any:
    """The answer of ``read()``, None on HTTP 404 (deleted, cleaned from the database)."""
    try:
        return read()
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise


def task_try(
    client: AirflowClient, dag_id: str, run_id: str, task_id: str, map_index: int, try_number: int
) -> dict[str, Any] | None:
    """``GET .../taskInstances/{task}[/{map}]/tries/{n}``: state, host and the DAG version the
    try ran (id, number, bundle name/version/url, created_at)."""

    def read() -> Any:
        if map_index >= 0:
            return client._call(  # noqa: SLF001 - the client's own retrying, token-renewing call
                lambda c: af.TaskInstanceApi(c).get_mapped_task_instance_try_details,
                dag_id,
                run_id,
                task_id,
                try_number,
                map_index,
            )
        return client._call(  # noqa: SLF001
            lambda c: af.TaskInstanceApi(c).get_task_instance_try_details,
            dag_id,
            run_id,
            task_id,
            try_number,
        )

    found = _or_none(read)
    if found is None:
        return None
    version = found.dag_version
    return {
        "state": str(found.state.value if found.state is not None else None),
        "hostname": found.hostname or "",
        "dag_version": None
        if version is None
        else {
            "id": str(version.id),
            "version_number": version.version_number,
            "bundle_name": version.bundle_name or "",
            "bundle_version": version.bundle_version or "",
            "bundle_url": version.bundle_url or "",
            "created_at": version.created_at.isoformat() if version.created_at else "",
        },
    }


def dag_run(client: AirflowClient, dag_id: str, run_id: str) -> dict[str, Any] | None:
    """``GET /api/v2/dags/{dag}/dagRuns/{run}``: its state, the bundle version it pinned (the
    commit its tasks ran), how it was started and by whom."""
    found = _or_none(
        lambda: client._call(  # noqa: SLF001
            lambda c: af.DagRunApi(c).get_dag_run, dag_id, run_id
        )
    )
    if found is None:
        return None
    return {
        "state": str(found.state.value),
        "bundle_version": found.bundle_version or "",
        "run_type": str(found.run_type.value),
        "triggering_user_name": found.triggering_user_name or "",
    }

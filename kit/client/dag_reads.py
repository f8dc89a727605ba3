"""Any DAG Airflow knows, as Airflow parsed it: its structure (``kit.dagview``) read through the
REST API, for the designer's read-only canvas.

Tasks, operators, mapped flags and links come from the public ``GET /api/v2/dags/{id}/tasks``.
That list has no task groups; Airflow's own graph view reads them from the UI's structure route
(``GET /ui/structure/structure_data?dag_id=``, airflow/api_fastapi/core_api/routes/ui/structure.py,
not in the published API schema), so it is asked too. If it does not answer (a later Airflow may
move it), the groups are read from the task ids' dotted prefixes instead.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import airflow_client.client as af
from airflow_client.client.exceptions import ApiException

from kit.client.airflow import AirflowClient
from kit.client.errors import AuthFailed, Forbidden
from kit.dagview.model import DagStructure, from_api_tasks

STRUCTURE_PATH = "/ui/structure/structure_data"


def dag_task_rows(client: AirflowClient, dag_id: str) -> list[dict[str, Any]]:
    """``GET /api/v2/dags/{id}/tasks``: each task's id, operator name, class, mapped flag and
    downstream ids, as plain dicts."""
    page = client._call(lambda c: af.TaskApi(c).get_tasks, dag_id)  # noqa: SLF001
    return [
        {
            "task_id": task.task_id,
            "operator_name": task.operator_name,
            "class_ref": dict(task.class_ref or {}),
            "is_mapped": bool(task.is_mapped),
            "downstream_task_ids": list(task.downstream_task_ids or []),
        }
        for task in page.tasks
        if task.task_id
    ]


def structure_nodes(client: AirflowClient, dag_id: str) -> list[dict[str, Any]] | None:
    """The UI structure route's nested nodes (task groups with their children); None when the
    route does not answer (not found, or another Airflow): the caller falls back."""

    def raw(api: af.ApiClient) -> Callable[..., Any]:
        def call(*, _request_timeout: Any = None) -> Any:
            request = api.param_serialize(
                method="GET",
                resource_path=STRUCTURE_PATH,
                query_params=[("dag_id", dag_id)],
                header_params={"Accept": "application/json"},
                auth_settings=["OAuth2PasswordBearer", "HTTPBearer"],
            )
            resp = api.call_api(*request, _request_timeout=_request_timeout)
            resp.read()
            if resp.status >= 400:  # through _call's handling: token renewal, 5xx retries
                raise ApiException(http_resp=resp)
            return resp

        return call

    try:
        resp = client._call(raw)  # noqa: SLF001 - the client's own retrying, token-renewing call
        nodes = json.loads(resp.data)["nodes"]
    except (AuthFailed, Forbidden):
        raise
    except (ApiException, ValueError, KeyError, TypeError):
        return None
    return nodes if isinstance(nodes, list) else None


def dag_structure(client: AirflowClient, dag_id: str) -> DagStructure:
    """The structure of a DAG Airflow has loaded, by its id (``fileloc`` as the API server has
    it: a path inside its copy of the bundle). DagNotFound (naming the known DAGs) or
    DagImportError when Airflow has not loaded it."""
    dag = client.get_dag(dag_id)
    rows = dag_task_rows(client, dag_id)
    fileloc = getattr(dag, "fileloc", None)
    return from_api_tasks(dag_id, rows, fileloc=fileloc, structure=structure_nodes(client, dag_id))

"""Airflow's own example DAGs, loaded once per session by Airflow's loader (DagBag), and what
its REST API answers for them, made in-process by Airflow's own serializers (no stack)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kit.preview.graph import load_dag_file


def example_file(name: str) -> Path:
    """An example DAG file shipped with Airflow (core examples, else the standard provider's)."""
    import airflow.example_dags
    import airflow.providers.standard.example_dags

    for package in (airflow.example_dags, airflow.providers.standard.example_dags):
        path = Path(package.__file__).parent / name
        if path.is_file():
            return path
    raise FileNotFoundError(name)


EXAMPLES = ("example_task_group.py", "example_dynamic_task_mapping.py", "example_bash_operator.py")


@pytest.fixture(scope="session")
def example_dags() -> dict[str, Any]:
    """Every DAG of the example files, by dag_id."""
    return {dag.dag_id: dag for name in EXAMPLES for dag in load_dag_file(example_file(name))}


def api_answers(dag: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """What the API server answers for ``dag``: the rows of ``GET /api/v2/dags/{id}/tasks``
    (Airflow's TaskResponse of each serialized task) and the UI structure route's nodes
    (Airflow's task_group_to_dict), built from the DAG as the API server holds it (serialized
    and read back)."""
    from airflow.api_fastapi.core_api.datamodels.tasks import TaskResponse
    from airflow.api_fastapi.core_api.services.ui.task_group import task_group_to_dict
    from airflow.serialization.serialized_objects import DagSerialization

    served = DagSerialization.from_dict(DagSerialization.to_dict(dag))
    rows = [json.loads(TaskResponse.model_validate(t).model_dump_json()) for t in served.tasks]
    groups = served.task_group.get_task_group_dict()
    nodes = [
        task_group_to_dict(child, group_dict=groups)
        for child in served.task_group.topological_sort(group_dict=groups)
    ]
    return rows, nodes

"""A DAG's structure as Airflow parsed it (pure): tasks with their operator classes, links, task
groups and mapped tasks, from a DAG object or from the REST API's task list."""

from kit.dagview.model import (
    DagStructure,
    TaskNode,
    from_api_tasks,
    from_dag,
    groups_from_structure,
    task_lines,
)

__all__ = [
    "DagStructure",
    "TaskNode",
    "from_api_tasks",
    "from_dag",
    "groups_from_structure",
    "task_lines",
]

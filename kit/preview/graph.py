"""A read-only task graph for previews, from a spec or from any DAG file (via Airflow's loader)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kit.spec.graph import topological_order
from kit.spec.model import PipelineSpec


@dataclass(frozen=True)
class Node:
    """A task in the picture: its id, its kind or operator, whether it is mapped."""

    id: str
    kind: str  # spec kind ("notebook") or operator type ("BashOperator", "@task")
    mapped: bool = False  # expanded at run time (dynamic task mapping)
    group: str | None = None  # the task group drawn around it (a DAG's TaskGroup), if any
    label: str | None = None  # what the box says, when not the id (a task's id in its group)


@dataclass(frozen=True)
class TaskGraph:
    """Tasks and ``(upstream, downstream)`` edges; immutable."""

    dag_id: str
    nodes: tuple[Node, ...]
    edges: tuple[tuple[str, str], ...]
    # Task groups drawn as nested boxes: (group id, parent group id or None, label), parents first.
    groups: tuple[tuple[str, str | None, str], ...] = ()

    def node(self, node_id: str) -> Node:
        """The node with this id; KeyError if there is none."""
        for node in self.nodes:
            if node.id == node_id:
                return node
        raise KeyError(node_id)


class DagFileError(Exception):
    """Airflow could not import the DAG file; ``error`` is its import error text."""

    def __init__(self, path: Path, error: str) -> None:
        self.path = path
        self.error = error
        super().__init__(f"{path}: Airflow could not import it:\n{error}")


def graph_from_spec(spec: PipelineSpec) -> TaskGraph:
    """The graph a spec describes (its tasks in dependency order; unknown upstream ids dropped)."""
    known = set(spec.task_ids)
    by_id = {task.id: task for task in spec.tasks}
    try:
        order = topological_order(spec)
    except Exception:  # noqa: BLE001 - a cyclic draft still previews, in spec order
        order = list(by_id)
    nodes = tuple(Node(tid, by_id[tid].kind, by_id[tid].fan_out is not None) for tid in order)
    edges = tuple((up, down) for up, down in spec.edges() if up in known and up != down)
    return TaskGraph(spec.dag_id, nodes, tuple(dict.fromkeys(edges)))


def graph_from_dag(dag: Any) -> TaskGraph:
    """The graph of a loaded Airflow DAG: operator types, mapped tasks, edges (sorted, stable)."""
    tasks = sorted(dag.tasks, key=lambda t: t.task_id)
    nodes = tuple(
        Node(task.task_id, _operator_name(task), bool(getattr(task, "is_mapped", False)))
        for task in tasks
    )
    edges = tuple((up, task.task_id) for task in tasks for up in sorted(task.upstream_task_ids))
    return TaskGraph(dag.dag_id, nodes, edges)


def _operator_name(task: Any) -> str:
    # ``operator_name`` is "@task" for TaskFlow tasks; ``task_type`` the class name otherwise.
    return str(
        getattr(task, "operator_name", None) or getattr(task, "task_type", type(task).__name__)
    )


def load_dag_file(path: str | Path) -> list[Any]:
    """Import one DAG file through Airflow's own loader (DagBag); its DAGs, sorted by dag_id.

    Raises FileNotFoundError, or DagFileError with Airflow's import error.
    """
    path = Path(path).resolve()
    if not path.is_file():
        raise FileNotFoundError(path)
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    from airflow.dag_processing.dagbag import DagBag  # heavy: only when previewing a DAG file

    bag = DagBag(dag_folder=str(path), safe_mode=False, load_op_links=False)
    if bag.import_errors:
        raise DagFileError(path, "\n".join(bag.import_errors.values()))
    return [bag.dags[dag_id] for dag_id in sorted(bag.dags)]


def graphs_from_dag_file(path: str | Path) -> list[TaskGraph]:
    """One read-only graph per DAG the file defines."""
    return [graph_from_dag(dag) for dag in load_dag_file(path)]

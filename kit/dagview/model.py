"""A DAG's structure as Airflow parsed it: the one pure model the canvas and ``kit import`` read.

Built from an in-process DAG object (``from_dag``: a DagBag's DAG, an ``airflow.sdk`` DAG) or from
what the REST API answers (``from_api_tasks``: ``GET /api/v2/dags/{id}/tasks``, plus the task
groups of the UI's structure route when it answers, else the groups read from task ids' dotted
prefixes). No I/O here but reading a DAG file's source for line numbers (``from_dag``), and no
Airflow import: the objects are read by their attributes.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "DagStructure",
    "TaskNode",
    "from_api_tasks",
    "from_dag",
    "groups_from_structure",
    "task_lines",
]


@dataclass(frozen=True)
class TaskNode:
    """One task as Airflow parsed it.

    ``operator`` is the operator's class name as Airflow records it (``task_type``; the REST API's
    ``class_ref.class_name``), e.g. ``BashOperator`` or ``_PythonDecoratedOperator`` for ``@task``.
    ``is_mapped`` is True for a task that runs as map-indexed instances: mapped itself (``expand``)
    or inside a mapped task group. ``lineno`` is where the file creates it, when found.
    ``operator_name`` (an addition to the shared contract, defaulted) is what Airflow's UI shows
    when it differs from the class name: ``@task`` for TaskFlow tasks.
    """

    task_id: str
    operator: str
    group_id: str | None
    is_mapped: bool
    lineno: int | None
    operator_name: str = ""

    @property
    def label(self) -> str:
        """The id within its group (``section_1.task_1`` -> ``task_1``), as Airflow draws it."""
        prefix = f"{self.group_id}."
        if self.group_id and self.task_id.startswith(prefix):
            return self.task_id[len(prefix) :]
        return self.task_id

    @property
    def shown_operator(self) -> str:
        """The operator as a person knows it: ``@task`` for TaskFlow tasks, else the class."""
        return self.operator_name or self.operator


@dataclass(frozen=True)
class DagStructure:
    """A DAG's tasks, its ``(upstream, downstream)`` links (sorted) and its task groups,
    ``{group_id: parent_group_id or None}`` (nested groups' ids are dotted, as Airflow's)."""

    dag_id: str
    fileloc: str | None
    tasks: list[TaskNode]
    edges: list[tuple[str, str]]
    groups: dict[str, str | None]

    def task(self, task_id: str) -> TaskNode:
        """The task with this id; KeyError naming the known ones if there is none."""
        for task in self.tasks:
            if task.task_id == task_id:
                return task
        known = ", ".join(t.task_id for t in self.tasks)
        raise KeyError(f"{self.dag_id} has no task {task_id!r}; its tasks: {known}")

    def ancestors(self, group_id: str | None) -> list[str]:
        """A group and the groups around it, innermost first ([] for the DAG itself)."""
        chain: list[str] = []
        while group_id is not None and group_id not in chain:
            chain.append(group_id)
            group_id = self.groups.get(group_id)
        return chain

    def group_label(self, group_id: str) -> str:
        """A group's id within its parent (``section_2.inner_section_2`` -> ``inner_section_2``)."""
        parent = self.groups.get(group_id)
        if parent and group_id.startswith(f"{parent}."):
            return group_id[len(parent) + 1 :]
        return group_id


# -- from a DAG object --------------------------------------------------------------------------


def from_dag(dag: Any, *, source: str | None = None) -> DagStructure:
    """The structure of a loaded DAG (tasks in the order the file made them).

    ``source`` is the DAG file's text, for line numbers; read from ``dag.fileloc`` when omitted
    (no line numbers if it cannot be read).
    """
    fileloc = getattr(dag, "fileloc", None)
    if source is None and fileloc:
        try:
            source = Path(fileloc).read_text(encoding="utf-8")
        except OSError:
            source = None
    lines = task_lines(source) if source else {}
    group_dict = dag.task_group.get_task_group_dict()
    groups: dict[str, str | None] = {}
    mapped_groups: set[str] = set()
    for group_id, group in group_dict.items():
        if group_id is None:
            continue  # the DAG's root group
        parent = getattr(group, "parent_group", None)
        groups[group_id] = getattr(parent, "group_id", None) if parent is not None else None
        if _is_mapped_group(group):
            mapped_groups.add(group_id)

    tasks: list[TaskNode] = []
    edges: list[tuple[str, str]] = []
    for task in dag.tasks:
        group_id = getattr(task.task_group, "group_id", None) if task.task_group else None
        in_mapped = any(g in mapped_groups for g in _chain(groups, group_id))
        label = getattr(task, "label", task.task_id)
        found = lines.get(label)
        operator = str(task.task_type)
        name = str(getattr(task, "operator_name", "") or "")
        tasks.append(
            TaskNode(
                task_id=task.task_id,
                operator=operator,
                group_id=group_id,
                is_mapped=bool(getattr(task, "is_mapped", False)) or in_mapped,
                lineno=found.pop(0) if found else None,  # same ids in two groups: file order
                operator_name=name if name != operator else "",
            )
        )
        edges.extend((task.task_id, down) for down in task.downstream_task_ids)
    return DagStructure(dag.dag_id, fileloc, tasks, sorted(set(edges)), groups)


def _is_mapped_group(group: Any) -> bool:
    # MappedTaskGroup (airflow.sdk) and its serialized twin; read by name: no Airflow import here.
    return any("MappedTaskGroup" in cls.__name__ for cls in type(group).__mro__)


def _chain(groups: Mapping[str, str | None], group_id: str | None) -> list[str]:
    chain: list[str] = []
    while group_id is not None and group_id not in chain:
        chain.append(group_id)
        group_id = groups.get(group_id)
    return chain


def task_lines(source: str) -> dict[str, list[int]]:
    """Where a DAG file makes its tasks: ``{task id as written: [line, ...]}`` in file order.

    Found: a call with a literal ``task_id="..."`` (an operator), and a function decorated with
    ``@task``/``@task.<x>`` (its name, or the decorator's ``task_id``). A task id written twice
    (the same id in two groups) has both lines. A file that does not parse gives ``{}``.
    """
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return {}
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for keyword in node.keywords:
                value = keyword.value
                if (
                    keyword.arg == "task_id"
                    and isinstance(value, ast.Constant)
                    and isinstance(value.value, str)
                    and not _is_task_decorator(node.func)
                ):
                    found.append((node.lineno, value.value))
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for decorator in node.decorator_list:
                if _is_task_decorator(decorator):
                    found.append((node.lineno, _decorated_task_id(decorator) or node.name))
                    break
    lines: dict[str, list[int]] = {}
    for lineno, task_id in sorted(found):
        lines.setdefault(task_id, []).append(lineno)
    return lines


def _is_task_decorator(node: ast.expr) -> bool:
    """``task``, ``task.bash``, ``task(...)``, ``task.python(...)`` (not ``task_group``)."""
    if isinstance(node, ast.Call):
        node = node.func
    while isinstance(node, ast.Attribute):
        if isinstance(node.value, ast.Name) and node.value.id == "task":
            return True
        node = node.value
    return isinstance(node, ast.Name) and node.id == "task"


def _decorated_task_id(decorator: ast.expr) -> str | None:
    if isinstance(decorator, ast.Call):
        for keyword in decorator.keywords:
            if keyword.arg == "task_id" and isinstance(keyword.value, ast.Constant):
                return str(keyword.value.value)
    return None


# -- from the REST API ----------------------------------------------------------------------------


def groups_from_structure(
    nodes: Iterable[Mapping[str, Any]],
) -> tuple[dict[str, str | None], dict[str, str | None], set[str]]:
    """Read the UI structure route's nested nodes (``GET /ui/structure/structure_data``):
    ``(groups {group: parent}, {task: its group}, tasks marked mapped)``.

    A node with ``children`` is a group; ``join`` nodes (Airflow's edge bundling) and nodes of
    other types (assets, other DAGs) are not tasks. Airflow marks a task inside a mapped group
    mapped itself.
    """
    groups: dict[str, str | None] = {}
    task_group: dict[str, str | None] = {}
    mapped: set[str] = set()

    def walk(items: Iterable[Mapping[str, Any]], parent: str | None) -> None:
        for node in items:
            node_id = str(node.get("id", ""))
            if node.get("children") is not None:
                groups[node_id] = parent
                walk(node["children"], node_id)
            elif node.get("type") == "task" and node_id:
                task_group[node_id] = parent
                if node.get("is_mapped"):
                    mapped.add(node_id)

    walk(nodes, None)
    return groups, task_group, mapped


Groups = dict[str, str | None]


def _groups_from_ids(task_ids: Iterable[str]) -> tuple[Groups, Groups]:
    """Groups read from dotted task ids (``a.b.t``: task t in group a.b inside a); a guess used
    only when the structure route does not answer (a dotted id outside any group misreads)."""
    groups: dict[str, str | None] = {}
    task_group: dict[str, str | None] = {}
    for task_id in task_ids:
        parts = task_id.split(".")
        parent: str | None = None
        for depth in range(1, len(parts)):
            group_id = ".".join(parts[:depth])
            groups.setdefault(group_id, parent)
            parent = group_id
        task_group[task_id] = parent
    return groups, task_group


def from_api_tasks(
    dag_id: str,
    tasks: Iterable[Mapping[str, Any]],
    *,
    fileloc: str | None = None,
    structure: Iterable[Mapping[str, Any]] | None = None,
) -> DagStructure:
    """The structure from the REST API's task list: each row as ``GET /api/v2/dags/{id}/tasks``
    answers it (``task_id``, ``operator_name``, ``class_ref``, ``is_mapped``,
    ``downstream_task_ids``).

    The task list has no task groups: they come from ``structure`` (the UI structure route's
    ``nodes``) when given, else from the task ids' dotted prefixes. No line numbers: the API
    server's copy of the file is not read here.
    """
    rows = [row for row in tasks if row.get("task_id")]
    ids = [str(row["task_id"]) for row in rows]
    mapped_by_structure: set[str] = set()
    if structure is not None:
        groups, task_group, mapped_by_structure = groups_from_structure(structure)
    else:
        groups, task_group = _groups_from_ids(ids)
    known = set(ids)
    nodes: list[TaskNode] = []
    edges: set[tuple[str, str]] = set()
    for row, task_id in zip(rows, ids, strict=True):
        class_ref = row.get("class_ref") or {}
        name = str(row.get("operator_name") or "")
        operator = str(class_ref.get("class_name") or name or "task")
        nodes.append(
            TaskNode(
                task_id=task_id,
                operator=operator,
                group_id=task_group.get(task_id),
                is_mapped=bool(row.get("is_mapped")) or task_id in mapped_by_structure,
                lineno=None,
                operator_name=name if name != operator else "",
            )
        )
        edges.update(
            (task_id, str(down)) for down in row.get("downstream_task_ids") or () if down in known
        )
    return DagStructure(dag_id, fileloc, nodes, sorted(edges), groups)

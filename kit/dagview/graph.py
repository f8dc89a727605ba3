"""A ``DagStructure`` as the preview's ``TaskGraph``: what the canvas, the picture and the run view
draw (pure)."""

from __future__ import annotations

from kit.dagview.model import DagStructure
from kit.preview.graph import Node, TaskGraph


def structure_graph(structure: DagStructure) -> TaskGraph:
    """Each task as a box saying its id within its group and its operator (``@task`` for
    TaskFlow), mapped tasks marked, inside its task group; groups listed parents first."""
    nodes = tuple(
        Node(
            task.task_id,
            task.shown_operator,
            task.is_mapped,
            group=task.group_id,
            label=task.label if task.label != task.task_id else None,
        )
        for task in structure.tasks
    )
    depth = {group_id: len(structure.ancestors(group_id)) for group_id in structure.groups}
    groups = tuple(
        (group_id, structure.groups[group_id], structure.group_label(group_id))
        for group_id in sorted(structure.groups, key=lambda g: (depth[g], g))
    )
    return TaskGraph(structure.dag_id, nodes, tuple(structure.edges), groups)

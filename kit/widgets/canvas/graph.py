"""What the pipeline canvas draws, as JSON (pure: no widget, no kernel).

The canvas is a view: it gets task ids, labels, kinds, links, optional stored positions, the
problems of invalid tasks and, in the run view, task states, and turns them into one JSON-ready
dict. Positions come from the preview's Graphviz ``dot`` layout (``kit.preview.layout``), except
where a position was stored by hand (the spec's optional ``layout`` section), which wins.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kit.preview.graph import Node, TaskGraph
from kit.preview.layout import NODE_HEIGHT, POINTS, Layout, layout, layout_key, node_width
from kit.preview.svg import COLOURS, DEFAULT_COLOUR
from kit.widgets.runview import INVALID_STYLE, state_style

# Intents the canvas sends, with the fields each carries (name -> type). "select" with an empty
# task clears the selection.
INTENT_FIELDS: dict[str, dict[str, type | tuple[type, ...]]] = {
    "add_link": {"source": str, "target": str},
    "remove_link": {"source": str, "target": str},
    "select": {"task": str},
    "move": {"task": str, "x": (int, float), "y": (int, float)},
    "delete": {"task": str},
    "duplicate": {"task": str},
    "rename": {"task": str, "new_id": str},
    "add_task": {"kind": str},
    "undo": {},
    "redo": {},
    "auto_layout": {},
    "open_log": {"task": str},
}
OPTIONAL_FIELDS: dict[str, dict[str, type | tuple[type, ...]]] = {
    "add_task": {"notebook": str},
}
# What a person may still do on the run view's canvas: look, and open a task's log.
RUN_MODE_INTENTS = frozenset({"select", "open_log"})
MODES = ("edit", "run")
BUILTIN_KINDS = ("notebook", "python", "bash")

_LAYOUT_CACHE_SIZE = 8
_layouts: OrderedDict[tuple[object, ...], Layout] = OrderedDict()


@dataclass(frozen=True)
class CanvasTask:
    """One node to draw: ``label`` defaults to the id, ``mapped`` stacks the box (fan-out),
    ``group`` is the task group drawn around it (a DAG's TaskGroup)."""

    id: str
    kind: str
    label: str | None = None
    mapped: bool = False
    group: str | None = None


@dataclass(frozen=True)
class Intent:
    """A person's request from the canvas, checked: ``name`` and its fields in ``args``."""

    name: str
    args: dict[str, Any]


class IntentError(ValueError):
    """A message from the front end that is not a well-formed intent."""


def cached_layout(graph: TaskGraph) -> Layout:
    """``kit.preview.layout.layout`` with a small cache keyed by task ids and links: moving,
    selecting or marking tasks redraws without running ``dot`` again."""
    key = layout_key(graph)
    found = _layouts.get(key)
    if found is None:
        found = _layouts[key] = layout(graph)
        if len(_layouts) > _LAYOUT_CACHE_SIZE:
            _layouts.popitem(last=False)
    else:
        _layouts.move_to_end(key)
    return found


def canvas_graph(
    tasks: Sequence[CanvasTask],
    links: Iterable[tuple[str, str]],
    *,
    positions: Mapping[str, Any] | None = None,
    problems: Mapping[str, str | Sequence[str]] | None = None,
    states: Mapping[str, str | None] | None = None,
    layout_fn: Callable[[TaskGraph], Layout] = cached_layout,
    groups: Sequence[tuple[str, str | None, str]] = (),
) -> dict[str, Any]:
    """The JSON the canvas draws.

    ``positions`` are box centres in points (y down), as stored in the spec's ``layout``
    section: ``(x, y)``, ``{"x": .., "y": ..}`` or an object with ``x`` and ``y``; a task
    without one (or with a malformed one) is placed by ``dot``, which does not run at all when
    every task has a stored position. Links to unknown tasks and self-links are dropped. Edges whose
    ends both sit where ``dot`` put them carry dot's spline (``points``); the others carry no
    points and the front end draws a curve between the boxes. ``groups`` (``(id, parent, label)``,
    parents first) are drawn as boxes around their tasks, outermost first (``"groups"``).
    """
    positions = positions or {}
    problems = problems or {}
    states = states or {}
    ids = [task.id for task in tasks]
    if len(set(ids)) != len(ids):
        dupes = sorted({tid for tid in ids if ids.count(tid) > 1})
        raise ValueError(f"task ids must be unique: {', '.join(dupes)}")
    known = set(ids)
    edges = tuple(
        dict.fromkeys(
            (up, down) for up, down in links if up in known and down in known and up != down
        )
    )
    graph = TaskGraph(
        "",
        tuple(Node(t.id, t.kind, t.mapped, t.group, t.label) for t in tasks),
        edges,
        tuple(groups),
    )
    stored = {tid: xy for tid in ids if (xy := _coords(positions.get(tid))) is not None}
    free = [tid for tid in ids if tid not in stored]
    laid_out = layout_fn(graph) if free else None
    height = NODE_HEIGHT * POINTS

    nodes: list[dict[str, Any]] = []
    for task in tasks:
        pinned = task.id in stored
        box = laid_out.boxes.get(task.id) if laid_out is not None else None
        if pinned:
            x, y = stored[task.id]
        elif box is not None:
            x, y = box.x, box.y
        else:  # dot dropped it: should not happen, but a node must still be drawn
            x, y = 0.0, 0.0
        width = box.width if box is not None else node_width(task.label or task.id) * POINTS
        node: dict[str, Any] = {
            "id": task.id,
            "label": task.label if task.label is not None else task.id,
            "kind": task.kind,
            "mapped": task.mapped,
            "group": task.group,
            "x": round(x, 1),
            "y": round(y, 1),
            "w": round(width, 1),
            "h": round(box.height if box is not None else height, 1),
            "pinned": pinned,
            # The preview's colours by kind; a problem or a run state overrides them below.
            "fill": COLOURS.get(task.kind, DEFAULT_COLOUR),
            "stroke": "#444",
        }
        problem = problems.get(task.id)
        if problem:
            text = problem if isinstance(problem, str) else "\n".join(problem)
            node["problem"] = text
            node["fill"], node["stroke"] = INVALID_STYLE.fill, INVALID_STYLE.stroke
        if task.id in states:
            style = state_style(states[task.id])
            node["state"] = style.label.replace(" ", "_")
            node["state_label"] = style.label
            node["fill"], node["stroke"] = style.fill, style.stroke
        nodes.append(node)

    by_id = {node["id"]: node for node in nodes}
    out_edges: list[dict[str, Any]] = []
    for up, down in edges:
        points: list[list[float]] = []
        if laid_out is not None and not by_id[up]["pinned"] and not by_id[down]["pinned"]:
            route = laid_out.edges.get((up, down), ())
            points = [[round(px, 1), round(py, 1)] for px, py in route]
        out_edges.append({"id": edge_id(up, down), "source": up, "target": down, "points": points})

    drawn_groups = _group_boxes(groups, laid_out, nodes)
    width, bottom = _extent(nodes + drawn_groups)
    return {
        "nodes": nodes,
        "edges": out_edges,
        "groups": drawn_groups,
        "width": width,
        "height": bottom,
    }


def _group_boxes(
    groups: Sequence[tuple[str, str | None, str]],
    laid_out: Layout | None,
    nodes: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """The groups' boxes as drawn, outermost first (so inner ones are drawn over them), each with
    its depth; from dot's layout, else around the boxes as placed."""
    if not groups:
        return []
    from kit.preview.layout import Box, group_boxes

    if laid_out is not None and laid_out.groups and not any(n["pinned"] for n in nodes):
        found = laid_out.groups
    else:  # placed by hand: around the boxes where they are
        boxes = {n["id"]: Box(n["x"], n["y"], n["w"], n["h"]) for n in nodes}
        graph_nodes = tuple(Node(n["id"], n["kind"], group=n.get("group")) for n in nodes)
        found = group_boxes(TaskGraph("", graph_nodes, (), tuple(groups)), boxes)
    parents = {group_id: parent for group_id, parent, _label in groups}
    out: list[dict[str, Any]] = []
    for group_id, parent, label in groups:
        box = found.get(group_id)
        if box is None:
            continue
        depth, up = 0, parent
        while up is not None and depth < len(groups):
            depth, up = depth + 1, parents.get(up)
        out.append(
            {
                "id": group_id,
                "label": label,
                "parent": parent,
                "depth": depth,
                "x": round(box.x, 1),
                "y": round(box.y, 1),
                "w": round(box.width, 1),
                "h": round(box.height, 1),
            }
        )
    out.sort(key=lambda g: g["depth"])
    return out


def canvas_graph_from_spec(
    spec: Any,
    *,
    problems: Mapping[str, str | Sequence[str]] | None = None,
    states: Mapping[str, str | None] | None = None,
    layout_fn: Callable[[TaskGraph], Layout] = cached_layout,
) -> dict[str, Any]:
    """``canvas_graph`` of a ``PipelineSpec``: its tasks and links as the preview reads them
    (``kit.preview.graph_from_spec``), positions from its optional ``layout`` section."""
    from kit.preview.graph import graph_from_spec

    layout_section = getattr(spec, "layout", None)
    return canvas_graph_of(
        graph_from_spec(spec),
        positions=getattr(layout_section, "positions", None) or {},
        problems=problems,
        states=states,
        layout_fn=layout_fn,
    )


def canvas_graph_of(
    graph: TaskGraph,
    *,
    positions: Mapping[str, Any] | None = None,
    problems: Mapping[str, str | Sequence[str]] | None = None,
    states: Mapping[str, str | None] | None = None,
    layout_fn: Callable[[TaskGraph], Layout] = cached_layout,
) -> dict[str, Any]:
    """``canvas_graph`` of a preview ``TaskGraph`` (a draft's, or a DAG's as Airflow loaded it,
    with its task groups)."""
    tasks = [
        CanvasTask(node.id, node.kind, label=node.label, mapped=node.mapped, group=node.group)
        for node in graph.nodes
    ]
    return canvas_graph(
        tasks,
        graph.edges,
        positions=positions,
        problems=problems,
        states=states,
        layout_fn=layout_fn,
        groups=graph.groups,
    )


def edge_id(source: str, target: str) -> str:
    """The stable key of a link (``data-edge`` in the drawing)."""
    return f"{source}->{target}"


def _coords(value: object) -> tuple[float, float] | None:
    """``(x, y)`` of a stored position in any of its accepted shapes; None if malformed."""
    if isinstance(value, Mapping):
        pair: object = (value.get("x"), value.get("y"))
    elif hasattr(value, "x") and hasattr(value, "y"):
        pair = (value.x, value.y)  # type: ignore[attr-defined]
    else:
        pair = value
    if not isinstance(pair, Sequence) or isinstance(pair, str) or len(pair) != 2:
        return None
    if not all(
        isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        for value in pair
    ):
        return None
    return float(pair[0]), float(pair[1])


def _extent(nodes: list[dict[str, Any]]) -> tuple[float, float]:
    if not nodes:
        return 0.0, 0.0
    right = max(n["x"] + n["w"] / 2 for n in nodes)
    bottom = max(n["y"] + n["h"] / 2 for n in nodes)
    return round(right, 1), round(bottom, 1)


def parse_intent(content: object, *, mode: str = "edit") -> Intent:
    """Check a message from the front end (``{"intent": name, ...fields}``) and return it.

    Raises IntentError naming what is wrong: not a dict, an unknown intent, a missing or
    mistyped field, or an edit while the canvas is in run mode.
    """
    if not isinstance(content, Mapping):
        raise IntentError(f"a canvas message must be an object, not {type(content).__name__}")
    name = content.get("intent")
    if not isinstance(name, str) or name not in INTENT_FIELDS:
        known = ", ".join(sorted(INTENT_FIELDS))
        raise IntentError(f"unknown canvas intent {name!r}; known intents: {known}")
    if mode == "run" and name not in RUN_MODE_INTENTS:
        raise IntentError(f"{name} is not possible in run mode (the canvas is read-only)")
    args: dict[str, Any] = {}
    fields = [(f, t, True) for f, t in INTENT_FIELDS[name].items()]
    fields += [(f, t, False) for f, t in OPTIONAL_FIELDS.get(name, {}).items()]
    for field, kind, required in fields:
        if field not in content or content[field] is None:
            if required:
                raise IntentError(f"{name}: missing field {field!r}")
            continue
        value = content[field]
        if isinstance(value, bool) or not isinstance(value, kind):
            raise IntentError(
                f"{name}: field {field!r} must be {_type_name(kind)}, not {type(value).__name__}"
            )
        if isinstance(value, float) and not math.isfinite(value):
            raise IntentError(f"{name}: field {field!r} must be a finite number")
        args[field] = float(value) if kind == (int, float) else value
    for field in ("task", "source", "target", "new_id", "kind"):
        if field in args and not args[field].strip() and not (name == "select" and field == "task"):
            raise IntentError(f"{name}: field {field!r} is empty")
    return Intent(name, args)


def _type_name(kind: type | tuple[type, ...]) -> str:
    if kind == (int, float):
        return "a number"
    return "a string" if kind is str else f"a {getattr(kind, '__name__', kind)}"


def palette(
    project_dir: Path | str | None = None,
    *,
    notebooks: Iterable[str] | None = None,
    kinds: Iterable[str] | None = None,
) -> dict[str, Any]:
    """The canvas's add-task menu: the project's notebooks with their parameters (read as
    papermill reads them) and the registered kinds.

    ``notebooks`` (paths relative to ``project_dir``) defaults to every notebook of the project;
    a notebook that cannot be read is listed with its ``error``.
    """
    from kit.spec.kinds import kind_names
    from kit.spec.notebook_parameters import read_parameters

    root = Path(project_dir) if project_dir is not None else None
    if notebooks is None:
        notebooks = _project_notebooks(root) if root is not None else []
    entries: list[dict[str, Any]] = []
    for rel in notebooks:
        entry: dict[str, Any] = {"path": rel, "parameters": []}
        path = (root / rel) if root is not None else Path(rel)
        try:
            found = read_parameters(path)
        except (ValueError, OSError) as exc:
            entry["error"] = str(exc)
        else:
            entry["has_parameters_cell"] = found.has_cell
            entry["parameters"] = [
                # The default as written in the cell: what a person recognises.
                {
                    "name": parameter.name,
                    "type": parameter.type_name,
                    "default": parameter.default_source,
                    "help": parameter.help,
                }
                for parameter in found.parameters.values()
            ]
        entries.append(entry)
    return {"notebooks": entries, "kinds": sorted(kinds) if kinds is not None else kind_names()}


def _project_notebooks(root: Path) -> list[str]:
    # The designer's own listing (same skipped folders), so both menus agree.
    from kit.widgets.editors import project_notebooks

    return project_notebooks(root)

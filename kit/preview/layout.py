"""Layered left-to-right layout of a task graph, computed by Graphviz ``dot`` (Sugiyama-style)."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field

from kit.preview.graph import Node, TaskGraph

POINTS = 72.0  # dot's plain output is in inches; we draw in points
CHAR_WIDTH = 0.085  # inches per label character at the SVG's font size
NODE_HEIGHT = 0.42
GROUP_PAD = 8.0  # points around a task group's content (dot's cluster margin)
GROUP_LABEL = 16.0  # points above it for the group's name


class LayoutUnavailable(RuntimeError):
    """Graphviz is not installed."""


@dataclass(frozen=True)
class Box:
    """Where a task's box is drawn: its centre and size, in points."""

    x: float  # centre, points, y growing downwards
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Layout:
    """A laid-out graph: its size, a box per task and a route per edge."""

    width: float
    height: float
    boxes: dict[str, Box]
    edges: dict[tuple[str, str], tuple[tuple[float, float], ...]]  # cubic B-spline control points
    # Edges drawn as straight stand-ins until Graphviz has laid the graph out (provisional_layout).
    pending: frozenset[tuple[str, str]] = frozenset()
    # A box around each task group's tasks and inner groups (``group_boxes``).
    groups: dict[str, Box] = field(default_factory=dict)


def layout_key(graph: TaskGraph) -> tuple[object, ...]:
    """What a graph's layout depends on: its task ids, links and groups (not kinds or labels)."""
    return (
        tuple(node.id for node in graph.nodes),
        graph.edges,
        tuple(node.group for node in graph.nodes),
        graph.groups,
    )


def dot_source(graph: TaskGraph) -> str:
    """The DOT text given to Graphviz; nodes are ``n<index>`` so no task text needs quoting."""
    index = {node.id: i for i, node in enumerate(graph.nodes)}
    lines = [
        "digraph G {",
        "  graph [rankdir=LR, nodesep=0.18, ranksep=0.5, splines=spline, ordering=out];",
        f'  node [shape=box, fixedsize=true, height={NODE_HEIGHT}, label=""];',
    ]
    lines += _clusters(graph, index)
    for up, down in graph.edges:
        if up in index and down in index:
            lines.append(f"  n{index[up]} -> n{index[down]};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _clusters(graph: TaskGraph, index: dict[str, int]) -> list[str]:
    """The nodes' lines, each task inside nested ``subgraph cluster_<i>`` blocks for its groups:
    dot keeps a group's tasks together and leaves room for its name."""
    order = {group_id: i for i, (group_id, _parent, _label) in enumerate(graph.groups)}
    children: dict[str | None, list[str]] = {}
    for group_id, parent, _label in graph.groups:
        children.setdefault(parent if parent in order else None, []).append(group_id)
    labels = {group_id: label for group_id, _parent, label in graph.groups}
    members: dict[str | None, list[Node]] = {}
    for node in graph.nodes:
        members.setdefault(node.group if node.group in order else None, []).append(node)

    def block(group_id: str | None, indent: str) -> list[str]:
        out = [
            f"{indent}n{index[node.id]} [width={node_width(node.label or node.id):.3f}];"
            for node in members.get(group_id, [])
        ]
        for child in children.get(group_id, []):
            text = labels[child].replace("\\", "\\\\").replace('"', '\\"')
            out.append(f"{indent}subgraph cluster_{order[child]} {{")
            out.append(f'{indent}  label="{text}"; fontsize=11; margin={GROUP_PAD:.0f};')
            out += block(child, indent + "  ")
            out.append(f"{indent}}}")
        return out

    return block(None, "  ")


def group_boxes(graph: TaskGraph, boxes: dict[str, Box]) -> dict[str, Box]:
    """A box around each group's tasks and inner groups (pure), with room for its name above;
    a group with nothing laid out gets none."""
    if not graph.groups:
        return {}
    parents = {group_id: parent for group_id, parent, _label in graph.groups}

    def depth(group_id: str) -> int:
        seen: list[str] = []
        while group_id in parents and group_id not in seen:
            seen.append(group_id)
            group_id = parents[group_id]  # type: ignore[assignment]
        return len(seen)

    found: dict[str, Box] = {}
    for group_id in sorted(parents, key=depth, reverse=True):  # innermost first
        inside = [boxes[n.id] for n in graph.nodes if n.group == group_id and n.id in boxes]
        inside += [found[g] for g, parent in parents.items() if parent == group_id and g in found]
        if not inside:
            continue
        left = min(b.x - b.width / 2 for b in inside) - GROUP_PAD
        right = max(b.x + b.width / 2 for b in inside) + GROUP_PAD
        top = min(b.y - b.height / 2 for b in inside) - GROUP_PAD - GROUP_LABEL
        bottom = max(b.y + b.height / 2 for b in inside) + GROUP_PAD
        found[group_id] = Box((left + right) / 2, (top + bottom) / 2, right - left, bottom - top)
    return found


def node_width(label: str) -> float:
    """A box's width in inches (Graphviz's unit) for a label, wider up to 48 characters."""
    return max(1.0, 0.35 + CHAR_WIDTH * min(len(label), 48))


def dot_executable() -> str:
    """The path of Graphviz's ``dot``; LayoutUnavailable, saying how to install it."""
    found = shutil.which("dot")
    if found is None:
        raise LayoutUnavailable(
            "Graphviz 'dot' is not installed; install it (Debian: apt-get install graphviz)."
        )
    return found


def layout(graph: TaskGraph) -> Layout:
    """Positions of every task and the route of every edge; deterministic for a given graph."""
    if not graph.nodes:
        return Layout(0.0, 0.0, {}, {})
    done = subprocess.run(
        [dot_executable(), "-Tplain"],
        input=dot_source(graph),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"dot failed: {done.stderr.strip()}")
    return parse_plain(done.stdout, graph)


def parse_plain(text: str, graph: TaskGraph) -> Layout:
    """Read dot's ``-Tplain`` output (inches, y up) into points with y down."""
    ids = [node.id for node in graph.nodes]
    width = height = 0.0
    boxes: dict[str, Box] = {}
    edges: dict[tuple[str, str], tuple[tuple[float, float], ...]] = {}
    for line in text.splitlines():
        # Plain whitespace split, not shlex: every field read here is a name we chose (n<index>)
        # or a number; quoted fields (empty labels, colours) come after them. shlex took half the
        # layout time of a 200-task graph.
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "graph":
            width, height = float(parts[2]) * POINTS, float(parts[3]) * POINTS
        elif parts[0] == "node":
            node_id = ids[int(parts[1][1:])]
            centre_x, centre_y, box_width, box_height = (float(v) * POINTS for v in parts[2:6])
            boxes[node_id] = Box(centre_x, height - centre_y, box_width, box_height)
        elif parts[0] == "edge":
            up, down = ids[int(parts[1][1:])], ids[int(parts[2][1:])]
            count = int(parts[3])
            coords = parts[4 : 4 + 2 * count]
            points = tuple(
                (float(coords[index]) * POINTS, height - float(coords[index + 1]) * POINTS)
                for index in range(0, len(coords), 2)
            )
            edges[(up, down)] = points
    return Layout(width, height, boxes, edges, groups=group_boxes(graph, boxes))


def provisional_layout(previous: Layout, graph: TaskGraph) -> Layout | None:
    """``graph`` drawn on the positions of an earlier layout, to show while dot runs (pure).

    Tasks keep their boxes, links that stay keep their routes; a new link is a straight line
    (listed in ``pending``), a new task goes into a column at the right. None when the drawings
    share no task: nothing of the old one would help.
    """
    known = [node for node in graph.nodes if node.id in previous.boxes]
    if not known:
        return None
    boxes = {node.id: previous.boxes[node.id] for node in known}
    width, height = previous.width, previous.height
    column = width + 0.5 * POINTS  # dot's ranksep
    next_y = NODE_HEIGHT * POINTS / 2
    for node in graph.nodes:
        if node.id in boxes:
            continue
        box_width, box_height = node_width(node.label or node.id) * POINTS, NODE_HEIGHT * POINTS
        boxes[node.id] = Box(column + box_width / 2, next_y, box_width, box_height)
        width = max(width, column + box_width)
        height = max(height, next_y + box_height / 2)
        next_y += box_height + 0.18 * POINTS  # dot's nodesep
    edges: dict[tuple[str, str], tuple[tuple[float, float], ...]] = {}
    pending: set[tuple[str, str]] = set()
    for edge in graph.edges:
        up, down = edge
        if up not in boxes or down not in boxes:
            continue
        if edge in previous.edges and edge not in previous.pending:
            edges[edge] = previous.edges[edge]
        else:
            start, end = boxes[up], boxes[down]
            edges[edge] = ((start.x + start.width / 2, start.y), (end.x - end.width / 2, end.y))
            pending.add(edge)
    groups = group_boxes(graph, boxes)
    return Layout(width, height, boxes, edges, frozenset(pending), groups)

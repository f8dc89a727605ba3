"""Draw a laid-out task graph as a standalone SVG (tasks coloured by kind, mapped tasks stacked)."""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from kit.preview.graph import TaskGraph
from kit.preview.layout import Layout, layout

MARGIN = 16.0
TITLE_HEIGHT = 24.0
COLOURS = {
    "notebook": "#f3e5f5",
    "python": "#e3f2fd",
    "@task": "#e3f2fd",
    "bash": "#e8f5e9",
    "BashOperator": "#e8f5e9",
    "empty": "#f5f5f5",
    "EmptyOperator": "#f5f5f5",
    "trigger_dag": "#fff3e0",
    "TriggerDagRunOperator": "#fff3e0",
}
DEFAULT_COLOUR = "#fff8e1"


def render_svg(graph: TaskGraph, laid_out: Layout | None = None) -> str:
    """The SVG document for ``graph`` (laid out with ``layout`` unless given)."""
    laid_out = laid_out or layout(graph)
    width = laid_out.width + 2 * MARGIN
    height = laid_out.height + 2 * MARGIN + TITLE_HEIGHT
    dy = MARGIN + TITLE_HEIGHT
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.1f} {height:.1f}" font-family="sans-serif" font-size="11">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/>'
        "</marker></defs>",
        f'<text x="{MARGIN}" y="{MARGIN + 8}" font-size="14" font-weight="bold">'
        f"{escape(graph.dag_id)}</text>",
    ]
    if laid_out.pending:
        out.append(
            f'<text class="pending-note" x="{width - MARGIN:.1f}" y="{MARGIN + 8}" '
            'text-anchor="end" fill="#777">laying out the new links…</text>'
        )
    out.append('<g class="edges" fill="none" stroke="#555" stroke-width="1.2">')
    for (up, down), points in sorted(laid_out.edges.items()):
        # A link not laid out yet: a dashed straight line, until the layout comes back.
        pending = (up, down) in laid_out.pending
        css, dashes = ("edge pending", ' stroke-dasharray="4 3"') if pending else ("edge", "")
        out.append(
            f'<path class="{css}" data-from={quoteattr(up)} data-to={quoteattr(down)} '
            f'd="{_path(points, MARGIN, dy)}" marker-end="url(#arrow)"{dashes}/>'
        )
    out.append("</g>")
    out.append('<g class="tasks">')
    for node in graph.nodes:
        box = laid_out.boxes[node.id]
        left, top = box.x - box.width / 2 + MARGIN, box.y - box.height / 2 + dy
        fill = COLOURS.get(node.kind, DEFAULT_COLOUR)
        out.append(f'<g class="task" data-task-id={quoteattr(node.id)}>')
        mapped = ", mapped" if node.mapped else ""
        out.append(f"<title>{escape(node.id)} ({escape(node.kind)}{mapped})</title>")
        if node.mapped:  # a stack of cards: one per mapped instance
            out.append(
                f'<rect x="{left + 4:.1f}" y="{top - 4:.1f}" width="{box.width:.1f}" '
                f'height="{box.height:.1f}" rx="5" fill="{fill}" stroke="#888"/>'
            )
        out.append(
            f'<rect x="{left:.1f}" y="{top:.1f}" width="{box.width:.1f}" height="{box.height:.1f}" '
            f'rx="5" fill="{fill}" stroke="#444"/>'
        )
        text = node.label or node.id  # a task in a group: its id within the group
        label = text if len(text) <= 48 else text[:47] + "…"
        out.append(
            f'<text x="{box.x + MARGIN:.1f}" y="{box.y + dy - 2:.1f}" text-anchor="middle">'
            f"{escape(label)}</text>"
        )
        kind = f"{node.kind} [ ]" if node.mapped else node.kind
        out.append(
            f'<text x="{box.x + MARGIN:.1f}" y="{box.y + dy + 10:.1f}" text-anchor="middle" '
            f'font-size="8" fill="#666">{escape(kind)}</text>'
        )
        out.append("</g>")
    out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _path(points: tuple[tuple[float, float], ...], dx: float, dy: float) -> str:
    """dot's B-spline control points (1 + 3n of them) as an SVG cubic path."""
    moved = [(x + dx, y + dy) for x, y in points]
    if not moved:
        return ""
    head = f"M{moved[0][0]:.1f},{moved[0][1]:.1f}"
    rest = moved[1:]
    if len(rest) % 3 == 0:
        curves = [
            "C" + " ".join(f"{x:.1f},{y:.1f}" for x, y in rest[start : start + 3])
            for start in range(0, len(rest), 3)
        ]
        return head + " ".join(curves)
    return head + "".join(f" L{x:.1f},{y:.1f}" for x, y in rest)

"""The pipeline canvas (issue #17): the task graph drawn with SVG, edited by hand, and coloured
by task states in the run view. ``graph`` is pure (what to draw, the intent protocol);
``widget`` is the anywidget view."""

from kit.widgets.canvas.graph import (
    INTENT_FIELDS,
    CanvasTask,
    Intent,
    IntentError,
    canvas_graph,
    canvas_graph_from_spec,
    canvas_graph_of,
    edge_id,
    palette,
    parse_intent,
)
from kit.widgets.canvas.widget import FRONT_END_PARTS, PipelineCanvas, front_end

__all__ = [
    "FRONT_END_PARTS",
    "INTENT_FIELDS",
    "CanvasTask",
    "Intent",
    "IntentError",
    "PipelineCanvas",
    "canvas_graph",
    "canvas_graph_from_spec",
    "canvas_graph_of",
    "edge_id",
    "front_end",
    "palette",
    "parse_intent",
]

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
from kit.widgets.canvas.widget import PipelineCanvas

__all__ = [
    "INTENT_FIELDS",
    "CanvasTask",
    "Intent",
    "IntentError",
    "PipelineCanvas",
    "canvas_graph",
    "canvas_graph_from_spec",
    "canvas_graph_of",
    "edge_id",
    "palette",
    "parse_intent",
]

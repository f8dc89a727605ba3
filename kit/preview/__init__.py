"""Preview pipelines and any DAG file: read-only task graph, layered layout, SVG."""

from kit.preview.graph import (
    DagFileError,
    Node,
    TaskGraph,
    graph_from_dag,
    graph_from_spec,
    graphs_from_dag_file,
    load_dag_file,
)
from kit.preview.layout import Layout, LayoutUnavailable, layout
from kit.preview.svg import render_svg

__all__ = [
    "DagFileError",
    "Layout",
    "LayoutUnavailable",
    "Node",
    "TaskGraph",
    "graph_from_dag",
    "graph_from_spec",
    "graphs_from_dag_file",
    "layout",
    "load_dag_file",
    "render_svg",
]

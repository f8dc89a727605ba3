"""The designer's live preview: check the draft, lay out and draw its graph, mark invalid tasks.

Layout (Graphviz) depends only on the task ids and links, so it is cached: editing a setting
re-validates and redraws without running ``dot`` again.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from kit.preview.graph import TaskGraph
from kit.preview.layout import Layout, layout
from kit.preview.svg import render_svg
from kit.widgets.draft import Build, PipelineDraft
from kit.widgets.runview import INVALID_STYLE, Style, mark_svg

_CACHE_SIZE = 8


@dataclass(frozen=True)
class Preview:
    build: Build
    svg: str
    seconds: float  # time taken by build + layout + drawing


def layout_key(graph: TaskGraph) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    return tuple(node.id for node in graph.nodes), graph.edges


class PreviewEngine:
    """Turns a draft into problems and an SVG, reusing layouts of unchanged task graphs."""

    def __init__(self, project_dir: Path, dags_dir: Path | None = None) -> None:
        self.project_dir = Path(project_dir)
        self.dags_dir = Path(dags_dir) if dags_dir is not None else None
        self._layouts: OrderedDict[tuple, Layout] = OrderedDict()
        self.layout_runs = 0  # how many times dot ran (tests, bench)

    def layout(self, graph: TaskGraph) -> Layout:
        key = layout_key(graph)
        if key in self._layouts:
            self._layouts.move_to_end(key)
            return self._layouts[key]
        laid_out = layout(graph)
        self.layout_runs += 1
        self._layouts[key] = laid_out
        if len(self._layouts) > _CACHE_SIZE:
            self._layouts.popitem(last=False)
        return laid_out

    def preview(self, draft: PipelineDraft) -> Preview:
        started = time.perf_counter()
        build = draft.build(project_dir=self.project_dir, dags_dir=self.dags_dir)
        svg = self.draw(build.graph, build)
        return Preview(build, svg, time.perf_counter() - started)

    def draw(self, graph: TaskGraph, build: Build | None = None) -> str:
        if not graph.nodes:
            return ""
        svg = render_svg(graph, self.layout(graph))
        if build is None:
            return svg
        invalid: dict[str, Style] = {}
        notes: dict[str, str] = {}
        for problem in build.errors:
            if problem.task_id is not None and problem.task_id not in invalid:
                invalid[problem.task_id] = INVALID_STYLE
                notes[problem.task_id] = problem.message
        return mark_svg(svg, invalid, notes=notes, data_attr="problem") if invalid else svg


def svg_html(svg: str, *, empty: str = "No tasks yet: add one.", max_height: int = 460) -> str:
    """The SVG in a scrollable box for an ``ipywidgets.HTML``."""
    if not svg:
        return f'<div style="color:#777;padding:8px">{empty}</div>'
    return f'<div style="overflow:auto;max-height:{max_height}px;border:1px solid #eee">{svg}</div>'

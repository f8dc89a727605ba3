"""The designer's live preview: check the draft, lay out and draw its graph, mark invalid tasks.

Layout (Graphviz) depends only on the task ids and links, so it is cached: editing a setting
re-validates and redraws without running ``dot`` again. When links change in a large graph and
a kernel loop runs, dot runs in the background: the preview comes back at once, drawn on the
previous positions (new links dashed), and the real layout replaces it when ready.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kit.preview.graph import TaskGraph
from kit.preview.layout import Layout, layout, provisional_layout
from kit.preview.layout import layout_key as graph_layout_key
from kit.preview.svg import render_svg
from kit.widgets.background import in_kernel_loop, run_later
from kit.widgets.draft import Build, PipelineDraft
from kit.widgets.runview import INVALID_STYLE, Style, mark_svg

_CACHE_SIZE = 8
# From this many tasks on, a link edit does not wait for dot (below, dot takes a few ms and a
# provisional drawing followed by the real one would only flicker).
BACKGROUND_FROM = 50

LayoutKey = tuple[object, ...]


@dataclass(frozen=True)
class Preview:
    """One check of the draft drawn: the check, the SVG, the time it took."""

    build: Build
    svg: str
    seconds: float  # time taken by build + layout + drawing
    pending: bool = False  # drawn on a provisional layout; the real one is being computed


def layout_key(graph: TaskGraph) -> LayoutKey:
    """What a graph's layout depends on: its task ids, links and task groups."""
    return graph_layout_key(graph)


class PreviewEngine:
    """Turns a draft into problems and an SVG, reusing layouts of unchanged task graphs."""

    def __init__(self, project_dir: Path, dags_dir: Path | None = None) -> None:
        self.project_dir = Path(project_dir)
        self.dags_dir = Path(dags_dir) if dags_dir is not None else None
        self._layouts: OrderedDict[LayoutKey, Layout] = OrderedDict()
        self._shown: Layout | None = None  # the last real layout used: base of provisional ones
        # Background layout: one dot at a time; only the latest wanted graph matters.
        self._wanted: tuple[TaskGraph, Callable[[], None]] | None = None
        self._busy = False
        self.layout_runs = 0  # how many times dot ran (tests, bench)

    def cached(self, graph: TaskGraph) -> Layout | None:
        """The graph's layout if one is cached (marked as the latest used)."""
        key = layout_key(graph)
        if key in self._layouts:
            self._layouts.move_to_end(key)
            return self._layouts[key]
        return None

    def layout(self, graph: TaskGraph) -> Layout:
        """The graph's layout: cached, else laid out by dot now and cached."""
        laid_out = self.cached(graph)
        if laid_out is None:
            laid_out = self._store(graph, layout(graph))
        self._shown = laid_out
        return laid_out

    def current_layout(self, graph: TaskGraph, *, pending: bool = False) -> Layout:
        """The layout the preview stands on, for other views of the same graph (the canvas):
        the cached one, the provisional one while dot runs in the background (``pending``),
        else dot's, now."""
        found = self.cached(graph)
        if found is not None:
            return found
        if pending and self._shown is not None:
            guess = provisional_layout(self._shown, graph)
            if guess is not None:
                return guess
        return self.layout(graph)

    def _store(self, graph: TaskGraph, laid_out: Layout) -> Layout:
        self.layout_runs += 1
        self._layouts[layout_key(graph)] = laid_out
        if len(self._layouts) > _CACHE_SIZE:
            self._layouts.popitem(last=False)
        return laid_out

    def preview(
        self, draft: PipelineDraft, *, on_layout: Callable[[], None] | None = None
    ) -> Preview:
        """Check and draw ``draft``. With ``on_layout``, a large graph whose layout is not known
        yet is drawn provisionally and ``on_layout()`` is called (on the kernel's loop) once
        the real layout is cached: then ``draw`` gives the final picture."""
        started = time.perf_counter()
        build = draft.build(project_dir=self.project_dir, dags_dir=self.dags_dir)
        graph = build.graph
        guess = self._provisional(graph) if on_layout is not None else None
        if guess is not None:
            self._request(graph, on_layout)  # type: ignore[arg-type]  # not None here
            svg = self.draw(graph, build, guess)
        else:
            self._wanted = None  # a pending background layout is no longer what is shown
            svg = self.draw(graph, build)
        return Preview(build, svg, time.perf_counter() - started, pending=guess is not None)

    def _provisional(self, graph: TaskGraph) -> Layout | None:
        """A stand-in layout when waiting for dot is worth avoiding, else None."""
        if len(graph.nodes) < BACKGROUND_FROM or self._shown is None or in_kernel_loop() is None:
            return None
        if self.cached(graph) is not None:
            return None
        return provisional_layout(self._shown, graph)

    def _request(self, graph: TaskGraph, on_layout: Callable[[], None]) -> None:
        self._wanted = (graph, on_layout)
        if not self._busy:
            self._start()

    def _start(self) -> None:
        assert self._wanted is not None
        graph, _ = self._wanted
        self._busy = True

        def done(laid_out: Layout) -> None:
            self._busy = False
            self._store(graph, laid_out)
            wanted = self._wanted
            if wanted is None:
                return  # a synchronous preview came in between and drew what it needed
            if layout_key(wanted[0]) != layout_key(graph):
                self._start()  # edits went on meanwhile: lay out the latest graph only
                return
            self._wanted = None
            self._shown = laid_out
            wanted[1]()

        def failed(_exc: BaseException, _trace: str) -> None:
            self._busy = False
            wanted, self._wanted = self._wanted, None
            if wanted is not None:
                wanted[1]()  # the caller redraws synchronously and shows dot's error

        run_later(lambda: layout(graph), done, failed, background=True)

    def draw(
        self, graph: TaskGraph, build: Build | None = None, laid_out: Layout | None = None
    ) -> str:
        """The graph as SVG: invalid tasks marked, on the given (else the cached) layout."""
        if not graph.nodes:
            return ""
        svg = render_svg(graph, laid_out or self.layout(graph))
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

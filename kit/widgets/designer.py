"""The pipeline designer: the pipeline canvas, DAG settings, task forms, live checks, graph and
code preview, export, and deploy & run with a live run view.

Thin: the draft (``kit.widgets.draft``) owns every edit and its undo history; one small view per
tab or panel shows it and forwards edits to it (``canvas_view``, ``pipeline_tab``,
``params_panel``, ``tasks_tab``, ``code_tab``, ``run_tab``, ``toolbar``). The designer puts them
together (the canvas as the main view, the tabs as its side panel), redraws them when the draft
announces a change, and checks the draft after each one.
"""

from __future__ import annotations

import html
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ipywidgets as w

from kit.spec.io import parse_yaml, spec_to_data
from kit.spec.model import PipelineSpec
from kit.spec.problems import Problem
from kit.widgets.canvas_view import CanvasView
from kit.widgets.code_tab import CodeTab
from kit.widgets.draft import (
    Build,
    DraftChange,
    DraftError,
    Key,
    PipelineDraft,
    problem_text,
    route_problems,
)
from kit.widgets.editors import message_label, project_notebooks, show_messages
from kit.widgets.graphview import clickable, graph_widget
from kit.widgets.pipeline_tab import PipelineTab
from kit.widgets.preview import Preview, PreviewEngine, svg_html
from kit.widgets.run_tab import RunTab, run_param_hint
from kit.widgets.tasks_tab import TasksTab
from kit.widgets.toolbar import Toolbar
from kit.widgets.ui import css, strip_tags

if TYPE_CHECKING:
    from kit.client.protocol import AirflowApi

__all__ = ["Designer", "run_param_hint"]

# What each edit redraws besides the graph and the messages (which every edit redraws).
_TASK_LIST = {"add task", "duplicate task", "remove task", "rename task", "move task", "set kind"}
_PARAMS = {"add param", "rename param", "remove param"}
_RUN_PARAMS = _PARAMS | {"set param"}
_EDITOR = _TASK_LIST | _PARAMS  # the form offers the tasks and run parameters to pick from
_LAYOUT = {"set position", "clear positions"}
_LINKS = {"set task", "add link", "remove link"}  # may tick or untick upstream boxes


class Designer:
    """Build a pipeline in a notebook: ``Designer()`` or ``Designer("pipelines/x.yaml")``.

    ``project_dir`` is where notebooks and ``pipelines/`` are (default: ``kit.paths``);
    ``dags_dir`` where the DAG file goes (default: ``$KIT_DAGS_DIR`` or ``<project>/dags``);
    ``state_dir``/``client`` say which running stack Deploy & run talks to.

    The views' widgets are reachable as attributes of the designer (``designer.dag_id``,
    ``designer.task_inputs``, ``designer.export_button`` ...), as scripts and tests use them.
    """

    def __init__(
        self,
        spec_or_path: PipelineSpec | str | Path | None = None,
        *,
        project_dir: str | Path | None = None,
        dags_dir: str | Path | None = None,
        pipelines_dir: str | Path | None = None,
        state_dir: str | Path | None = None,
        client: AirflowApi | None = None,
        background: bool | None = None,
    ) -> None:
        from kit.paths import project_dir as find_project_dir

        self.project_dir = Path(project_dir or find_project_dir()).resolve()
        env_dags = os.environ.get("KIT_DAGS_DIR")
        self.dags_dir = Path(dags_dir or env_dags or self.project_dir / "dags").resolve()
        self.pipelines_dir = Path(pipelines_dir or self.project_dir / "pipelines").resolve()
        self.state_dir = Path(state_dir) if state_dir is not None else None
        self._client = client
        self.background = background
        self.engine = PreviewEngine(self.project_dir, self.dags_dir)
        self.draft = PipelineDraft()
        self._unobserve = self.draft.observe(self._draft_changed)
        self.read_only_path: Path | None = None
        self.last_preview: Preview | None = None
        self.last_export: Any = None
        self.monitor: Any = None
        self.updating = False  # the widgets are being filled from the draft: not user edits
        self._messages: dict[Key, w.HTML] = {}
        self._selected: str | None = None
        self.notebooks = project_notebooks(self.project_dir)

        # Click a task in the graph to edit it (where anywidget is installed).
        self.graph = css(graph_widget(), "kit-graph")
        if clickable(self.graph):
            self.graph.observe(lambda c: self._graph_clicked(c["new"]), "selected")
        self.problems_box = css(w.HTML(), "kit-problems")
        self.bar = Toolbar(self)
        self.pipeline = PipelineTab(self)
        self.tasks = TasksTab(self)
        self.code = CodeTab(self)
        self.run = RunTab(self)
        self.canvas_view = CanvasView(self)
        self.views = (
            self.bar,
            self.canvas_view,
            self.pipeline,
            self.pipeline.params,
            self.tasks,
            self.code,
            self.run,
        )
        self.tabs = w.Tab(
            children=[self.pipeline.widget, self.tasks.widget, self.code.widget, self.run.widget]
        )
        for i, title in enumerate(("Pipeline", "Tasks", "Code", "Run")):
            self.tabs.set_title(i, title)
        self.tabs.observe(self._tab_changed, "selected_index")
        # The canvas is what a person edits on; the tabs beside it are its side panel (the
        # selected task's form, the pipeline's settings, code, run). They wrap under the canvas
        # when the notebook is narrow.
        main = css(
            w.HBox(
                [
                    css(
                        w.VBox(  # a column: the canvas takes its whole width
                            [self.canvas_view.canvas],
                            layout=w.Layout(flex="3 1 520px", min_width="0"),
                        ),
                        "kit-canvas-main",
                    ),
                    css(
                        w.VBox([self.tabs], layout=w.Layout(flex="2 1 420px", min_width="0")),
                        "kit-side-panel",
                    ),
                ],
                layout=w.Layout(flex_flow="row wrap", align_items="flex-start", width="100%"),
            ),
            "kit-designer-main",
        )
        self.widget = css(
            w.VBox(
                [
                    w.HTML("<h3 style='margin:4px 0'>Pipeline designer</h3>"),
                    self.bar.toolbar,
                    self.bar.confirm_box,
                    self.bar.status,
                    main,
                    self.problems_box,
                    w.HTML("<b>Graph picture</b> (as exported; invalid tasks in red)"),
                    self.graph,
                ]
            ),
            "kit-designer",
        )
        if spec_or_path is not None:
            self.load(spec_or_path)
        else:
            self.show_all()

    def __getattr__(self, name: str) -> Any:
        # The widgets of the views, as attributes of the designer (they were, before the split).
        for view in self.__dict__.get("views", ()):
            if name in vars(view) or hasattr(type(view), name):
                return getattr(view, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    @property
    def selected(self) -> str | None:
        """The task being edited: its form is in the Tasks tab, its box outlined on the canvas."""
        return self._selected

    @selected.setter
    def selected(self, task_id: str | None) -> None:
        self._selected = task_id
        view = self.__dict__.get("canvas_view")
        if view is not None:
            view.canvas.selected = task_id or ""

    @property
    def pipeline_tab(self) -> w.Widget:
        return self.pipeline.widget

    @property
    def tasks_tab(self) -> w.Widget:
        return self.tasks.widget

    # -- loading -----------------------------------------------------------------------------------
    def load(self, spec_or_path: PipelineSpec | str | Path) -> None:
        """Load a spec (editable) or any DAG file (read-only preview)."""
        try:
            if isinstance(spec_or_path, PipelineSpec):
                draft = PipelineDraft(spec_to_data(spec_or_path))
            else:
                path = Path(spec_or_path)
                if not path.is_absolute() and not path.exists():
                    path = self.project_dir / path
                if path.suffix == ".py":
                    self._load_dag_file(path)
                    return
                data = parse_yaml(path.read_bytes(), str(path))  # bounded: hostile files too
                if not isinstance(data, dict):
                    raise ValueError(f"{path} does not hold a pipeline spec (a mapping)")
                draft = PipelineDraft(data)
                self.bar.load_path.value = str(path)
        except Exception as exc:  # noqa: BLE001 - shown in the designer
            self.say(f"Could not load {spec_or_path}: {exc}", "error")
            return
        self.read_only_path = None
        self._unobserve()
        self.draft = draft
        self._unobserve = draft.observe(self._draft_changed)
        self.selected = draft.task_ids[0] if draft.task_ids else None
        self._set_editable(True)
        self.show_all()
        self.say(f"Loaded {draft.get('dag_id')!r} ({len(draft.tasks)} tasks).", "info")

    def _load_dag_file(self, path: Path) -> None:
        from kit.preview.graph import graphs_from_dag_file

        graphs = graphs_from_dag_file(path)
        self.read_only_path = path
        self._set_editable(False)
        svgs = [self.engine.draw(graph) for graph in graphs]
        self.graph.value = "".join(svg_html(svg) for svg in svgs) or svg_html("")
        self.canvas_view.set_editable(False)
        self.code.show_file(path)
        self.problems_box.value = ""
        names = ", ".join(g.dag_id for g in graphs)
        self.say(f"Showing {path} read-only: DAG(s) {names}. Load a spec to edit.", "info")

    def _set_editable(self, editable: bool) -> None:
        self.bar.set_editable(editable)
        self.canvas_view.set_editable(editable)
        self.tasks.add_task_button.disabled = not editable
        self.pipeline.widget.layout.display = None if editable else "none"
        self.tasks.widget.layout.display = None if editable else "none"

    # -- showing the draft -------------------------------------------------------------------------
    @contextmanager
    def holding(self) -> Iterator[None]:
        """Widgets set inside are being shown, not edited: their observers forward nothing."""
        was, self.updating = self.updating, True
        try:
            yield
        finally:
            self.updating = was

    def show_all(self) -> None:
        """Put the whole draft into the widgets (after load, undo, redo), then check it."""
        with self.holding():
            self.pipeline.show()
        self.pipeline.params.show()
        self.tasks.show_list()
        self.tasks.show_editor()
        self.run.show()
        self.bar.show_history()
        self.changed()

    def _draft_changed(self, change: DraftChange) -> None:
        """Redraw what the edit touched (the views never redraw on their own)."""
        action = change.action
        self.bar.show_history()
        if action in ("undo", "redo"):
            if change.task_id in self.draft.task_ids:
                self.selected = change.task_id
            self.show_all()
            return
        made = action in ("add task", "duplicate task")
        if made or (action == "rename task" and self.selected == change.old_id):
            self.selected = change.task_id
        if action in _LAYOUT:
            self.canvas_view.show()
            if self.tabs.selected_index == 2:
                self.code.refresh()
            return
        if action in _PARAMS:
            self.pipeline.params.show()
        if action in _RUN_PARAMS:
            self.run.show()
        if action in _TASK_LIST:
            self.tasks.show_list()
        if action in _EDITOR:
            self.tasks.show_editor()
        elif action in _LINKS and change.task_id == self.selected:
            self.tasks.sync_upstream()
        self.changed()

    def message_label(self, task_id: str | None, field: str) -> w.HTML:
        """A new message area for a field; validation messages about it are shown in it."""
        label = message_label()
        self._messages[(task_id, field)] = label
        return label

    def forget_messages(self, which: Callable[[Key], bool]) -> None:
        for key in [k for k in self._messages if which(k)]:
            del self._messages[key]

    def show_message(self, task_id: str | None, field: str, text: str) -> None:
        """Say something next to a field (a value that does not parse, a refused edit)."""
        label = self.message_labels().get((task_id, field))
        if label is not None:
            show_messages(label, text)

    # -- edits that also move the selection --------------------------------------------------------
    def add_task(self, kind: str, task_id: str | None = None) -> str:
        return self.draft.add_task(kind, task_id)

    def duplicate_task(self, task_id: str) -> str:
        return self.draft.duplicate_task(task_id)

    def remove_task(self, task_id: str) -> None:
        self.draft.remove_task(task_id)

    def rename_task(self, old: str, new: str) -> None:
        """Rename from the id box; a bad or taken id is refused, saying why next to it."""
        try:
            self.draft.rename_task(old, new)
        except DraftError as exc:
            self.show_message(old, "id", f"✖ {exc}")
            self.say(str(exc), "error")

    def set_kind(self, task_id: str, kind: str) -> None:
        self.draft.set_kind(task_id, kind)

    def add_param(self, name: str | None = None, type_: str = "string", default: Any = None) -> str:
        """Add a run parameter (the name is made unique); returns its name."""
        return self.draft.add_param(name or "param", {"type": type_, "default": default})

    def promote_to_run_param(self, parameter: str, param: dict[str, Any]) -> str:
        """The selected notebook task's ``parameter`` becomes a typed run parameter."""
        assert self.selected is not None
        return self.draft.promote_to_run_param(self.selected, parameter, param)

    def undo(self) -> bool:
        return self.draft.undo()

    def redo(self) -> bool:
        return self.draft.redo()

    def select(self, task_id: str) -> None:
        self.selected = task_id
        self.tasks.show_list()
        self.tasks.show_editor()
        self.show_problems()

    def open_task(self, task_id: str) -> None:
        """Select a task and show its form in the side panel (a click on it, on the canvas)."""
        if task_id not in self.draft.task_ids:
            return
        if task_id != self.selected:
            self.select(task_id)
        self.tabs.selected_index = 1

    def open_log(self, task_id: str) -> None:
        """The task's log in the run being watched, if there is one."""
        if self.monitor is not None:
            self.monitor.pick(task_id)
            self.tabs.selected_index = 3

    def _graph_clicked(self, task_id: str) -> None:
        if task_id and task_id != self.selected:
            self.open_task(task_id)

    # -- checking and previews ---------------------------------------------------------------------
    def changed(self) -> Preview:
        """Re-check the draft and refresh graph, messages, next runs and (if shown) the code."""
        # In a kernel, a large graph's new layout is computed in the background (see preview).
        on_layout = self._layout_ready if self.background is not False else None
        preview = self.engine.preview(self.draft, on_layout=on_layout)
        self.last_preview = preview
        self.graph.value = svg_html(preview.svg)
        self.canvas_view.show()
        self.show_problems()
        self.tasks.show_markers(preview.build.invalid_tasks())
        self.pipeline.show_next_runs()
        if self.tabs.selected_index == 2:
            self.code.refresh()
        return preview

    def _layout_ready(self) -> None:
        """The real layout of the graph shown provisionally is ready: draw it."""
        preview = self.last_preview
        if preview is None or not preview.pending:
            return
        try:  # cached now; if dot failed in the background, this runs it again to say why
            svg = self.engine.draw(preview.build.graph, preview.build)
        except Exception as exc:  # noqa: BLE001 - shown where the graph goes
            self.say(f"Could not lay out the graph: {exc}", "error")
            return
        self.last_preview = replace(preview, svg=svg, pending=False)
        self.graph.value = svg_html(svg)
        self.canvas_view.show()

    @property
    def build(self) -> Build:
        return (self.last_preview or self.changed()).build

    @property
    def problems(self) -> list[Problem]:
        return self.build.problems

    def message_labels(self) -> dict[Key, w.HTML]:
        """Every field's message area now shown (the form's change when a notebook is picked)."""
        labels = dict(self._messages)
        form = self.tasks.form
        if form is not None and self.selected is not None:
            labels.update({(self.selected, f): label for f, label in form.messages.items()})
        return labels

    def messages(self, task_id: str | None, field: str) -> str:
        """The text shown next to a field (tests read it like a user would)."""
        label = self.message_labels().get((task_id, field))
        return html.unescape(strip_tags(label.value)) if label is not None else ""

    def show_problems(self) -> None:
        """Each problem next to its field, and the full list under the graph."""
        if self.last_preview is None:
            return
        problems = self.last_preview.build.problems
        labels = self.message_labels()
        routed = route_problems(problems, labels)
        for key, label in labels.items():
            show_messages(label, problem_text(routed.get(key, [])))
        if not problems:
            self.problems_box.value = "<span style='color:#2e7d32'>✔ No problems.</span>"
            return
        items = "".join(
            f"<li style='color:{'#c62828' if p.is_error else '#ef6c00'}'>{html.escape(str(p))}</li>"
            for p in problems
        )
        n_err = len(self.last_preview.build.errors)
        self.problems_box.value = (
            f"<b>{n_err} error(s), {len(problems) - n_err} warning(s)</b><ul style='margin:2px 0'>"
            f"{items}</ul>"
        )

    def _tab_changed(self, change: dict) -> None:
        if change["new"] == 2:
            self.code.refresh()

    def targets(self) -> tuple[Path, Path]:
        """Where export writes: the DAG file and the spec file."""
        dag_id = str(self.draft.get("dag_id", ""))
        return self.dags_dir / f"{dag_id}.py", self.pipelines_dir / f"{dag_id}.yaml"

    def refresh_code(self) -> None:
        self.code.refresh()

    # -- export and deploy (the toolbar's) ---------------------------------------------------------
    def say(self, text: str, level: str = "info") -> None:
        self.bar.say(text, level)

    def export(self, then: Callable[[Any], None] | None = None) -> None:
        """Write the spec and DAG file (asks once first when one would be replaced)."""
        self.bar.export(then)

    def deploy(self) -> None:
        """Export, have Airflow load the DAG, unpause it, trigger a run, and watch it."""
        self.bar.deploy()

    def run_conf(self) -> dict[str, Any]:
        return self.run.run_conf()

    def client(self) -> Any:
        if self._client is None:
            from kit.client import connect

            self._client = connect(self.state_dir)
        return self._client

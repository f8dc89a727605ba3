"""The pipeline designer: the pipeline canvas, DAG settings, task forms, live checks, graph and
code preview, export, and deploy & run with a live run view.

Thin: the draft (``kit.widgets.draft``) owns every edit and its undo history; one small view per
tab or panel shows it and forwards edits to it (``canvas_view``, ``pipeline_tab``,
``params_panel``, ``tasks_tab``, ``code_tab``, ``run_tab``, ``toolbar``). Each view sees the
designer only through its protocol in ``view_host``. The designer puts them together (the canvas
as the main view, the tabs of ``make_tabs`` as its side panel), redraws them when the draft
announces a change, and checks the draft after each one.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from kit.spec.io import spec_to_data
from kit.spec.model import PipelineSpec
from kit.spec.problems import Problem
from kit.widgets.canvas import PipelineCanvas
from kit.widgets.canvas_view import CanvasView
from kit.widgets.code_tab import CodeTab
from kit.widgets.designer_page import designer_page
from kit.widgets.draft import Build, DraftChange, PipelineDraft, read_draft
from kit.widgets.foreign_dag import (
    ForeignDagView,
    foreign_dag,
    looks_like_dag_id,
    structure_from_airflow,
    structures_from_file,
)
from kit.widgets.graphview import clickable, graph_widget
from kit.widgets.messages import FieldMessages, problems_html
from kit.widgets.notebook_form import project_notebooks
from kit.widgets.pipeline_tab import PipelineTab
from kit.widgets.preview import Preview, PreviewEngine, svg_html
from kit.widgets.run_tab import RunTab
from kit.widgets.side_panel import SidePanel
from kit.widgets.tasks_tab import TasksTab
from kit.widgets.toolbar import Toolbar
from kit.widgets.ui import css

if TYPE_CHECKING:
    from kit.client.protocol import AirflowApi
    from kit.widgets.view_host import TabView

__all__ = ["Designer"]

# What each edit redraws besides the graph and the messages (which every edit redraws).
_TASK_LIST = {"add task", "duplicate task", "remove task", "rename task", "move task", "set kind"}
_PARAMS = {"add param", "rename param", "remove param"}
_RUN_PARAMS = _PARAMS | {"set param"}
_EDITOR = _TASK_LIST | _PARAMS  # the form offers the tasks and run parameters to pick from
_LAYOUT = {"set position", "clear positions"}
_LINKS = {"set task", "add link", "remove link"}  # may tick or untick upstream boxes


class Designer:
    """Build a pipeline in a notebook: ``Designer()`` or ``Designer("pipelines/x.yaml")``; or
    look at any DAG, read-only, with its runs: ``Designer("dags/x.py")``, ``Designer(dag_id="x")``.

    ``project_dir`` is where notebooks and ``pipelines/`` are (default: ``kit.paths``);
    ``dags_dir`` where the DAG file goes (default: ``$KIT_DAGS_DIR`` or ``<project>/dags``);
    ``state_dir``/``client`` say which running stack Deploy & run talks to (and which Airflow
    ``dag_id`` is read from).

    Its views are attributes, and scripts and tests reach their widgets through them:
    ``toolbar`` (Load, Undo/Redo, Export, Deploy & run, the status line), ``canvas_view`` (its
    ``canvas``), and the side panel's tabs ``pipeline`` (with ``params``, the run parameters),
    ``tasks``, ``code`` and ``run``; e.g. ``designer.pipeline.dag_id``,
    ``designer.tasks.task_inputs``, ``designer.toolbar.export_button``.
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
        dag_id: str | None = None,
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
        self._listeners: list[Callable[[DraftChange], None]] = []
        self.read_only_path: Path | None = None  # a DAG file shown read-only, if any
        self.last_preview: Preview | None = None
        self.last_export: Any = None  # the last export's result
        self.monitor: Any = None  # the RunMonitor of the run Deploy & run started
        self.updating = False  # the widgets are being filled from the draft: not user edits
        self.field_messages = FieldMessages()
        self._selected: str | None = None
        self.notebooks = project_notebooks(self.project_dir)

        # Click a task in the graph to edit it (where anywidget is installed).
        self.graph = css(graph_widget(), "kit-graph")
        if clickable(self.graph):
            self.graph.observe(lambda change: self._graph_clicked(change["new"]), "selected")
        self.problems_box = css(widgets.HTML(), "kit-problems")
        self.toolbar = Toolbar(self)
        self.pipeline = PipelineTab(self)
        self.params = self.pipeline.params
        self.tasks = TasksTab(self)
        self.code = CodeTab(self)
        self.run = RunTab(self)
        self.canvas_view = CanvasView(self)
        self.foreign = ForeignDagView(self)  # any DAG shown read-only, and its runs
        self.side_panel = SidePanel(self.make_tabs())
        self.tabs = self.side_panel.widget
        self.side_panel.on_shown(self._tab_shown)
        self.widget = designer_page(
            self.toolbar, self.canvas, self.tabs, self.problems_box, self.graph
        )
        if spec_or_path is not None:
            self.load(spec_or_path)
        else:
            self.show_all()
        if dag_id is not None:
            self.load_dag(dag_id)

    def make_tabs(self) -> list[tuple[str, TabView]]:
        """The side panel's tabs, ``(title, view)`` in order; called once, by ``__init__``.

        A new view is added here (a subclass may extend the list): it is shown as a tab with its
        title and hears of each change through ``on_change``.
        """
        return [
            ("Pipeline", self.pipeline),
            ("Tasks", self.tasks),
            ("Code", self.code),
            ("Run", self.run),
        ]

    def _tab_shown(self, view: TabView) -> None:
        if view is self.code:  # the code is made when it is looked at
            self.code.refresh()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    @property
    def canvas(self) -> PipelineCanvas:
        """The pipeline canvas, the designer's main view (``canvas_view.canvas``)."""
        return self.canvas_view.canvas

    @property
    def selected(self) -> str | None:
        """The task being edited: its form is in the Tasks tab, its box outlined on the canvas."""
        return self._selected

    @selected.setter
    def selected(self, task_id: str | None) -> None:
        self._selected = task_id
        if "canvas_view" in self.__dict__:
            self.canvas_view.canvas.selected = task_id or ""
        if clickable(self.graph):  # the graph outlines the task being edited
            self.graph.selected = task_id or ""

    def on_change(self, callback: Callable[[DraftChange], None]) -> None:
        """Call ``callback(change)`` after the designer has shown each change of the draft: an
        edit, an undo or redo, a load (``DraftChange("load")``)."""
        self._listeners.append(callback)

    def _tell(self, change: DraftChange) -> None:
        for callback in list(self._listeners):
            callback(change)

    # -- loading -----------------------------------------------------------------------------------
    def load(self, spec_or_path: PipelineSpec | str | Path, *, dag_id: str | None = None) -> None:
        """Load a spec (editable), or show any DAG file or dag_id Airflow knows (read-only, on
        the canvas); ``dag_id`` picks one DAG of a file that defines several."""
        try:
            if isinstance(spec_or_path, PipelineSpec):
                draft = PipelineDraft(spec_to_data(spec_or_path))
            else:
                path = Path(spec_or_path)
                if not path.is_absolute() and not path.exists():
                    path = self.project_dir / path
                if not path.exists() and looks_like_dag_id(str(spec_or_path)):
                    self.load_dag(str(spec_or_path))
                    return
                if path.suffix == ".py":
                    self._load_dag_file(path, dag_id)
                    return
                draft = read_draft(path)
                self.toolbar.load_path.value = str(path)
        except Exception as exc:  # noqa: BLE001 - shown in the designer
            self.say(f"Could not load {spec_or_path}: {exc}", "error")
            return
        self.read_only_path = None
        self.foreign.clear()
        self._set_draft(draft)
        self.selected = draft.task_ids[0] if draft.task_ids else None
        self._set_editable(True)
        self.show_all()
        self.say(f"Loaded {draft.get('dag_id')!r} ({len(draft.tasks)} tasks).", "info")
        self._tell(DraftChange("load"))

    def _set_draft(self, draft: PipelineDraft) -> None:
        self._unobserve()
        self.draft = draft
        self._unobserve = draft.observe(self._draft_changed)

    def _load_dag_file(self, path: Path, dag_id: str | None = None) -> None:
        structures = structures_from_file(path)
        if not structures:
            raise ValueError(f"{path} defines no DAG Airflow could load")
        ids = [s.dag_id for s in structures]
        if dag_id is not None and dag_id not in ids:
            raise ValueError(f"{path} has no DAG {dag_id!r}; its DAGs: {', '.join(ids)}")
        structure = structures[ids.index(dag_id)] if dag_id else structures[0]
        others = ", ".join(i for i in ids if i != structure.dag_id)
        note = f" Also in this file: {others} (load(path, dag_id=...) shows one)." if others else ""
        self._show_foreign(foreign_dag(structure, str(path), path), path, note)
        self.code.show_file(path)

    def load_dag(self, dag_id: str) -> None:
        """Show a DAG Airflow has loaded, by its id, read-only on the canvas (its runs in the
        Run tab: ``foreign.watch()``)."""
        try:
            structure = structure_from_airflow(self.client(), dag_id)
        except Exception as exc:  # noqa: BLE001 - shown in the designer
            self.say(f"Could not load DAG {dag_id!r} from Airflow: {exc}", "error")
            return
        self.toolbar.load_path.value = dag_id
        where = Path(structure.fileloc) if structure.fileloc else Path(dag_id)
        self._show_foreign(foreign_dag(structure, dag_id), where)
        if where.is_file():
            self.code.show_file(where)

    def _show_foreign(self, dag: Any, path: Path, note: str = "") -> None:
        """A DAG not made by the designer, read-only, on the canvas and in the picture (the draft
        stays behind it, untouched, until a spec is loaded)."""
        self.read_only_path = path
        self._set_editable(False)
        self.graph.value = svg_html(self.engine.draw(dag.graph))
        self.problems_box.value = ""
        self.foreign.show(dag, note)
        self._tell(DraftChange("load"))

    def _set_editable(self, editable: bool) -> None:
        self.toolbar.set_editable(editable)
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
        self.params.show()
        self.tasks.show_list()
        self.tasks.show_editor()
        self.run.show()
        self.toolbar.show_history()
        self.changed()

    def _draft_changed(self, change: DraftChange) -> None:
        self._redraw(change)
        self._tell(change)

    def _redraw(self, change: DraftChange) -> None:
        """Redraw what the edit touched (the views never redraw on their own)."""
        action = change.action
        self.toolbar.show_history()
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
            if self.side_panel.shown is self.code:
                self.code.refresh()
            return
        if action in _PARAMS:
            self.params.show()
        if action in _RUN_PARAMS:
            self.run.show()
        if action in _TASK_LIST:
            self.tasks.show_list()
        if action in _EDITOR:
            self.tasks.show_editor()
        elif action in _LINKS and change.task_id == self.selected:
            self.tasks.sync_upstream()
        self.changed()

    def select(self, task_id: str) -> None:
        """Make a task the one being edited: picked in the list, its form shown."""
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
        self.side_panel.show(self.tasks)

    def open_log(self, task_id: str) -> None:
        """The task's log in the run being watched, if there is one."""
        if self.monitor is not None:
            self.monitor.pick(task_id)
            self.side_panel.show(self.run)

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
        if self.side_panel.shown is self.code:
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
        """The last check of the draft (checked now if it never was)."""
        return (self.last_preview or self.changed()).build

    @property
    def problems(self) -> list[Problem]:
        """The last check's problems, errors and warnings."""
        return self.build.problems

    def messages(self, task_id: str | None, field: str) -> str:
        """The text shown next to a field (tests read it like a user would)."""
        return self.field_messages.text(task_id, field)

    def show_problems(self) -> None:
        """Each problem next to its field, and the full list under the graph."""
        if self.last_preview is None:
            return
        problems = self.last_preview.build.problems
        self.field_messages.show(problems)
        self.problems_box.value = problems_html(problems)

    def targets(self) -> tuple[Path, Path]:
        """Where export writes: the DAG file and the spec file."""
        dag_id = str(self.draft.get("dag_id", ""))
        return self.dags_dir / f"{dag_id}.py", self.pipelines_dir / f"{dag_id}.yaml"

    # -- export and deploy (the toolbar's) ---------------------------------------------------------
    def say(self, text: str, level: str = "info") -> None:
        """Put a line in the status line; ``level`` is info, ok, warn or error."""
        self.toolbar.say(text, level)

    def export(self, then: Callable[[Any], None] | None = None) -> None:
        """Write the spec and DAG file (asks once first when one would be replaced)."""
        self.toolbar.export(then)

    def exported(self, result: Any) -> None:
        """Export wrote the files: keep its result, show the code as it now is on disk."""
        self.last_export = result
        self.code.refresh()

    def deploy(self) -> None:
        """Export, have Airflow load the DAG, unpause it, trigger a run, and watch it."""
        self.toolbar.deploy()

    def run_conf(self) -> dict[str, Any]:
        """The conf a run starts with: the Run tab's values, typed (ValueError if one is bad)."""
        return self.run.run_conf()

    def watch(self, monitor: Any) -> None:
        """Watch a run: its view (``RunMonitor``) in the Run tab, shown."""
        self.monitor = monitor
        self.run.watch(monitor)
        self.side_panel.show(self.run)

    def client(self) -> AirflowApi:
        """The REST client of the running stack (connected on first use)."""
        if self._client is None:
            from kit.client import connect

            self._client = connect(self.state_dir)
        return self._client

"""The run view: a DAG run's graph coloured by task state, live, on the pipeline canvas (run mode)
with a progress bar; click a task (or pick it) to see its log, its output notebook and its MLflow
run."""

from __future__ import annotations

import html
import os
import time
import urllib.parse
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from kit.preview.graph import TaskGraph
from kit.runtime.paths import local_artifact_path
from kit.widgets.approval_panel import ApprovalPanel
from kit.widgets.background import poll_every, run_later
from kit.widgets.canvas import Intent, PipelineCanvas, canvas_graph_of
from kit.widgets.codeview import code_html
from kit.widgets.graphview import clickable, graph_widget
from kit.widgets.preview import PreviewEngine, svg_html
from kit.widgets.runview import (
    airflow_run_url,
    graph_from_dag_tasks,
    label_for_task,
    legend_html,
    lineage_html,
    mark_svg,
    mlflow_run_url,
    outputs_from_result,
    run_progress,
    state_style,
    task_states,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from kit.client.models import DagRun
    from kit.client.protocol import AirflowApi
    from kit.preview.layout import Layout

NO_TASK = "(pick a task)"
WAITING_STATES = frozenset({"awaiting_input", "deferred"})  # kit.client.approvals, not imported


class RunMonitor:
    """Watch a run of any DAG: ``RunMonitor("my_dag")`` (latest run) or with a ``run_id``.

    In a notebook it polls every ``poll`` seconds until the run ends; ``refresh()`` polls once and
    ``wait()`` polls until the end (scripts, tests).
    """

    def __init__(
        self,
        dag_id: str,
        run_id: str | None = None,
        *,
        client: AirflowApi | None = None,
        state_dir: str | Path | None = None,
        graph: TaskGraph | None = None,
        positions: dict[str, Any] | None = None,
        poll: float = 2.0,
        background: bool | None = None,
        mlflow_url: str | None = None,
    ) -> None:
        self.dag_id = dag_id
        self.run_id = run_id
        self.poll = poll
        self.background = background
        self._client = client
        self._state_dir = state_dir
        self._graph = graph
        self._positions = positions or {}  # where the designer's canvas had placed tasks
        self._mlflow_url = mlflow_url
        self._engine = PreviewEngine(Path.cwd())
        self.run: DagRun | None = None
        self._stop: Any = None
        self.header = widgets.HTML()
        self.header.add_class("kit-run-header")
        self.state = widgets.HTML()
        self.state.add_class("kit-run-state")
        self.progress = widgets.FloatProgress(value=0.0, min=0.0, max=1.0, description="tasks")
        self.progress.add_class("kit-run-progress")
        # The run on the pipeline canvas, read-only: a click on a task opens its log.
        self.canvas = PipelineCanvas(mode="run", height="360px")
        self.canvas.add_class("kit-run-canvas")
        self.canvas.on_intent(self._canvas_intent)
        # The Graphviz picture too: click a task to pick it (where anywidget is installed).
        self.graph_view = graph_widget()
        self.graph_view.add_class("kit-run-graph")
        if clickable(self.graph_view):
            self.graph_view.observe(lambda c: self.pick(c["new"]), "selected")
        self.legend = widgets.HTML()
        self.task_pick = widgets.Dropdown(options=[NO_TASK], value=NO_TASK, description="task")
        self.task_pick.add_class("kit-run-task")
        self.task_pick.observe(lambda c: self._task_picked(c["new"]), "value")
        self.refresh_button = widgets.Button(description="Refresh", icon="refresh")
        self.refresh_button.on_click(lambda _b: self.refresh())
        self.task_info = widgets.HTML()
        self.task_info.add_class("kit-run-task-info")
        self.log_view = widgets.HTML()
        self.log_view.add_class("kit-run-log")
        # An output area, not an HTML widget: JupyterLab opens links in output areas as its own
        # tabs, so the output notebook opens in JupyterLab with one click.
        self.notebook_link = widgets.Output()
        self.notebook_link.add_class("kit-run-notebook-link")
        self.notebook_view = widgets.HTML()
        self.notebook_view.add_class("kit-run-notebook")
        # Which code made the task's registered model, or its try's MLflow run (on a click: it
        # reads MLflow, Airflow and the bundle's repository).
        self.lineage_button = widgets.Button(description="Lineage", icon="sitemap")
        self.lineage_button.add_class("kit-run-lineage-button")
        self.lineage_button.layout.display = "none"
        self.lineage_button.on_click(lambda _b: self.show_lineage())
        self.lineage_view = widgets.HTML()
        self.lineage_view.add_class("kit-run-lineage")
        self._lineage_target: tuple[str, str] | None = None
        self.errors = widgets.HTML()
        # What waiting approval tasks ask, with a button per option (answers as the client's user).
        self.approvals = ApprovalPanel(self.client, self.refresh, background=background)
        self._waiting: list[Any] = []  # the approvals the last fetch found waiting
        self.widget = widgets.VBox(
            [
                self.header,
                widgets.HBox([self.state, self.progress]),
                self.approvals.widget,
                self.canvas,
                self.graph_view,
                self.legend,
                widgets.HBox([self.task_pick, self.refresh_button]),
                self.task_info,
                self.lineage_button,
                self.lineage_view,
                self.notebook_link,
                self.log_view,
                self.notebook_view,
                self.errors,
            ]
        )
        self.widget.add_class("kit-run-monitor")
        self.refresh()
        if not (self.run and self.run.finished):
            self.start()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    # -- data --------------------------------------------------------------------------------------
    def client(self) -> Any:
        """The REST client of the running stack (connected on first use)."""
        if self._client is None:
            from kit.client import connect

            self._client = connect(self._state_dir)
        return self._client

    def graph(self) -> TaskGraph:
        """The DAG's tasks, links and task groups: given, or read from Airflow."""
        if self._graph is None:
            self._graph = dag_graph(self.client(), self.dag_id)
        return self._graph

    def fetch(self) -> DagRun | None:
        """One poll of the API: the run with its task instances (and, while a task waits for a
        person, what it asks)."""
        client = self.client()
        if self.run_id is None:
            run = client.latest_run(self.dag_id)
            if run is not None:
                self.run_id = run.run_id
        else:
            run = client.get_run(self.dag_id, self.run_id)
        self._waiting = []
        if run is not None and any(t.state in WAITING_STATES for t in run.tasks):
            from kit.client.approvals import waiting

            self._waiting = waiting(client, run.dag_id, run.run_id)
        return run

    # -- showing -----------------------------------------------------------------------------------
    def refresh(self) -> DagRun | None:
        """Poll once and update the view; returns the run (None if the DAG has no run yet)."""
        try:
            run = self.fetch()
        except Exception as exc:  # noqa: BLE001 - shown, and the next poll tries again
            self.errors.value = f"<span style='color:#c62828'>{html.escape(str(exc))}</span>"
            return self.run
        self.show(run)
        return run

    def show(self, run: DagRun | None) -> bool:
        """Update the widgets for ``run``; False once the run has finished (polling stops)."""
        self.errors.value = ""
        if run is None:
            self.header.value = f"<b>{html.escape(self.dag_id)}</b>: no runs yet."
            return True
        self.run = run
        self.approvals.show(self._waiting)
        graph = self.graph()
        states = task_states(run.tasks)
        for node in graph.nodes:
            states.setdefault(node.id, "none")
        styles = {task_id: state_style(state) for task_id, state in states.items()}
        self.canvas.graph = run_canvas_graph(
            graph, states, positions=self._positions, layout_fn=self._engine.layout
        )
        svg = self._engine.draw(graph)
        self.graph_view.value = svg_html(mark_svg(svg, styles) if svg else "")
        self.legend.value = legend_html(sorted(set(states.values())))
        done = run_progress(run, len(graph.nodes))
        self.progress.value = done.fraction
        self.progress.description = f"{done.done}/{done.total}"
        self.progress.bar_style = (
            "danger"
            if done.failed or run.state == "failed"
            else "success"
            if run.state == "success"
            else "info"
        )
        colour = state_style(run.state).stroke
        self.state.value = (
            f"<span data-run-state='{html.escape(run.state)}' style='color:{colour};"
            f"font-weight:bold'>run {html.escape(run.state)}</span>"
        )
        airflow = self._airflow_url()
        link = (
            f" · <a href='{html.escape(airflow_run_url(airflow, run.dag_id, run.run_id))}' "
            "target='_blank'>open in Airflow</a>"
            if airflow
            else ""
        )
        self.header.value = (
            f"<b>{html.escape(run.dag_id)}</b> · run <code>{html.escape(run.run_id)}</code>{link}"
        )
        labels = [NO_TASK] + sorted({t.label for t in run.tasks})
        if list(self.task_pick.options) != labels:
            current = self.task_pick.value
            self.task_pick.options = labels
            self.task_pick.value = current if current in labels else NO_TASK
        return not run.finished

    def start(self) -> None:
        """Poll in the background (in a kernel) until the run ends."""
        self.stop()
        if self.background is False:
            return  # the caller polls (refresh/wait)
        self._stop = poll_every(
            self.poll, self.fetch, self.show, on_error=self._poll_failed, thread_fallback=True
        )

    def _poll_failed(self, exc: BaseException) -> bool:
        self.errors.value = f"<span style='color:#c62828'>{html.escape(str(exc))}</span>"
        return True

    def stop(self) -> None:
        """Stop polling."""
        if self._stop is not None:
            self._stop()
            self._stop = None

    def wait(self, timeout: float = 600.0) -> DagRun:
        """Poll (blocking) until the run has finished; returns it."""
        deadline = time.monotonic() + timeout
        while True:
            run = self.refresh()
            if run is not None and run.finished:
                return run
            if time.monotonic() > deadline:
                raise TimeoutError(f"run {self.run_id} of {self.dag_id} did not finish in time")
            time.sleep(min(self.poll, 1.0))

    # -- one task ----------------------------------------------------------------------------------
    def pick(self, task_id: str) -> None:
        """Pick a task as a click on its box does: its first instance if mapped."""
        label = label_for_task(task_id, self.task_pick.options)
        if label is not None:
            self.task_pick.value = label

    def _canvas_intent(self, intent: Intent) -> None:
        if intent.name == "open_log":
            self.pick(intent.args["task"])

    def _task_picked(self, label: str) -> None:
        picked = "" if label == NO_TASK else _parse_label(label)[0]
        self.canvas.selected = picked  # both pictures outline the task picked in the dropdown
        if clickable(self.graph_view):
            self.graph_view.selected = picked
        self.show_task(label)

    def show_task(self, label: str) -> None:
        """Show the log, the output notebook and the MLflow run of a task (``id`` or ``id[i]``)."""
        if label == NO_TASK or self.run is None:
            self.task_info.value = self.log_view.value = self.notebook_view.value = ""
            return
        task_id, map_index = _parse_label(label)
        run = self.run

        def work() -> tuple[str, Any]:
            client = self.client()
            log = client.task_log(run.dag_id, run.run_id, task_id, map_index=map_index)
            try:
                result = client.xcom(run.dag_id, run.run_id, task_id, map_index=map_index)
            except Exception:  # noqa: BLE001 - a task without a result is normal
                result = None
            return log, result

        def done(found: tuple[str, Any]) -> None:
            log, result = found
            self.log_view.value = "<b>Log</b>" + code_html(log[-60000:], max_height=300)
            self._show_outputs(task_id, result)

        def failed(exc: BaseException, _trace: str) -> None:
            self.log_view.value = f"<span style='color:#c62828'>{html.escape(str(exc))}</span>"

        self.task_info.value = f"<i>loading {html.escape(label)} …</i>"
        run_later(work, done, failed, background=self.background)

    def _show_outputs(self, task_id: str, result: Any) -> None:
        outputs = outputs_from_result(result)
        # Where this machine finds it (a container reports /opt/airflow/artifacts/...).
        notebook = (
            str(local_artifact_path(outputs.output_notebook)) if outputs.output_notebook else None
        )
        parts = [f"<b>{html.escape(task_id)}</b>"]
        airflow = self._airflow_url()
        if airflow and self.run is not None:
            url = airflow_run_url(airflow, self.run.dag_id, self.run.run_id, task_id)
            parts.append(f"<a href='{html.escape(url)}' target='_blank'>task in Airflow</a>")
        if notebook:
            parts.append(f"output notebook: <code>{html.escape(notebook)}</code>")
        if outputs.mlflow_run_id:
            url = mlflow_run_url(self._mlflow(), outputs.mlflow_run_id)
            parts.append(f"<a href='{html.escape(url)}' target='_blank'>MLflow run</a>")
        elif result is not None:
            parts.append("result: <code>" + html.escape(repr(result)[:300]) + "</code>")
        self.task_info.value = " · ".join(parts)
        if outputs.registered_model:
            self._lineage_target = ("model", outputs.registered_model)
        elif outputs.mlflow_run_id:
            self._lineage_target = ("run", outputs.mlflow_run_id)
        else:
            self._lineage_target = None
        self.lineage_button.layout.display = "" if self._lineage_target else "none"
        self.lineage_view.value = ""
        self.notebook_link.outputs = (
            (notebook_link_output(notebook, Path.cwd()),) if notebook else ()
        )
        self.notebook_view.value = notebook_html(notebook) if notebook else ""

    def show_lineage(self) -> None:
        """The lineage chain of the picked task's registered model version, else of its try's
        MLflow run: commit, notebook digest, parameters, with links."""
        target = self._lineage_target
        if target is None:
            self.lineage_view.value = ""
            return
        mlflow_url = self._mlflow()

        def work() -> str:
            from kit.lineage.chain import build, build_for_run, parse_ref
            from kit.lineage.sources import live_sources

            sources = live_sources(self.client(), mlflow_url)
            kind, what = target
            chain = build(parse_ref(what), sources) if kind == "model" else None
            return lineage_html(chain or build_for_run(what, sources))

        def done(page: str) -> None:
            self.lineage_view.value = page

        def failed(exc: BaseException, _trace: str) -> None:
            self.lineage_view.value = (
                f"<span style='color:#c62828'>lineage: {html.escape(str(exc))}</span>"
            )

        self.lineage_view.value = "<i>following the lineage …</i>"
        run_later(work, done, failed, background=self.background)

    def _airflow_url(self) -> str:
        return str(getattr(self._client, "url", "") or "")

    def _mlflow(self) -> str:
        if self._mlflow_url:
            return self._mlflow_url
        import os

        return os.environ.get("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")


def dag_graph(client: Any, dag_id: str) -> TaskGraph:
    """A DAG's graph as Airflow parsed it, task groups included (``kit.client.dag_reads``); from
    the task list alone for a client that is not the kit's REST client."""
    from kit.client.airflow import AirflowClient

    if isinstance(client, AirflowClient):
        from kit.client.dag_reads import dag_structure
        from kit.dagview.graph import structure_graph

        return structure_graph(dag_structure(client, dag_id))
    return graph_from_dag_tasks(dag_id, client.dag_tasks(dag_id))


def run_canvas_graph(
    graph: TaskGraph,
    states: dict[str, str],
    *,
    positions: dict[str, Any] | None = None,
    layout_fn: Callable[[TaskGraph], Layout] | None = None,
) -> dict[str, Any]:
    """The run's canvas: the DAG's tasks coloured by state (a task with no instance yet shows
    "no status"), placed where the designer's canvas had them, if it did."""
    kwargs = {"layout_fn": layout_fn} if layout_fn is not None else {}
    everyone = {node.id: states.get(node.id, "none") for node in graph.nodes}
    return canvas_graph_of(graph, positions=positions, states=everyone, **kwargs)


def _parse_label(label: str) -> tuple[str, int]:
    if label.endswith("]") and "[" in label:
        task_id, _, index = label[:-1].partition("[")
        return task_id, int(index)
    return label, -1


def notebook_link_output(path: str, cwd: Path) -> dict[str, Any]:
    """An output (as in a notebook's ``outputs``) linking to the output notebook by its path
    relative to ``cwd``, the kernel's folder, which JupyterLab resolves links against: a click
    opens it in a JupyterLab tab, if it lies under the folder JupyterLab serves."""
    relative = os.path.relpath(path, cwd)
    href = html.escape(urllib.parse.quote(Path(relative).as_posix()), quote=True)
    page = html.escape(Path(path).with_suffix(".html").name)
    markup = (
        f"<a class='kit-open-notebook' href='{href}'>open the output notebook in JupyterLab</a>"
        f" <span style='color:#777'>({html.escape(Path(path).name)}; its HTML page {page} "
        "is beside it)</span>"
    )
    return {
        "output_type": "display_data",
        "data": {"text/html": markup, "text/plain": f"output notebook: {path}"},
        "metadata": {},
    }


def notebook_html(path: str, max_height: int = 400) -> str:
    """An executed notebook rendered to HTML (nbconvert's basic template), or why not."""
    try:
        import nbformat
        from nbconvert import HTMLExporter

        body, _ = HTMLExporter(template_name="basic").from_notebook_node(
            nbformat.read(path, as_version=4)
        )
    except Exception as exc:  # noqa: BLE001 - the notebook may be on another machine
        return f"<i>output notebook not readable here: {html.escape(str(exc))}</i>"
    return (
        f"<b>Output notebook</b><div style='max-height:{max_height}px;overflow:auto;"
        f"border:1px solid #ddd;padding:4px'>{body}</div>"
    )

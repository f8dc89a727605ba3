"""The run view's logic (pure): task states -> colours, the run's graph, progress, and marks on
the preview SVG (task states, invalid tasks), plus what a task's result says about its outputs."""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kit.preview.graph import Node, TaskGraph

if TYPE_CHECKING:  # kit.client imports the whole REST client: only when a run is shown
    from kit.client.models import DagRun, DagTask, TaskRun
    from kit.lineage.chain import Chain

SVG_NS = "http://www.w3.org/2000/svg"
ET.register_namespace("", SVG_NS)


@dataclass(frozen=True)
class Style:
    """How a task state is drawn: box fill, border and legend label."""

    fill: str
    stroke: str
    label: str


# Close to the Airflow UI's state colours, lightened so the task names stay readable.
STATE_STYLES: dict[str, Style] = {
    "success": Style("#c8e6c9", "#2e7d32", "success"),
    "failed": Style("#ffcdd2", "#c62828", "failed"),
    "upstream_failed": Style("#ffe0b2", "#e65100", "upstream failed"),
    "running": Style("#b3e5fc", "#0277bd", "running"),
    "queued": Style("#e0e0e0", "#616161", "queued"),
    "scheduled": Style("#e1d5e7", "#6a1b9a", "scheduled"),
    "up_for_retry": Style("#fff59d", "#f9a825", "up for retry"),
    "up_for_reschedule": Style("#b2dfdb", "#00695c", "up for reschedule"),
    "deferred": Style("#d1c4e9", "#4527a0", "deferred"),
    "awaiting_input": Style("#ffe0b2", "#ff8c00", "awaiting input"),  # Airflow's darkorange
    "restarting": Style("#f8bbd0", "#ad1457", "restarting"),
    "skipped": Style("#f8bbd0", "#c2185b", "skipped"),
    "removed": Style("#eeeeee", "#9e9e9e", "removed"),
    "none": Style("#ffffff", "#9e9e9e", "no status"),
}
INVALID_STYLE = Style("#ffebee", "#d32f2f", "invalid")

# Which state a group of mapped instances shows: the most telling one first.
_PRIORITY = (
    "failed",
    "upstream_failed",
    "up_for_retry",
    "restarting",
    "awaiting_input",
    "running",
    "deferred",
    "up_for_reschedule",
    "queued",
    "scheduled",
    "none",
    "skipped",
    "removed",
    "success",
)


def state_style(state: str | None) -> Style:
    """The style of a task state (an unknown or missing state: as ``none``)."""
    return STATE_STYLES.get(state or "none", STATE_STYLES["none"])


def aggregate_state(states: Iterable[str | None]) -> str:
    """One state for a task with several instances (mapped): the most telling of them."""
    present = {state or "none" for state in states}
    if not present:
        return "none"
    for state in _PRIORITY:
        if state in present:
            return state
    return sorted(present)[0]


def task_states(tasks: Iterable[TaskRun]) -> dict[str, str]:
    """Task id -> its (aggregated) state."""
    grouped: dict[str, list[str | None]] = {}
    for task in tasks:
        grouped.setdefault(task.task_id, []).append(task.state)
    return {task_id: aggregate_state(states) for task_id, states in grouped.items()}


@dataclass(frozen=True)
class Progress:
    """How far a run is: task instances done, in all, failed."""

    done: int
    total: int
    failed: int

    @property
    def fraction(self) -> float:
        """The share done, 0.0 to 1.0."""
        return self.done / self.total if self.total else 0.0


def run_progress(run: DagRun, expected_tasks: int = 0) -> Progress:
    """Finished task instances out of all known ones (at least the tasks of the DAG)."""
    from kit.client.models import FINISHED_TASK_STATES

    done = sum(task.state in FINISHED_TASK_STATES for task in run.tasks)
    failed = sum(task.state in ("failed", "upstream_failed") for task in run.tasks)
    total = max(len(run.tasks), expected_tasks)
    if run.finished:
        done = total
    return Progress(done, total, failed)


def graph_from_dag_tasks(dag_id: str, tasks: Iterable[DagTask]) -> TaskGraph:
    """The graph of a DAG from the tasks Airflow loaded (``AirflowClient.dag_tasks``)."""
    rows = sorted(tasks, key=lambda t: t.task_id)
    nodes = tuple(Node(t.task_id, t.operator or "task", t.mapped) for t in rows)
    known = {t.task_id for t in rows}
    edges = tuple((t.task_id, down) for t in rows for down in sorted(t.downstream) if down in known)
    return TaskGraph(dag_id, nodes, edges)


def label_for_task(task_id: str, labels: Iterable[str]) -> str | None:
    """The run view's label for a task clicked in the graph: ``id``, or for a mapped task its
    first instance ``id[0]``; None when the run has no instance of it (yet)."""
    labels = list(labels)
    if task_id in labels:
        return task_id
    return next((label for label in labels if label.startswith(f"{task_id}[")), None)


def mark_svg(
    svg: str,
    styles: Mapping[str, Style],
    *,
    notes: Mapping[str, str] | None = None,
    data_attr: str = "state",
) -> str:
    """Recolour task boxes of a ``kit.preview.render_svg`` drawing.

    Each ``<g class="task" data-task-id=...>`` in ``styles`` gets the style's fill and stroke on
    its boxes, a ``data-<data_attr>`` attribute with the style's label (for tests and CSS), and
    the note (if any) appended to its tooltip.
    """
    root = ET.fromstring(svg.split("?>", 1)[-1] if svg.startswith("<?xml") else svg)
    notes = notes or {}
    for group in root.iter(f"{{{SVG_NS}}}g"):
        if group.get("class") != "task":
            continue
        task_id = group.get("data-task-id")
        style = styles.get(task_id or "")
        if style is None:
            continue
        group.set(f"data-{data_attr}", style.label.replace(" ", "_"))
        for rect in group.iter(f"{{{SVG_NS}}}rect"):
            rect.set("fill", style.fill)
            rect.set("stroke", style.stroke)
            rect.set("stroke-width", "2")
        title = group.find(f"{{{SVG_NS}}}title")
        note = notes.get(task_id or "")
        if title is not None:
            title.text = f"{title.text or task_id}: {style.label}" + (f" - {note}" if note else "")
    return ET.tostring(root, encoding="unicode")


def legend_html(states: Iterable[str]) -> str:
    """A one-line legend of the states present."""
    items = []
    for state in dict.fromkeys(states):
        style = state_style(state)
        items.append(
            f'<span style="display:inline-block;margin-right:10px">'
            f'<span style="display:inline-block;width:10px;height:10px;background:{style.fill};'
            f'border:2px solid {style.stroke};vertical-align:middle"></span> {style.label}</span>'
        )
    return "".join(items)


@dataclass(frozen=True)
class TaskOutputs:
    """What a task left behind, as far as its result (XCom) tells."""

    output_notebook: str | None = None
    mlflow_run_id: str | None = None
    registered_model: str | None = None  # "name/version", from a registering task's result


def outputs_from_result(result: Any) -> TaskOutputs:
    """Find the output notebook and MLflow run id in a task's return value (any nesting depth).

    Notebook tasks return ``{"output_notebook": path, ...}``; tasks that log to MLflow may add
    ``mlflow_run_id`` (or ``run_id`` next to an MLflow ``model_uri``).
    """
    notebook: str | None = None
    run_id: str | None = None
    registered: str | None = None
    stack = [result]
    while stack:
        item = stack.pop()
        if isinstance(item, Mapping):
            if notebook is None and isinstance(item.get("output_notebook"), str):
                notebook = item["output_notebook"]
            if run_id is None and isinstance(item.get("mlflow_run_id"), str):
                run_id = item["mlflow_run_id"]
            uri = item.get("registered_uri")  # kit.mlops.registry.register_model's result
            if registered is None and isinstance(uri, str) and uri.startswith("models:/"):
                registered = uri.removeprefix("models:/")
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return TaskOutputs(notebook, run_id, registered)


def lineage_html(chain: Chain) -> str:
    """The lineage chain as a small table: each link's kind, label (linked), facts and problem."""
    rows = []
    for link in chain.links:
        label = html.escape(link.label)
        if link.url:
            label = f"<a href='{html.escape(link.url)}' target='_blank'>{label}</a>"
        details = [
            f"{html.escape(key)}: <code>{html.escape(value)}</code>"
            for key, value in link.facts.items()
            if value
        ]
        if link.problem:
            details.insert(0, f"<b style='color:#c62828'>{html.escape(link.problem)}</b>")
        rows.append(
            f"<tr data-kind='{html.escape(link.kind)}'><td><b>{html.escape(link.kind)}</b></td>"
            f"<td>{label}</td><td>{'<br>'.join(details)}</td></tr>"
        )
    verdict = (
        "complete"
        if chain.complete
        else "<span style='color:#c62828'>incomplete: see the links marked</span>"
    )
    return (
        f"<div class='kit-lineage'><b>Lineage of {html.escape(chain.subject)}</b> ({verdict})"
        f"<table style='font-size:12px'>{''.join(rows)}</table></div>"
    )


def mlflow_run_url(mlflow_url: str, run_id: str, experiment_id: str | None = None) -> str:
    """The MLflow UI page of a run."""
    base = mlflow_url.rstrip("/")
    if experiment_id is not None:
        return f"{base}/#/experiments/{experiment_id}/runs/{run_id}"
    return f"{base}/#/runs/{run_id}"


def airflow_run_url(airflow_url: str, dag_id: str, run_id: str, task_id: str | None = None) -> str:
    """The run's page in Airflow's UI (the task's page when ``task_id`` is given)."""
    url = f"{airflow_url.rstrip('/')}/dags/{dag_id}/runs/{run_id}"
    return f"{url}/tasks/{task_id}" if task_id else url

"""Any DAG on the designer's canvas: a DAG file, or a DAG Airflow knows by id, drawn as Airflow
parsed it (operators, links, nested task groups, mapped tasks), read-only, with live run states.

The structure comes from ``kit.dagview`` (pure): a file through Airflow's own loader (DagBag), an
id through the REST API (``kit.client.dag_reads``). The canvas is put in run mode, which refuses
edits with a message; the status line says why the DAG cannot be edited and, when its operators
are ones ``kit import`` converts, how to turn it into a spec. ``watch`` follows a run of it with
the run view (``RunMonitor``), whose states also colour the designer's canvas.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from kit.dagview.graph import structure_graph
from kit.dagview.model import DagStructure, from_dag
from kit.preview.graph import TaskGraph, load_dag_file
from kit.widgets.canvas import Intent, canvas_graph_of
from kit.widgets.ui import css

if TYPE_CHECKING:
    from kit.client.protocol import AirflowApi

DAG_ID = re.compile(r"^[A-Za-z0-9_.\-]+$")


def looks_like_dag_id(text: str) -> bool:
    """A dag_id rather than a path: no folder, no file suffix the designer loads."""
    return bool(DAG_ID.match(text)) and not text.endswith((".py", ".yaml", ".yml", ".json"))


def structures_from_file(path: str | Path) -> list[DagStructure]:
    """Each DAG a file defines, as Airflow's loader parses it (DagFileError with its import
    error; FileNotFoundError)."""
    return [from_dag(dag) for dag in load_dag_file(path)]


def structure_from_airflow(client: AirflowApi, dag_id: str) -> DagStructure:
    """A DAG Airflow has loaded, by id, through the REST API (DagNotFound naming the known ones)."""
    from kit.client.dag_reads import dag_structure

    return dag_structure(client, dag_id)  # type: ignore[arg-type]


def read_only_message(structure: DagStructure, source: str) -> str:
    """Why the canvas only looks, and what to do to edit it (``source``: the file or the id)."""
    tasks = len(structure.tasks)
    groups = f", {len(structure.groups)} task groups" if structure.groups else ""
    mapped = sum(task.is_mapped for task in structure.tasks)
    mapped_text = f", {mapped} mapped" if mapped else ""
    head = (
        f"{structure.dag_id}: {tasks} tasks{groups}{mapped_text}, as Airflow parsed it, shown "
        "read-only: the canvas edits only the kit's pipeline specs (pipelines/*.yaml), and this "
        "DAG is Python code the kit did not write."
    )
    return f"{head} {import_hint(structure, source)}"


def import_hint(structure: DagStructure, source: str) -> str:
    """``kit import`` when every operator is one it converts; else which ones it does not."""
    from kit.dagimport.converters import converter_names

    covered = set(converter_names())
    others = sorted({t.operator for t in structure.tasks if t.operator not in covered})
    if not others:
        return (
            f"To edit it here, turn it into a spec: kit import {source} "
            f"-o pipelines/{structure.dag_id}.yaml"
        )
    return (
        f"kit import cannot turn it into a spec: it does not convert {', '.join(others)}. "
        "Edit the Python file instead."
    )


def task_text(structure: DagStructure, task_id: str) -> str:
    """One line about a task: operator, group, mapped, where the file makes it."""
    task = structure.task(task_id)
    parts = [f"{task.task_id}: {task.shown_operator}"]
    if task.operator_name:
        parts[0] += f" ({task.operator})"
    if task.group_id:
        parts.append(f"in task group {task.group_id}")
    if task.is_mapped:
        parts.append("mapped (one instance per value)")
    if task.lineno and structure.fileloc:
        parts.append(f"{structure.fileloc}:{task.lineno}")
    return ", ".join(parts)


@dataclass
class ForeignDag:
    """The DAG the designer shows read-only: its structure, the graph drawn, its file if loaded
    from one (``path``) and how to name it to ``kit import`` (``source``)."""

    structure: DagStructure
    graph: TaskGraph
    source: str
    path: Path | None = None

    @property
    def dag_id(self) -> str:
        """The DAG's id (what Airflow runs it as)."""
        return self.structure.dag_id


def foreign_dag(structure: DagStructure, source: str, path: Path | None = None) -> ForeignDag:
    """The record of a DAG to show, its graph made once."""
    return ForeignDag(structure, structure_graph(structure), source, path)


class ForeignDagView:
    """Shows a ``ForeignDag`` on a designer (``host``: its canvas, status line, Run tab and
    client) and follows its runs there."""

    def __init__(self, host: Any) -> None:
        self.host = host
        self.shown: ForeignDag | None = None
        self.run_id = css(widgets.Text(placeholder="run id (empty: the latest run)"), "kit-dag-run")
        self.watch_button = css(
            widgets.Button(description="Watch run", icon="eye", button_style="info"),
            "kit-watch-run",
        )
        self.watch_button.on_click(lambda _b: self._watch_clicked())
        self.picker = widgets.HBox([self.run_id, self.watch_button])
        host.canvas.on_intent(self._intent)

    def show(self, dag: ForeignDag, note: str = "") -> None:
        """Draw the DAG on the canvas, read-only, say why (and ``note``), and offer to watch its
        runs."""
        host = self.host
        self.shown = dag
        canvas = host.canvas
        canvas.mode = "run"  # edits are refused on the canvas itself
        canvas.graph = canvas_graph_of(dag.graph, layout_fn=host.engine.layout)
        canvas.selected = ""
        text = read_only_message(dag.structure, dag.source)
        canvas.message = text
        host.say(text + note, "warn")
        host.run.run_area.children = [
            widgets.HTML(f"<b>Runs of {html.escape(dag.dag_id)}</b> (states on the canvas)"),
            self.picker,
        ]

    def clear(self) -> None:
        """Nothing foreign shown any more (a spec was loaded)."""
        self.shown = None

    def watch(self, run_id: str | None = None, *, client: AirflowApi | None = None) -> Any:
        """Watch a run (the latest if ``run_id`` is None) of the DAG shown: the run view in the
        Run tab, its task states on the designer's canvas too. Returns the ``RunMonitor``."""
        from kit.widgets.monitor import RunMonitor

        dag = self.shown
        if dag is None:
            raise ValueError("no DAG is shown read-only: load a DAG file or a dag_id first")
        host = self.host
        monitor = RunMonitor(
            dag.dag_id,
            run_id,
            client=client or host.client(),
            graph=dag.graph,
            background=host.background,
        )

        def mirror(change: dict[str, Any]) -> None:
            if self.shown is dag:  # still the DAG on the designer's canvas
                host.canvas.graph = change["new"]

        monitor.canvas.observe(mirror, "graph")
        if monitor.canvas.graph:
            host.canvas.graph = monitor.canvas.graph
        host.watch(monitor)
        host.run.run_area.children = [self.picker, monitor.widget]
        return monitor

    def _watch_clicked(self) -> None:
        try:
            self.watch(self.run_id.value.strip() or None)
        except Exception as exc:  # noqa: BLE001 - shown in the designer
            self.host.say(f"Could not watch a run: {exc}", "error")

    def _intent(self, intent: Intent) -> None:
        """A click on a task of the DAG shown: one line about it in the status line."""
        dag = self.shown
        if dag is None or intent.name != "select" or not intent.args["task"]:
            return
        try:
            self.host.say(task_text(dag.structure, intent.args["task"]), "info")
        except KeyError:
            return

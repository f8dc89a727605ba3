"""The run on the pipeline canvas (run mode): tasks coloured by their live state, a click on a
task opens its log. On the shared fake Airflow API, no stack, no browser."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kit.client import AirflowClient
from kit.preview.graph import Node, TaskGraph
from kit.widgets import Designer, RunMonitor
from kit.widgets.monitor import run_canvas_graph
from kit.widgets.runview import STATE_STYLES
from tests.fakes.airflow_api import FakeAirflow
from tests.fakes.airflow_world import FakeTask

GRAPH = TaskGraph("d", (Node("a", "bash"), Node("m", "python", mapped=True)), (("a", "m"),))


def states_of(monitor: RunMonitor) -> dict[str, str | None]:
    return {node["id"]: node.get("state") for node in monitor.canvas.graph["nodes"]}


@pytest.fixture
def fake() -> Iterator[tuple[FakeAirflow, AirflowClient]]:
    with FakeAirflow() as fake:
        fake.add_dag("d", task_ids=("a", "m"), downstream={"a": ("m",)}, mapped=frozenset("m"))
        client = AirflowClient(fake.url, "admin", "pw", timeout=2.0)
        yield fake, client


def test_states_colour_the_canvas_and_tasks_without_one_show_no_status() -> None:
    drawn = run_canvas_graph(GRAPH, {"a": "running"}, positions={"m": (300, 40)})
    nodes = {node["id"]: node for node in drawn["nodes"]}
    assert nodes["a"]["state"] == "running" and nodes["a"]["fill"] == STATE_STYLES["running"].fill
    assert nodes["m"]["state"] == "no_status" and nodes["m"]["stroke"] == "#9e9e9e"
    assert (nodes["m"]["x"], nodes["m"]["y"], nodes["m"]["pinned"]) == (300.0, 40.0, True)
    assert nodes["m"]["mapped"] is True
    assert [(e["source"], e["target"]) for e in drawn["edges"]] == [("a", "m")]


def test_the_run_canvas_follows_the_run_live(fake: tuple[FakeAirflow, AirflowClient]) -> None:
    airflow, client = fake
    run = airflow.add_run("d", "r1", state="running")  # a running, m not started
    monitor = RunMonitor("d", "r1", client=client, graph=GRAPH, background=False)
    assert monitor.canvas.mode == "run" and "kit-run-canvas" in monitor.canvas._dom_classes
    assert monitor.canvas in monitor.widget.children
    assert states_of(monitor) == {"a": "running", "m": "no_status"}
    run.tasks[0].state = "success"
    run.tasks[1:] = [FakeTask("m", map_index=0), FakeTask("m", map_index=1)]
    run.tasks[1].state, run.tasks[2].state = "success", "running"
    monitor.refresh()
    assert states_of(monitor) == {"a": "success", "m": "running"}  # the most telling instance
    airflow.finish_run("d", "r1")
    monitor.refresh()
    assert states_of(monitor) == {"a": "success", "m": "success"}
    assert monitor.run is not None and monitor.run.finished


def test_a_click_on_a_task_opens_its_log(fake: tuple[FakeAirflow, AirflowClient]) -> None:
    airflow, client = fake
    run = airflow.add_run("d", "r1")
    run.tasks = [FakeTask("a"), FakeTask("m", map_index=0), FakeTask("m", map_index=1)]
    for task in run.tasks:
        task.log = [{"timestamp": None, "event": f"log of {task.task_id} #{task.map_index}"}]
    airflow.finish_run("d", "r1")
    monitor = RunMonitor("d", "r1", client=client, background=False)
    # What the front end sends on a click in run mode: select, then open_log.
    assert monitor.canvas.handle_intent({"intent": "select", "task": "m"}) is not None
    assert monitor.canvas.handle_intent({"intent": "open_log", "task": "m"}) is not None
    assert monitor.task_pick.value == "m[0]"  # a mapped task: its first instance
    assert "log of m #0" in monitor.log_view.value
    assert monitor.canvas.selected == "m"
    monitor.task_pick.value = "a"  # the dropdown outlines the task on the canvas too
    assert monitor.canvas.selected == "a" and "log of a #-1" in monitor.log_view.value
    # The run canvas is read-only: an edit is refused, saying so.
    assert monitor.canvas.handle_intent({"intent": "delete", "task": "a"}) is None
    assert "not possible in run mode" in monitor.canvas.message
    monitor.canvas.handle_intent({"intent": "open_log", "task": "not_in_run"})
    assert monitor.task_pick.value == "a"


def test_the_designers_canvas_opens_a_log_of_the_run_it_watches(
    project: Path, fake: tuple[FakeAirflow, AirflowClient]
) -> None:
    airflow, client = fake
    run = airflow.add_run("d", "r1")
    run.tasks[0].log = [{"timestamp": None, "event": "hello from a"}]
    airflow.finish_run("d", "r1")
    d: Any = Designer(project_dir=project, dags_dir=project / "dags", background=False)
    d.canvas.handle_intent({"intent": "open_log", "task": "a"})  # no run watched: nothing
    assert d.side_panel.shown is d.pipeline
    d.monitor = RunMonitor("d", "r1", client=client, background=False)
    d.canvas.handle_intent({"intent": "open_log", "task": "a"})
    assert d.side_panel.shown is d.run and d.monitor.task_pick.value == "a"
    assert "hello from a" in d.monitor.log_view.value

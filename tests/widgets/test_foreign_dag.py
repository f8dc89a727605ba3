"""Any DAG on the designer's canvas, read-only: a DAG file (Airflow's own example DAGs, loaded by
Airflow's loader in-process) or a dag_id from Airflow (the shared fake Airflow API), with task
groups, mapped tasks, a message saying why it cannot be edited, and a run's states."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kit.client import AirflowClient
from kit.dagview import DagStructure, TaskNode
from kit.spec.io import spec_from_mapping
from kit.widgets import Designer, RunMonitor
from kit.widgets.draft import PipelineDraft
from kit.widgets.foreign_dag import import_hint, looks_like_dag_id
from tests.dagview.conftest import example_file
from tests.fakes.airflow_api import FakeAirflow


def designer(project: Path, **kw: Any) -> Designer:
    return Designer(project_dir=project, dags_dir=project / "dags", background=False, **kw)


def nodes(d: Designer) -> dict[str, dict[str, Any]]:
    return {node["id"]: node for node in d.canvas.graph["nodes"]}


def test_a_dag_file_is_drawn_on_the_canvas_read_only(project: Path, airflow_env: Any) -> None:
    path = example_file("example_task_group.py")
    d = designer(project)
    d.load(path)
    assert d.read_only_path == path and d.foreign.shown is not None
    assert d.canvas.mode == "run"
    drawn = nodes(d)
    assert set(drawn) == {t.task_id for t in d.foreign.shown.structure.tasks}
    assert len(drawn) == 9
    assert drawn["section_2.inner_section_2.task_2"]["group"] == "section_2.inner_section_2"
    assert drawn["section_1.task_2"]["kind"] == "BashOperator"
    assert [(g["id"], g["depth"]) for g in d.canvas.graph["groups"]] == [
        ("section_1", 0),
        ("section_2", 0),
        ("section_2.inner_section_2", 1),
    ]
    links = {(e["source"], e["target"]) for e in d.canvas.graph["edges"]}
    assert links == set(d.foreign.shown.structure.edges)
    # Read-only, saying why and how to edit it.
    status = d.toolbar.status.value
    assert "read-only" in status and "kit import" in status and "example_task_group" in status
    assert "read-only" in d.canvas.message
    assert d.toolbar.export_button.disabled and d.toolbar.deploy_button.disabled
    assert d.canvas.handle_intent({"intent": "delete", "task": "start"}) is None
    assert "read-only" in d.canvas.message and "start" in nodes(d)
    # A click on a task says what it is and where the file makes it.
    d.canvas.handle_intent({"intent": "select", "task": "section_1.task_2"})
    assert "BashOperator" in d.toolbar.status.value and "in task group section_1" in (
        d.toolbar.status.value
    )
    assert f"{path}:" in d.toolbar.status.value
    assert "example_task_group" in d.code.code_view.value  # the file, in the Code tab


def test_a_file_of_several_dags_shows_one_and_names_the_others(
    project: Path, airflow_env: Any
) -> None:
    path = example_file("example_dynamic_task_mapping.py")
    d = designer(project, spec_or_path=path)
    assert d.foreign.shown is not None and d.foreign.shown.dag_id == "example_dynamic_task_mapping"
    assert {i: n["mapped"] for i, n in nodes(d).items()} == {"add_one": True, "sum_it": False}
    assert "Also in this file" in d.toolbar.status.value
    assert "example_task_group_mapping" in d.toolbar.status.value
    d.load(path, dag_id="example_task_group_mapping")
    assert {i: n["mapped"] for i, n in nodes(d).items()} == {"op.add_1": True, "op.mul_2": True}
    d.load(path, dag_id="nope")
    assert "has no DAG &#x27;nope&#x27;" in d.toolbar.status.value


@pytest.fixture
def fake() -> Iterator[tuple[FakeAirflow, AirflowClient]]:
    with FakeAirflow() as airflow:
        airflow.add_dag(
            "theirs",
            task_ids=("extract", "grp.clean", "grp.check"),
            downstream={"extract": ("grp.clean",), "grp.clean": ("grp.check",)},
            mapped=frozenset({"grp.clean"}),
        )
        yield airflow, AirflowClient(airflow.url, "admin", "pw", timeout=2.0)


def test_a_dag_airflow_knows_by_id_with_a_runs_states_and_logs(
    project: Path, fake: tuple[FakeAirflow, AirflowClient]
) -> None:
    airflow, client = fake
    d = designer(project, client=client, dag_id="theirs")
    assert d.canvas.mode == "run" and set(nodes(d)) == {"extract", "grp.clean", "grp.check"}
    # The fake has no UI structure route: the groups are read from the ids' prefixes.
    assert [g["id"] for g in d.canvas.graph["groups"]] == ["grp"]
    assert nodes(d)["grp.clean"]["mapped"] and nodes(d)["grp.clean"]["label"] == "clean"
    assert "read-only" in d.toolbar.status.value
    # The latest run, its states on the designer's canvas, a click opens a task's log.
    airflow.add_run("theirs", "r1", state="running")
    monitor = d.foreign.watch()
    assert d.monitor is monitor and monitor.canvas in monitor.widget.children
    states = {i: n.get("state") for i, n in nodes(d).items()}
    assert states == {"extract": "running", "grp.clean": "no_status", "grp.check": "no_status"}
    assert [g["id"] for g in d.canvas.graph["groups"]] == ["grp"]  # the groups stay drawn
    airflow.finish_run("theirs", "r1")
    monitor.refresh()
    assert {n.get("state") for n in nodes(d).values()} == {"success"}
    d.canvas.handle_intent({"intent": "open_log", "task": "extract"})
    assert monitor.task_pick.value == "extract" and "extract done" in monitor.log_view.value
    # The run view alone, by dag_id, draws the task groups too.
    alone = RunMonitor("theirs", client=client, background=False)
    assert [g["id"] for g in alone.canvas.graph["groups"]] == ["grp"]
    # A spec loaded again: the canvas edits it, and the run's polls no longer draw on it.
    data = PipelineDraft.blank("again")
    data["tasks"] = [{"id": "a", "kind": "bash", "settings": {"command": "true"}}]
    d.load(spec_from_mapping(data))
    assert d.canvas.mode == "edit" and set(nodes(d)) == {"a"} and d.read_only_path is None
    monitor.refresh()
    assert set(nodes(d)) == {"a"} and d.canvas.graph["groups"] == []


def test_the_load_box_takes_a_dag_id_and_an_unknown_one_is_named(
    project: Path, fake: tuple[FakeAirflow, AirflowClient]
) -> None:
    _airflow, client = fake
    d = designer(project, client=client)
    d.toolbar.load_path.value = "theirs"
    d.toolbar.load_button.click()
    assert d.foreign.shown is not None and d.foreign.shown.dag_id == "theirs"
    d.load("nobody_has_this")
    assert "Could not load DAG &#x27;nobody_has_this&#x27;" in d.toolbar.status.value
    assert "theirs" in d.toolbar.status.value  # the known DAGs are named


def test_the_import_hint_names_what_kit_import_does_not_convert() -> None:
    def task(operator: str) -> TaskNode:
        return TaskNode("t_" + operator, operator, None, False, None)

    ok = DagStructure("d", None, [task("BashOperator"), task("EmptyOperator")], [], {})
    assert import_hint(ok, "dags/d.py") == (
        "To edit it here, turn it into a spec: kit import dags/d.py -o pipelines/d.yaml"
    )
    other = DagStructure("d", None, [task("ExternalTaskSensor"), task("BashOperator")], [], {})
    assert "does not convert ExternalTaskSensor" in import_hint(other, "d")
    assert looks_like_dag_id("example_task_group") and not looks_like_dag_id("dags/x.py")
    assert not looks_like_dag_id("x.yaml")

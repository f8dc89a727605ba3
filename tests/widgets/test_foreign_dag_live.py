"""Issue #26, Done when 1 (the canvas half), live on the session stack: three of Airflow's own
example DAGs made visible to the stack (committed to its versioned bundle), opened by dag_id on
the designer's canvas read-only as Airflow parsed them, one triggered and its live states seen on
the canvas until success, and a task's log opened from a click on its box."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from kit.client.dag_reads import structure_nodes
from kit.dagview import from_dag
from kit.preview.graph import load_dag_file
from kit.widgets import Designer
from tests.dagview.conftest import example_file

pytestmark = pytest.mark.stack

# file -> the DAG of it opened on the canvas
EXAMPLES = {
    "example_task_group.py": "example_task_group",  # nested task groups
    "example_dynamic_task_mapping.py": "example_task_group_mapping",  # a mapped task group
    "example_simplest_dag.py": "example_simplest_dag",  # one @task
}


def shape(structure: Any) -> tuple[Any, ...]:
    tasks = sorted(
        (t.task_id, t.operator, t.operator_name, t.group_id, t.is_mapped) for t in structure.tasks
    )
    return tasks, structure.edges, structure.groups


def test_airflow_example_dags_on_the_canvas_with_live_states(
    stack: Any, client: Any, project: Path, airflow_env: Any
) -> None:
    started = time.monotonic()
    dags_dir = stack.settings.dags_dir
    for name, dag_id in EXAMPLES.items():
        shutil.copy(example_file(name), dags_dir / name)
        client.make_visible(dag_id, dags_dir / name, timeout=120)
    visible = time.monotonic() - started

    designer = Designer(project_dir=project, dags_dir=dags_dir, client=client, background=False)
    for name, dag_id in EXAMPLES.items():
        designer.load_dag(dag_id)
        shown = designer.foreign.shown
        assert shown is not None and shown.dag_id == dag_id, designer.toolbar.status.value
        # As Airflow parsed it: the same structure as Airflow's loader gives in this process.
        (local,) = [d for d in load_dag_file(example_file(name)) if d.dag_id == dag_id]
        assert shape(shown.structure) == shape(from_dag(local)), dag_id
        assert designer.canvas.mode == "run" and "read-only" in designer.toolbar.status.value
        drawn = {n["id"] for n in designer.canvas.graph["nodes"]}
        assert drawn == {t.task_id for t in local.tasks}
    # The groups came from Airflow's structure route, not the dotted-id fallback.
    assert structure_nodes(client, "example_task_group") is not None

    designer.load_dag("example_task_group")
    groups = [(g["id"], g["depth"]) for g in designer.canvas.graph["groups"]]
    assert groups == [("section_1", 0), ("section_2", 0), ("section_2.inner_section_2", 1)]
    run = client.trigger("example_task_group")
    monitor = designer.foreign.watch(run.run_id)
    seen = {n.get("state") for n in designer.canvas.graph["nodes"]}
    deadline = time.monotonic() + 90
    while not (monitor.run and monitor.run.finished) and time.monotonic() < deadline:
        monitor.refresh()
        seen |= {n.get("state") for n in designer.canvas.graph["nodes"]}
        time.sleep(0.5)
    assert monitor.run is not None and monitor.run.state == "success", monitor.run
    states = {n["id"]: n.get("state") for n in designer.canvas.graph["nodes"]}
    assert set(states.values()) == {"success"}, states
    assert len(seen) > 1, seen  # live: other states were drawn on the way
    assert len(designer.canvas.graph["groups"]) == 3
    # A click on a task's box opens its log.
    designer.canvas.handle_intent({"intent": "open_log", "task": "section_1.task_2"})
    assert monitor.task_pick.value == "section_1.task_2"
    assert "echo 1" in monitor.log_view.value, monitor.log_view.value[-2000:]
    print(f"visible in {visible:.1f} s; total {time.monotonic() - started:.1f} s")

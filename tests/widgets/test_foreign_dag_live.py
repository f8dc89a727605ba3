"""Issue #26, Done when 1, live on the session stack: three of Airflow's own example DAGs made
visible to the stack (committed to its versioned bundle), opened by dag_id on the designer's
canvas read-only as Airflow parsed them, one triggered and its live states seen on the canvas
until success, a task's log opened from a click on its box; then `kit import` by dag_id turns
the convertible one into a spec (proven: its re-export serializes equal to the original) and
refuses the others, naming task, operator and line."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from kit.cli import main
from kit.client.dag_reads import structure_nodes
from kit.dagview import from_dag
from kit.preview.graph import load_dag_file
from kit.spec.io import load_spec
from kit.widgets import Designer
from tests.dagview.conftest import example_file

pytestmark = pytest.mark.stack

# file -> the DAG of it opened on the canvas
EXAMPLES = {
    "example_task_group.py": "example_task_group",  # nested task groups
    "example_dynamic_task_mapping.py": "example_task_group_mapping",  # a mapped task group
    "example_complex.py": "example_complex",  # 37 tasks of plain operators: convertible
}
CONVERTIBLE = {"example_complex"}


def shape(structure: Any) -> tuple[Any, ...]:
    tasks = sorted(
        (t.task_id, t.operator, t.operator_name, t.group_id, t.is_mapped) for t in structure.tasks
    )
    return tasks, structure.edges, structure.groups


def test_airflow_example_dags_on_the_canvas_with_live_states(
    stack: Any, client: Any, project: Path, airflow_env: Any, capsys: Any
) -> None:
    started = time.monotonic()
    dags_dir = stack.settings.dags_dir
    for name, dag_id in EXAMPLES.items():
        shutil.copy(example_file(name), dags_dir / name)
        client.make_visible(dag_id, dags_dir / name, timeout=120)
    visible = time.monotonic() - started

    designer = Designer(project_dir=project, dags_dir=dags_dir, client=client, background=False)
    designer_tasks: dict[str, Any] = {}
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
        designer_tasks[dag_id] = local.tasks
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

    # kit import by dag_id, through the stack: the convertible one becomes a spec whose re-export
    # serializes equal to the original (the proof runs inside import); the others are refused.
    state = ["--state-dir", str(stack.settings.state_dir), "--project-dir", str(project)]
    for name, dag_id in EXAMPLES.items():
        out = project / "pipelines" / f"{dag_id}.yaml"
        code = main(["import", dag_id, "-o", str(out), *state])
        said = capsys.readouterr()
        if dag_id in CONVERTIBLE:
            assert code == 0, said.err
            assert "round trip proven" in said.out
            assert "differs from the file Airflow runs" not in said.err  # what runs: no warning
            spec = load_spec(out)
            assert sorted(spec.task_ids) == sorted(t.task_id for t in designer_tasks[dag_id])
        else:
            assert code == 1 and not out.exists(), said
            assert "task group" in said.err and f"{name}:" in said.err, said.err
    # Edited here but not deployed: the import says that the file here is not what runs.
    (dag_file,) = [dags_dir / n for n, d in EXAMPLES.items() if d in CONVERTIBLE]
    dag_file.write_text(dag_file.read_text() + "\n# edited, not deployed\n")
    out = project / "pipelines" / "edited.yaml"
    assert main(["import", "example_complex", "-o", str(out), *state]) == 0
    said = capsys.readouterr().err
    assert f"dags/{dag_file.name} here differs from the file Airflow runs (bundle commit" in said
    print(f"visible in {visible:.1f} s; total {time.monotonic() - started:.1f} s")

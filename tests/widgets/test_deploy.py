"""Deploy & run from the designer against the session's real Airflow, and the run view."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from kit.widgets import Designer, RunMonitor
from tests.widgets.test_designer import build_pipeline

pytestmark = pytest.mark.stack


def test_deploy_and_run_then_watch_the_run_to_success(project: Path, stack, client) -> None:
    dag_id = f"widget_deploy_{uuid.uuid4().hex[:6]}"
    d = Designer(
        project_dir=project, dags_dir=stack.settings.dags_dir, client=client, background=False
    )
    build_pipeline(d)
    d.pipeline.dag_id.value = dag_id
    d.run.run_inputs["n"].value = "3"
    d.toolbar.deploy_button.click()
    assert d.monitor is not None, d.toolbar.status.value
    assert (stack.settings.dags_dir / f"{dag_id}.py").is_file()
    run = d.monitor.wait(timeout=600)
    assert run.state == "success", [(t.task_id, t.state) for t in run.tasks]
    assert d.side_panel.shown is d.run
    # The Airflow API agrees: the run got the typed run parameter and every task succeeded.
    api_run = client.get_run(dag_id, run.run_id)
    assert api_run.conf == {"n": 3}
    assert {t.task_id: t.state for t in api_run.tasks} == {
        "prepare": "success",
        "square": "success",
        "report": "success",
    }
    monitor = d.monitor
    assert monitor.graph_view.value.count('data-state="success"') == 3
    assert monitor.progress.value == 1.0 and monitor.progress.bar_style == "success"
    assert "run success" in monitor.state.value
    # Pick the notebook task: its log, its output notebook (x=3 squared) appear.
    monitor.task_pick.value = "square"
    assert "square" in monitor.log_view.value
    assert "output notebook" in monitor.task_info.value
    assert "sq 9.0" in monitor.notebook_view.value
    # The run view on its own, for any DAG: latest run, graph from Airflow's task list.
    alone = RunMonitor(dag_id, client=client, background=False)
    assert alone.run_id == run.run_id
    assert {n.id for n in alone.graph().nodes} == {"prepare", "square", "report"}
    assert alone.graph().edges == (("prepare", "square"), ("square", "report"))
    assert alone.graph_view.value.count('data-state="success"') == 3


def test_run_monitor_of_a_dag_without_runs_says_so(stack, client, write_dag) -> None:
    dag_id = f"widget_norun_{uuid.uuid4().hex[:6]}"
    path = write_dag(dag_id)
    client.make_visible(dag_id, path, timeout=180)
    monitor = RunMonitor(dag_id, client=client, background=False)
    assert monitor.run is None and "no runs yet" in monitor.header.value


def test_a_run_parameter_out_of_bounds_is_refused_by_airflow_and_shown(
    project: Path, stack, client
) -> None:
    dag_id = f"widget_bounds_{uuid.uuid4().hex[:6]}"
    d = Designer(
        project_dir=project, dags_dir=stack.settings.dags_dir, client=client, background=False
    )
    build_pipeline(d)
    d.pipeline.dag_id.value = dag_id
    d.params.param_inputs["n"]["maximum"].value = "10"
    d.run.run_inputs["n"].value = "99"
    d.toolbar.deploy_button.click()
    # Exported and loaded, but Airflow's Params refused the run: the widget says what and why.
    assert (stack.settings.dags_dir / f"{dag_id}.py").is_file()
    assert d.monitor is None
    status = d.toolbar.status.value
    assert "Deploy failed: Airflow refused to start" in status, status
    assert "99" in status and "10" in status, status
    assert client.runs(dag_id) == []

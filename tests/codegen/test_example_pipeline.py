"""The example pipeline `make demo` runs: exports, loads without import error, runs correctly."""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
from pathlib import Path

import pytest

from kit.codegen import export
from tests.conftest_pipeline import EXAMPLE_PIPELINE


def run_with_dag_test(dag_path: str, env: dict[str, str]) -> tuple[str, dict[str, str]]:
    """In a fresh interpreter: Airflow's own loader and ``dag.test()`` on the exported file.

    A process of its own, because ``dag.test()`` writes through Airflow's process-wide state
    (configuration, ORM session, DAG bundles), which other tests of the session also touch."""
    os.environ.update(env)
    from airflow.utils import db

    from tests.conftest_pipeline import load_single_dag

    db.initdb()
    dag = load_single_dag(Path(dag_path))
    run = dag.test(run_conf={"rows": 50, "noise": 0.01})
    return str(run.state), {ti.task_id: str(ti.state) for ti in run.get_task_instances()}


def test_example_pipeline_runs_with_dag_test(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "pipelines").mkdir(parents=True)
    home, dags = tmp_path / "home", tmp_path / "dags"
    home.mkdir()
    dags.mkdir()
    shutil.copy(EXAMPLE_PIPELINE, project / "pipelines")
    # dag.test() syncs the configured dags folder to the database, so export there.
    result = export(
        project / "pipelines" / EXAMPLE_PIPELINE.name, project_dir=project, dags_dir=dags
    )
    env = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "KIT_PROJECT_DIR": str(project),
    }
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        state, states = pool.apply(run_with_dag_test, (str(result.dag_path), env))
    assert state == "success", states
    assert set(states.values()) == {"success"}

    (summary_file,) = (project / "artifacts" / "example_pipeline").glob("*/summary.json")
    summary = json.loads(summary_file.read_text())
    assert summary["rows"] == 50
    assert summary["slope"] == pytest.approx(2.0, abs=0.01)
    assert summary["intercept"] == pytest.approx(1.0, abs=0.05)
    assert (summary_file.parent / "dataset.csv").read_text().count("\n") == 51

"""The example pipeline `make demo` runs: exports, loads without import error, runs correctly."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from kit.codegen import export
from tests.conftest_pipeline import EXAMPLE_PIPELINE, load_single_dag


def test_example_pipeline_runs_with_dag_test(
    airflow_env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    (project / "pipelines").mkdir(parents=True)
    shutil.copy(EXAMPLE_PIPELINE, project / "pipelines")
    # dag.test() syncs the configured dags folder to the database, so export there.
    result = export(
        project / "pipelines" / EXAMPLE_PIPELINE.name,
        project_dir=project,
        dags_dir=airflow_env["dags"],
    )
    monkeypatch.setenv("KIT_PROJECT_DIR", str(project))
    dag = load_single_dag(result.dag_path)

    from airflow.utils import db

    db.initdb()
    run = dag.test(run_conf={"rows": 50, "noise": 0.01})
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert run.state == "success", states
    assert set(states.values()) == {"success"}

    (summary_file,) = (project / "artifacts" / "example_pipeline").glob("*/summary.json")
    summary = json.loads(summary_file.read_text())
    assert summary["rows"] == 50
    assert summary["slope"] == pytest.approx(2.0, abs=0.01)
    assert summary["intercept"] == pytest.approx(1.0, abs=0.05)
    assert (summary_file.parent / "dataset.csv").read_text().count("\n") == 51

"""The DAG files committed in dags/ are what their specs in pipelines/ generate, and load."""

from __future__ import annotations

import pytest

from kit.codegen import render
from kit.codegen.export import notebook_digests
from kit.spec import load_spec
from tests.conftest import REPO

SPECS = sorted((REPO / "pipelines").glob("*.yaml"))


@pytest.mark.parametrize("spec_path", SPECS, ids=[p.stem for p in SPECS])
def test_each_spec_has_its_up_to_date_dag(spec_path) -> None:
    spec = load_spec(spec_path)
    dag_file = REPO / "dags" / f"{spec.dag_id}.py"
    assert dag_file.exists(), f"run `kit export {spec_path.relative_to(REPO)}`"
    # As `kit export` renders it: with the digests of the notebooks it runs (a notebook edited
    # since the export makes the committed DAG stale too).
    expected = render(spec, notebook_digests(spec, REPO))
    assert dag_file.read_text() == expected, f"stale: run `kit export {spec_path.name}`"


def test_the_committed_dags_load_in_airflow(airflow_env) -> None:
    # airflow_env: the session's throw-away AIRFLOW_HOME, set before Airflow is first imported.
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags"))
    assert bag.import_errors == {}
    assert {"ml_lifecycle", "batch_inference", "example_pipeline"} <= set(bag.dags)

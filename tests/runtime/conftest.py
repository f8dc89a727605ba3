"""Notebooks written for the runtime tests, and a real MLflow store (SQLite) per test."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest


def write_notebook(path: Path, parameters: str, *body: str) -> Path:
    book = nbformat.v4.new_notebook()
    book.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    cell = nbformat.v4.new_code_cell(parameters)
    cell.metadata["tags"] = ["parameters"]
    book.cells = [cell, *(nbformat.v4.new_code_cell(src) for src in body)]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(book, path)
    return path


def task_context(project: Path, *, task_id: str = "nb", map_index: int = -1, try_number: int = 1):
    """A task context as Airflow passes it; the DAG id is the project folder's name, so each
    test has its own MLflow experiment in the shared store."""
    dag_id = project.name
    dag = SimpleNamespace(dag_id=dag_id, fileloc=str(project / "dags" / f"{dag_id}.py"))
    ti = SimpleNamespace(task_id=task_id, map_index=map_index, try_number=try_number, dag_id=dag_id)
    return {"dag": dag, "ti": ti, "run_id": "manual__test", "params": {}}


@pytest.fixture(scope="session")
def mlflow_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One real MLflow store for the session: creating one runs its migrations (slow)."""
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mlflow_store: str) -> Path:
    monkeypatch.setenv("KIT_PROJECT_DIR", str(tmp_path))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_store)
    return tmp_path


def runs_of(project: Path) -> list:
    """The MLflow runs of this test's experiment."""
    import mlflow

    experiment = mlflow.MlflowClient().get_experiment_by_name(project.name)
    if experiment is None:
        return []
    return mlflow.search_runs([experiment.experiment_id], output_format="list")

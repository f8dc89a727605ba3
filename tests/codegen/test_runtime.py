"""The runtime helpers generated DAGs call (kit.runtime)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from kit.runtime.examples import make_dataset, summarize
from kit.runtime.notebook import output_name, run_notebook
from kit.runtime.paths import local_artifact_path, project_dir, run_dir
from tests.conftest_pipeline import SQUARE_NOTEBOOK


def fake_context(tmp_path: Path, map_index: int = -1, try_number: int = 1) -> dict:
    dag = SimpleNamespace(dag_id="d", fileloc=str(tmp_path / "dags" / "d.py"))
    ti = SimpleNamespace(task_id="square", map_index=map_index, try_number=try_number)
    return {"dag": dag, "ti": ti, "run_id": "manual__1", "params": {}}


def test_output_name_marks_mapped_instances_and_tries() -> None:
    assert output_name("t", -1, 1) == "t.try1.ipynb"
    assert output_name("t", 3, 2) == "t[3].try2.ipynb"


def test_project_dir_comes_from_env_then_the_dag_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KIT_PROJECT_DIR", raising=False)
    assert project_dir(fake_context(tmp_path)) == tmp_path.resolve()
    monkeypatch.setenv("KIT_PROJECT_DIR", str(tmp_path / "p"))
    assert run_dir(fake_context(tmp_path)) == tmp_path / "p" / "artifacts" / "d" / "manual__1"


def test_a_file_a_container_reported_is_found_in_this_projects_artifacts(tmp_path: Path) -> None:
    project = tmp_path / "project"
    here = project / "artifacts" / "dag" / "manual__1" / "train.try1.ipynb"
    here.parent.mkdir(parents=True)
    here.write_text("{}")
    # As the Compose stack's tasks report it: the project is mounted at /opt/airflow.
    reported = "/opt/airflow/artifacts/dag/manual__1/train.try1.ipynb"
    assert local_artifact_path(reported, project) == here
    # A path that exists here is kept; one found nowhere is left as reported (the view says so).
    assert local_artifact_path(here, tmp_path / "elsewhere") == here
    missing = "/opt/airflow/artifacts/dag/manual__1/other.try1.ipynb"
    assert local_artifact_path(missing, project) == Path(missing)
    # A DAG named "artifacts" keeps its own folder.
    nested = project / "artifacts" / "artifacts" / "r" / "n.ipynb"
    nested.parent.mkdir(parents=True)
    nested.write_text("{}")
    assert local_artifact_path("/opt/airflow/artifacts/artifacts/r/n.ipynb", project) == nested


def test_run_notebook_writes_one_output_per_try_with_typed_parameters(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KIT_PROJECT_DIR", raising=False)
    context = fake_context(tmp_path, map_index=2, try_number=3)
    result = run_notebook(
        notebook=str(SQUARE_NOTEBOOK), parameters={"x": 7, "scale": 0.5}, context=context
    )
    out = Path(result["output_notebook"])
    assert out == tmp_path / "artifacts" / "d" / "manual__1" / "square[2].try3.ipynb"
    nb = json.loads(out.read_text())
    injected = next(
        c for c in nb["cells"] if "injected-parameters" in c["metadata"].get("tags", [])
    )
    assert "x = 7\n" in "".join(injected["source"]) and "scale = 0.5" in "".join(injected["source"])
    printed = "".join("".join(o.get("text", "")) for c in nb["cells"] for o in c.get("outputs", []))
    assert "square 24.5" in printed


def test_example_functions_fit_the_line_they_generate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIT_PROJECT_DIR", str(tmp_path))
    data = make_dataset(rows=40, seed=1, noise=0.0)
    summary = summarize(data["path"])
    assert summary["rows"] == 40
    assert summary["slope"] == pytest.approx(2.0, abs=1e-5)
    assert summary["rmse"] == pytest.approx(0.0, abs=1e-5)
    with pytest.raises(ValueError, match="at least 2"):
        summarize(make_dataset(rows=1)["path"])

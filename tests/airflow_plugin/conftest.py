"""Fixtures for the output-notebook plugin's tests: notebooks in a throw-away artifacts folder,
and the plugin's app with Airflow's auth and database dependencies replaced."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest

from tests.conftest_pipeline import airflow_env  # noqa: F401 - Airflow imported in a tmp home
from tests.runtime.conftest import write_notebook


def write_output_notebook(path: Path, text: str) -> Path:
    """A small executed notebook whose single cell printed ``text``."""
    cell = nbformat.v4.new_code_cell(f"print({text!r})")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=f"{text}\n")]
    book = nbformat.v4.new_notebook(cells=[cell])
    book.metadata["language_info"] = {"name": "python", "pygments_lexer": "ipython3"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(book, path)
    return path


@pytest.fixture
def artifacts(tmp_path: Path) -> Path:
    root = tmp_path / "project" / "artifacts"
    root.mkdir(parents=True)
    return root


@pytest.fixture
def make_client(artifacts: Path, airflow_env) -> Callable:  # noqa: F811 - the fixture above
    """A TestClient on the plugin's app: auth allowed, artifacts/ in tmp, Airflow's view of the
    task instance given per test (``status``), or the real auth dependency (``auth=True``)."""
    from fastapi.testclient import TestClient

    from kit.airflow_plugin import app as plugin_app

    def make(status=None, *, auth: bool = False) -> TestClient:
        app = plugin_app.create_app()
        if not auth:
            app.dependency_overrides[plugin_app.read_access] = lambda: None
        app.dependency_overrides[plugin_app.artifacts] = lambda: artifacts
        app.dependency_overrides[plugin_app.task_status] = lambda: status
        return TestClient(app)

    return make


# A mapped notebook task whose first try of each index fails (retried at once), then a task that
# is not a notebook task.
DAG_SOURCE = """
from datetime import timedelta

from airflow.sdk import dag, task


@dag(dag_id={dag_id!r}, schedule=None, catchup=False, tags=["kit-test"])
def pipeline():
    @task(retries=1, retry_delay=timedelta(seconds=0))
    def square(x, **context):
        from kit.runtime.notebook import run_notebook

        marker = {markers!r} + f"/try-once-{{x}}"
        return run_notebook(
            notebook={notebook!r}, parameters={{"x": x, "marker": marker}}, context=context
        )

    @task
    def report(values):
        print(values)

    report(square.expand(x=[2, 3]))


pipeline()
"""

NOTEBOOK_BODY = """import os
if not os.path.exists(marker):
    open(marker, "w").close()
    raise RuntimeError(f"the first try of x={x} fails on purpose")
print(f"x squared is {x * x}")
"""


@pytest.fixture(scope="session")
def finished_run(stack, tmp_path_factory: pytest.TempPathFactory):
    """The DAG written, loaded and run once to success (through one retry per map index)."""
    from kit.client import connect

    tmp = tmp_path_factory.mktemp("output_view")
    notebook = write_notebook(tmp / "square.ipynb", "x = 0\nmarker = ''", NOTEBOOK_BODY)
    dag_id = f"output_view_{uuid.uuid4().hex[:6]}"
    path = stack.settings.dags_dir / f"{dag_id}.py"
    path.write_text(DAG_SOURCE.format(dag_id=dag_id, notebook=str(notebook), markers=str(tmp)))
    client = connect(stack.settings.state_dir)
    client.make_visible(dag_id, path, timeout=180)
    run = client.run(dag_id, timeout=600, progress=False)
    assert run.state == "success", [(t.label, t.state, t.try_number) for t in run.tasks]
    yield client, dag_id, run.run_id
    shutil.rmtree(stack.settings.project_dir / "artifacts" / dag_id, ignore_errors=True)

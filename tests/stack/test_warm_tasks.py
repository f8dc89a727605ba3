"""What makes a notebook task cheap on the embedded stack: tasks start with papermill and MLflow
already imported (``kit.stack.warm_start``), and notebooks run on a pooled kernel
(``kit.runtime.kernel_pool``)."""

from __future__ import annotations

from pathlib import Path

from tests.runtime.conftest import write_notebook

WARM_DAG = """
from airflow.sdk import dag, task


@dag(dag_id="kit_warm", schedule=None, catchup=False, tags=["kit-test"])
def pipeline():
    @task
    def modules_at_start():
        import sys

        return sorted(m for m in ("papermill", "nbclient", "mlflow") if m in sys.modules)

    @task
    def notebook(**context):
        from kit.runtime.notebook import run_notebook

        return run_notebook(notebook={notebook!r}, parameters={{}}, context=context)

    modules_at_start() >> notebook()


pipeline()
"""


def test_tasks_start_warm_and_notebooks_run_on_a_pooled_kernel(
    stack, client, write_dag, tmp_path: Path
) -> None:
    notebook = write_notebook(
        tmp_path / "whoami.ipynb",
        "x = 1",
        "import os\nfrom kit.notebook import publish\npublish('kernel_parent', os.getppid())",
    )
    path = write_dag("kit_warm", WARM_DAG.format(notebook=str(notebook)))
    client.make_visible("kit_warm", path, timeout=180)

    run = client.run("kit_warm", timeout=600, progress=False)

    assert run.state == "success", run
    assert client.xcom("kit_warm", run.run_id, "modules_at_start") == [
        "mlflow",
        "nbclient",
        "papermill",
    ]
    pool_pid = next(c.pid for c in stack.status().components if c.name == "kernel-pool")
    result = client.xcom("kit_warm", run.run_id, "notebook")
    assert result["kernel_parent"] == pool_pid, "the notebook's kernel was not the pool's"
    assert "using pooled kernel" in client.task_log("kit_warm", run.run_id, "notebook")

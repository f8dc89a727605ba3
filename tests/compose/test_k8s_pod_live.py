"""The project's image runs a notebook task by the command a KubernetesExecutor pod runs
(`python -m airflow.sdk.execution_time.execute_workload --json-string WORKLOAD`, through the
image's entrypoint), under podman with no network: the workload made by Airflow's own
ExecuteTask.make for a queued try, an api-server of its own on the container's loopback (SQLite),
the task's code and notebook from a bundle mounted at /bundle. What a cluster adds and this does
not run: docs/scale-out.md. The bundle and the probe scripts are tests/k8s/task_pod.py and
tests/k8s/probe/."""

from __future__ import annotations

import json

import pytest

from tests.compose.conftest import lock_pins, normalise
from tests.k8s.task_pod import DAG_ID, REPO, run_in_image

pytestmark = pytest.mark.compose


def test_the_image_runs_a_notebook_task_by_the_pods_command(
    compose_images: dict[str, str],
    tmp_path,
) -> None:
    probe = run_in_image(compose_images["AIRFLOW_IMAGE_NAME"], tmp_path)
    print(f"probe in the image: {probe['seconds']:.0f} s")
    out = probe["out"]
    assert probe["returncode"] == 0, probe["stderr"]
    task_log = (out / "task.log").read_text()
    assert (out / "task.rc").read_text().strip() == "0", task_log[-3000:]
    assert (out / "state.txt").read_text().split() == ["success", "1"]
    workload = json.loads((out / "workload.json").read_text())
    assert workload["bundle_info"]["name"] == "kit"
    assert workload["dag_rel_path"] == f"dags/{DAG_ID}.py"
    assert workload["token"]  # the executor's token for the execution API
    # The notebook ran with the pod's parameters (x=7, label "k8s"): 7 * 7.
    output = probe["bundle"] / "artifacts" / DAG_ID / "k8s_probe_run" / "square.try1.ipynb"
    assert "k8s 49.0" in output.read_text()
    # The image holds the kit, the lock it was built from, and the packages the lock pins.
    assert (out / "image-requirements.lock").read_text() == (REPO / "requirements.lock").read_text()
    pins = lock_pins()
    listed = json.loads((out / "packages.json").read_text())
    installed = {normalise(package["name"]): package["version"] for package in listed}
    for name in ("apache-airflow", "papermill", "mlflow", "ipykernel", "scikit-learn"):
        assert installed[name] == pins[name], name
    assert "airflow-notebook-kit" in installed

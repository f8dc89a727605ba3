"""The pod a notebook task gets under KubernetesExecutor, made by Airflow's own generator
(`airflow kubernetes generate-dag-yaml`) from the task-pod template of our values, checked
offline and strictly against Kubernetes' schemas (kubernetes-validate)."""

from __future__ import annotations

import json
from dataclasses import replace

import kubernetes_validate
import pytest

from kit.k8s.pod_template import template_image
from kit.k8s.values import Options, build_values
from tests.k8s.conftest import GIT_URL
from tests.k8s.task_pod import DAG_ID, generate_pod, make_bundle

K8S_VERSION = "1.33.0"


@pytest.fixture(scope="module")
def task_pod(tmp_path_factory: pytest.TempPathFactory, settings) -> dict:
    options = Options(
        git_url=GIT_URL,
        image_repository="registry.example.org/team/kit",
        image_tag="3.3.2-a1b2c3",
        executor="KubernetesExecutor",
    )
    values = build_values(settings, options).data
    work = tmp_path_factory.mktemp("pod")
    pod, seconds = generate_pod(values, make_bundle(work / "bundle"), work)
    print(f"generate-dag-yaml: {seconds:.1f} s")
    return pod


def _container(pod: dict) -> dict:
    (container,) = pod["spec"]["containers"]
    return container


def test_the_task_pod_validates_strictly_against_the_kubernetes_schemas(task_pod) -> None:
    kubernetes_validate.validate(task_pod, K8S_VERSION, strict=True)
    broken = json.loads(json.dumps(task_pod))
    _container(broken)["envFrom"] = {"secretRef": "x"}  # a list in the schema
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSION, strict=True)
    broken = json.loads(json.dumps(task_pod))
    broken["spec"]["restartPolicy"] = "Never"
    broken["spec"]["restartpolicy"] = "Never"  # a typo: strict refuses unknown fields
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSION, strict=True)


def test_the_pod_runs_the_project_image_with_the_execution_api_workload(task_pod) -> None:
    container = _container(task_pod)
    # The project's image, put over the template's by the generator from the config the chart
    # derives from images.airflow.
    assert container["image"] == "registry.example.org/team/kit:3.3.2-a1b2c3"
    assert template_image({"airflowVersion": "3.3.2"}) == "apache/airflow:3.3.2"
    assert container["args"][:4] == [
        "python",
        "-m",
        "airflow.sdk.execution_time.execute_workload",
        "--json-string",
    ]
    workload = json.loads(container["args"][4])
    assert workload["type"] == "ExecuteTask"
    # The task's code comes from the versioned bundle `kit`, at the DAG's project path.
    assert workload["bundle_info"]["name"] == "kit"
    assert workload["dag_rel_path"] == f"dags/{DAG_ID}.py"
    assert workload["ti"]["task_id"] == "square"
    assert task_pod["metadata"]["labels"]["task_id"] == "square"
    assert task_pod["spec"]["restartPolicy"] == "Never"


def test_secrets_reach_the_pod_only_as_references(task_pod) -> None:
    env = {item["name"]: item for item in _container(task_pod)["env"]}
    for name in (
        "AIRFLOW__CORE__FERNET_KEY",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
        "AIRFLOW__API_AUTH__JWT_SECRET",
        "AIRFLOW_CONN_KIT_BUNDLE",
        "MLFLOW_TRACKING_PASSWORD",
    ):
        assert "value" not in env[name], name
        assert env[name]["valueFrom"]["secretKeyRef"]["name"].startswith("kit-")
    assert env["MLFLOW_TRACKING_URI"]["value"] == "http://kit-mlflow:5000"
    assert env["AIRFLOW__CORE__EXECUTOR"]["value"] == "LocalExecutor"


def test_the_template_follows_the_values(settings, options) -> None:
    from kit.k8s.pod_template import worker_pod_template

    values = build_values(settings, replace(options, executor="KubernetesExecutor")).data
    values["env"].append({"name": "KIT_EXTRA", "value": "1"})
    pod = worker_pod_template(values, release="team")
    names = [item["name"] for item in pod["spec"]["containers"][0]["env"]]
    assert "KIT_EXTRA" in names
    assert "AIRFLOW__KUBERNETES_ENVIRONMENT_VARIABLES__KIT_EXTRA" in names
    assert pod["spec"]["serviceAccountName"] == "team-worker"
    kubernetes_validate.validate(pod, K8S_VERSION, strict=True)

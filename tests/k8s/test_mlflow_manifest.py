"""mlflow.yaml: the kit's MLflow as a Deployment, Service and claim, valid for Kubernetes' own
schemas (kubernetes-validate, offline, strict: an unknown field fails) and wired to its Secret."""

from __future__ import annotations

import kubernetes_validate
import pytest
import yaml

from kit.k8s import mlflow_manifest
from kit.k8s.documents import mlflow_yaml
from kit.k8s.secrets import mlflow_secret

IMAGE = "registry.example.org/team/kit:3.3.2-a1b2c3"
# A Kubernetes release whose schemas kubernetes-validate ships; recent enough for any cluster a
# team runs today.
K8S_VERSION = "1.33.0"


def test_every_document_validates_against_the_kubernetes_schemas() -> None:
    docs = list(yaml.safe_load_all(mlflow_yaml(IMAGE)))
    assert [doc["kind"] for doc in docs] == ["PersistentVolumeClaim", "Deployment", "Service"]
    for doc in docs:
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_the_validation_bites_on_a_wrong_field() -> None:
    deployment = mlflow_manifest.deployment(IMAGE)
    deployment["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] = 3
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, K8S_VERSION, strict=True)
    deployment = mlflow_manifest.deployment(IMAGE)
    deployment["spec"]["replica"] = 1  # a typo: strict refuses unknown fields
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, K8S_VERSION, strict=True)


def test_the_deployment_runs_the_project_image_with_every_secret_key_it_needs() -> None:
    container = mlflow_manifest.deployment(IMAGE)["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == IMAGE
    refs = {
        env["valueFrom"]["secretKeyRef"]["key"]
        for env in container["env"]
        if "valueFrom" in env and env["valueFrom"]["secretKeyRef"]["name"] == "kit-mlflow"
    }
    # Every key the recipe puts into the Secret kit-mlflow is read, and none is missing.
    assert refs == {key.key for key in mlflow_secret(with_server=True).keys}
    assert not any("value" in env and "password" in env["name"].lower() for env in container["env"])
    assert "python -m kit.stack.mlflow_server --write-config" in container["command"][4]


def test_the_service_selects_the_deployments_pods_on_the_tracking_port() -> None:
    deployment, service = mlflow_manifest.deployment(IMAGE), mlflow_manifest.service()
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert service["spec"]["ports"][0]["port"] == 5000

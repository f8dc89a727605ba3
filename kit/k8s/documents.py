"""The files `kit k8s values` writes, as text: values.yaml (with its comments) and mlflow.yaml."""

from __future__ import annotations

from kit.k8s import mlflow_manifest
from kit.k8s.values import Values
from kit.k8s.yaml_out import dump

# The chart these values were checked against: tests/data/airflow-chart/README.md says where
# its schema came from and why this version.
CHART = "the official Apache Airflow Helm chart (apache/airflow, chart/), 1.22.0 or later"


def values_yaml(values: Values, command: str) -> str:
    """values.yaml: a header naming the chart, the Secrets to create, then the values."""
    names = ", ".join(spec.name for spec in values.secrets)
    header = (
        f"Values for {CHART}, written by `{command}`.\n"
        "Install: helm install airflow apache-airflow/airflow --namespace airflow -f values.yaml\n"
        f"Create these Kubernetes Secrets first (kit k8s values prints how): {names}.\n"
        "No secret value is in this file. What was not run here: docs/scale-out.md."
    )
    return dump(values.data, values.comments, header)


def mlflow_yaml(image: str) -> str:
    """mlflow.yaml: the claim, Deployment and Service of the kit's MLflow, one YAML stream."""
    docs = mlflow_manifest.documents(image)
    header = (
        "The kit's MLflow (with logins) for the cluster, written by `kit k8s values`.\n"
        "kubectl --namespace airflow apply -f mlflow.yaml  (needs the Secret kit-mlflow)"
    )
    parts = [dump(docs[0], header=header)] + [dump(doc) for doc in docs[1:]]
    return "---\n".join(parts)

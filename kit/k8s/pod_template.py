"""The base pod KubernetesExecutor starts each task from, as the chart makes it for our values
(pure: values in, a V1Pod as a dict out).

The chart renders this pod from its ``files/pod-template-file.kubernetes-helm-yaml`` into a
ConfigMap that ``[kubernetes_executor] pod_template_file`` names; Airflow's pod generator then
adds each task's name, labels and command. Without Helm on this machine the kit writes the same
pod from the values it produced, following that template as read in the chart's source (container
``base``, ``AIRFLOW__CORE__EXECUTOR=LocalExecutor``, the standard Secret-backed variables, the
global ``env`` and ``secret`` lists with their ``AIRFLOW__KUBERNETES_*`` twins, logs and config
volumes, ``restartPolicy: Never``) and the chart's defaults for what the values leave alone.
It is what the tests hand to ``airflow kubernetes generate-dag-yaml``; a cluster uses the
chart's own rendering.
"""

from __future__ import annotations

from typing import Any

from kit.k8s.secrets import API_KEY, FERNET, JWT, METADATA

AIRFLOW_HOME = "/opt/airflow"
AIRFLOW_UID = 50000  # the chart's uid default, the apache/airflow image's airflow user
DEFAULT_REPOSITORY = "apache/airflow"  # the chart's defaultAirflowRepository


def _secret_env(name: str, secret: str, key: str) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def _standard_env() -> list[dict[str, Any]]:
    """The chart's built-in Secret-backed variables for the Secret names our values give."""
    metadata = METADATA.name
    return [
        _secret_env("AIRFLOW__CORE__FERNET_KEY", FERNET.name, "fernet-key"),
        _secret_env("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", metadata, "connection"),
        _secret_env("AIRFLOW_CONN_AIRFLOW_DB", metadata, "connection"),
        _secret_env("AIRFLOW__API__SECRET_KEY", API_KEY.name, "api-secret-key"),
        _secret_env("AIRFLOW__API_AUTH__JWT_SECRET", JWT.name, "jwt-secret"),
    ]


def _custom_env(values: dict[str, Any]) -> list[dict[str, Any]]:
    """The values' ``env`` and ``secret`` lists as the chart's template writes them for
    KubernetesExecutor (each with its ``AIRFLOW__KUBERNETES_*`` twin)."""
    env: list[dict[str, Any]] = []
    for item in values.get("env", []):
        env.append({"name": item["name"], "value": str(item["value"])})
        env.append(
            {
                "name": f"AIRFLOW__KUBERNETES_ENVIRONMENT_VARIABLES__{item['name']}",
                "value": str(item["value"]),
            }
        )
    secrets = values.get("secret", [])
    for item in secrets:
        env.append(_secret_env(item["envName"], item["secretName"], item["secretKey"]))
    for item in secrets:
        env.append(
            {
                "name": f"AIRFLOW__KUBERNETES_SECRETS__{item['envName']}",
                "value": f"{item['secretName']}={item['secretKey']}",
            }
        )
    return env


def template_image(values: dict[str, Any]) -> str:
    """The template's image: ``images.pod_template``, else the chart's default Airflow image.
    Not the image a task runs: Airflow's pod generator puts ``[kubernetes_executor]
    worker_container_repository:worker_container_tag`` over it, which the chart's default config
    fills from ``images.airflow`` (the project's image)."""
    chosen = values.get("images", {}).get("pod_template", {})
    if chosen.get("repository") and chosen.get("tag"):
        return f"{chosen['repository']}:{chosen['tag']}"
    # The chart's defaultAirflowRepository:defaultAirflowTag (its tag is the chart's own Airflow
    # version; the values' airflowVersion stands in for it here).
    return f"{DEFAULT_REPOSITORY}:{values.get('airflowVersion', 'latest')}"


def worker_pod_template(values: dict[str, Any], release: str = "airflow") -> dict[str, Any]:
    """The task pods' template for these values (release: the Helm release name)."""
    workers_env = values.get("workers", {}).get("env", [])
    container = {
        "name": "base",
        "image": template_image(values),
        "imagePullPolicy": "IfNotPresent",
        "env": [
            {"name": "AIRFLOW__CORE__EXECUTOR", "value": "LocalExecutor"},
            *_standard_env(),
            *_custom_env(values),
            *workers_env,
        ],
        "envFrom": [],
        "resources": {},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [
            {"name": "logs", "mountPath": f"{AIRFLOW_HOME}/logs"},
            {
                "name": "config",
                "mountPath": f"{AIRFLOW_HOME}/airflow.cfg",
                "subPath": "airflow.cfg",
                "readOnly": True,
            },
        ],
    }
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "placeholder-name",
            "labels": {"tier": "airflow", "component": "worker", "release": release},
        },
        "spec": {
            "containers": [container],
            "restartPolicy": "Never",
            "securityContext": {"runAsUser": AIRFLOW_UID, "fsGroup": 0},
            "nodeSelector": {},
            "affinity": {},
            "terminationGracePeriodSeconds": 600,
            "tolerations": [],
            "topologySpreadConstraints": [],
            "serviceAccountName": f"{release}-worker",
            "volumes": [
                {"name": "logs", "emptyDir": {}},
                {"name": "config", "configMap": {"name": f"{release}-config"}},
            ],
        },
    }

"""mlflow.yaml: the kit's MLflow (with logins) as a Deployment, its Service, its artifacts' claim.

It runs the same image as Airflow (the Dockerfile installs ``mlflow[auth]`` and the kit) with the
same start as the Compose service: ``kit.stack.mlflow_server --write-config`` writes the auth config
from the Secret's values, makes the admin and the tasks' login, then serves without the two
passwords in its environment.
"""

from __future__ import annotations

from kit.k8s.values import MLFLOW_PORT, MLFLOW_SERVICE

ARTIFACTS_CLAIM = f"{MLFLOW_SERVICE}-artifacts"
LABELS = {"app.kubernetes.io/name": MLFLOW_SERVICE, "app.kubernetes.io/part-of": "airflow-kit"}
# The Compose service's start (docker-compose.airflow.yml), with the image's dumb-init as PID 1.
START = (
    "set -euo pipefail\n"
    "python -m kit.stack.mlflow_server --write-config\n"
    "exec env -u KIT_MLFLOW_ADMIN_PASSWORD -u KIT_MLFLOW_SERVICE_PASSWORD \\\n"
    '  python -m kit.stack.mlflow_server "$@"\n'
)


def _from_secret(name: str, secret: str, key: str) -> dict:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def deployment(image: str, secret: str = MLFLOW_SERVICE, uid: int = 50000) -> dict:
    """The MLflow Deployment: one replica (its artifacts claim is ReadWriteOnce)."""
    probe = {"httpGet": {"path": "/health", "port": "http"}, "periodSeconds": 10}
    container = {
        "name": "mlflow",
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "command": ["/usr/bin/dumb-init", "--", "bash", "-c", START, "mlflow"],
        "args": [
            "--app-name",
            "basic-auth",
            "--host",
            "0.0.0.0",
            "--port",
            str(MLFLOW_PORT),
            "--serve-artifacts",
        ],
        "ports": [{"name": "http", "containerPort": MLFLOW_PORT}],
        "env": [
            _from_secret("MLFLOW_BACKEND_STORE_URI", secret, "backend-store-uri"),
            _from_secret("MLFLOW_FLASK_SERVER_SECRET_KEY", secret, "flask-secret-key"),
            _from_secret("KIT_MLFLOW_ADMIN_PASSWORD", secret, "admin-password"),
            _from_secret("KIT_MLFLOW_SERVICE_PASSWORD", secret, "service-password"),
            {"name": "MLFLOW_AUTH_CONFIG_PATH", "value": "/tmp/kit-mlflow-auth/basic_auth.ini"},
            {"name": "MLFLOW_ARTIFACTS_DESTINATION", "value": "/mlflow/artifacts"},
            # MLflow refuses unknown Host headers; the pods call it by its Service name.
            {
                "name": "MLFLOW_SERVER_ALLOWED_HOSTS",
                "value": f"{MLFLOW_SERVICE},{MLFLOW_SERVICE}:*,localhost,localhost:*",
            },
        ],
        "readinessProbe": {**probe, "initialDelaySeconds": 10},
        "livenessProbe": {**probe, "initialDelaySeconds": 30, "failureThreshold": 6},
        "volumeMounts": [{"name": "artifacts", "mountPath": "/mlflow/artifacts"}],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": MLFLOW_SERVICE, "labels": dict(LABELS)},
        "spec": {
            "replicas": 1,
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": {"app.kubernetes.io/name": MLFLOW_SERVICE}},
            "template": {
                "metadata": {"labels": dict(LABELS)},
                "spec": {
                    "securityContext": {"runAsUser": uid, "runAsGroup": 0, "fsGroup": 0},
                    "containers": [container],
                    "volumes": [
                        {
                            "name": "artifacts",
                            "persistentVolumeClaim": {"claimName": ARTIFACTS_CLAIM},
                        }
                    ],
                },
            },
        },
    }


def service() -> dict:
    """The ClusterIP Service the Airflow pods reach MLflow by (http://kit-mlflow:5000)."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": MLFLOW_SERVICE, "labels": dict(LABELS)},
        "spec": {
            "type": "ClusterIP",
            "selector": {"app.kubernetes.io/name": MLFLOW_SERVICE},
            "ports": [{"name": "http", "port": MLFLOW_PORT, "targetPort": "http"}],
        },
    }


def artifacts_claim(size: str = "10Gi") -> dict:
    """Where MLflow keeps artifacts (models, output notebooks) across restarts."""
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": ARTIFACTS_CLAIM, "labels": dict(LABELS)},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}},
    }


def documents(image: str) -> list[dict]:
    """Every object of mlflow.yaml, in the order `kubectl apply` should meet them."""
    return [artifacts_claim(), deployment(image), service()]

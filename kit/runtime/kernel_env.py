"""What a notebook's kernel inherits: the task's environment without the stack's secrets.

Notebook code runs in the kernel, not in the Airflow task process. The task process is a fork of
an Airflow component and holds what that component needs (the database URL, the Fernet key, the
JWT secret ...); the kernel needs none of them: it reaches MLflow by URL and hands results back
through a file. Pure: from one mapping to another.
"""

from __future__ import annotations

from collections.abc import Mapping

# Variables of the kit's stacks that carry a secret (kit.stack.secret_map says who holds which).
SECRET_VARIABLES = frozenset(
    {
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
        "AIRFLOW__CORE__SQL_ALCHEMY_CONN",
        "AIRFLOW__CORE__FERNET_KEY",
        "AIRFLOW__API_AUTH__JWT_SECRET",
        "AIRFLOW__API__SECRET_KEY",
        "AIRFLOW__CELERY__BROKER_URL",
        "AIRFLOW__CELERY__RESULT_BACKEND",
        "MLFLOW_BACKEND_STORE_URI",
        # Connections for remote logs and failure e-mail (the Compose file,
        # kit.stack.remote_services): the task process sends logs and mails, never the notebook.
        "AIRFLOW_CONN_KIT_REMOTE_LOGS",
        "AIRFLOW_CONN_SMTP_DEFAULT",
        "AIRFLOW_CONN_SENDGRID_DEFAULT",
        "SENDGRID_API_KEY",
        "KIT_S3_ACCESS_KEY_ID",
        "KIT_S3_SECRET_ACCESS_KEY",
        "KIT_SMTP_CONN",
        # Passwords that only the set-up of a stack uses (kit.stack.compose_env).
        "POSTGRES_PASSWORD",
        "KIT_ADMIN_PASSWORD",
        "KIT_FERNET_KEY",
        "KIT_JWT_SECRET",
        "KIT_API_SECRET_KEY",
        "KIT_AIRFLOW_DB_PASSWORD",
        "KIT_MLFLOW_DB_PASSWORD",
        "KIT_MLFLOW_ADMIN_PASSWORD",
        "KIT_MLFLOW_SERVICE_PASSWORD",
        "KIT_MLFLOW_SECRET_KEY",
        # MLflow's server signs its sessions with it; a client never needs it. (The tasks' own
        # MLflow login, MLFLOW_TRACKING_USERNAME/_PASSWORD, stays: notebooks log as `kit-tasks`.)
        "MLFLOW_FLASK_SERVER_SECRET_KEY",
    }
)


def kernel_environment(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` without the variables that carry a stack secret."""
    return {key: value for key, value in env.items() if key not in SECRET_VARIABLES}

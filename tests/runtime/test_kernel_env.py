"""The kernel's environment: the task's, without the stack's secrets (pure)."""

from __future__ import annotations

from kit.runtime.kernel_env import SECRET_VARIABLES, kernel_environment
from kit.stack.secret_map import SECRET_ENV_VARIABLES


def test_secret_variables_are_dropped_and_the_rest_kept() -> None:
    env = {
        "AIRFLOW__CORE__FERNET_KEY": "f",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": "postgresql://airflow:pw@h/airflow",
        "MLFLOW_TRACKING_URI": "http://127.0.0.1:5000",
        "MLFLOW_RUN_ID": "abc",
        "PATH": "/usr/bin",
    }
    assert kernel_environment(env) == {
        "MLFLOW_TRACKING_URI": "http://127.0.0.1:5000",
        "MLFLOW_RUN_ID": "abc",
        "PATH": "/usr/bin",
    }


def test_every_variable_the_secret_map_names_is_kept_from_kernels() -> None:
    # The map of docs/security.md and this list must not drift apart.
    assert SECRET_ENV_VARIABLES <= SECRET_VARIABLES

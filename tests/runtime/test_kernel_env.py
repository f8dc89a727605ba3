"""The kernel's environment: the task's, without the stack's secrets (pure)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kit.runtime.kernel_env import kernel_environment
from kit.stack.airflow_env import airflow_environment, mlflow_environment
from kit.stack.mlflow_auth import task_environment
from kit.stack.secret_map import COMPOSE_ENV_KEYS, RUNS_TASKS, secret_values
from kit.stack.secrets import StackSecrets
from tests.conftest import stack_settings


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


@pytest.mark.parametrize("executor", ["local", "celery"])
def test_a_kernel_gets_no_secret_of_the_map_but_the_tasks_mlflow_login(
    tmp_path: Path, executor: str
) -> None:
    """Everything a task process may hold (its component's environment, MLflow's, the tasks'
    login, Compose's variables): the kernel's environment holds no secret value of
    kit.stack.secret_map but the one the map gives kernels."""
    secrets = StackSecrets.generate()
    settings = stack_settings(tmp_path, executor=executor)
    values = secret_values(secrets)
    task_env = {
        **airflow_environment(settings, secrets),
        **mlflow_environment(settings, secrets),
        **task_environment(secrets.mlflow_service_password),
        **{key: values[sid] for sid, key in COMPOSE_ENV_KEYS.items()},
    }
    kernel = "\n".join(f"{k}={v}" for k, v in kernel_environment(task_env).items())
    held = {sid for sid, value in values.items() if value in kernel}
    assert held == set(RUNS_TASKS)

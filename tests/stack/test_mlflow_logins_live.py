"""MLflow with logins on the session stack (PostgreSQL): anonymous writes refused, the kit's admin
and the tasks' service account each able to do exactly their part."""

from __future__ import annotations

import httpx
import mlflow
import pytest

from kit.stack import EmbeddedStack
from kit.stack.mlflow_auth import SERVICE_USER
from kit.stack.secrets import load_or_create


def test_anonymous_writes_and_reads_are_refused(stack: EmbeddedStack) -> None:
    url = stack.settings.mlflow_url
    create = f"{url}/api/2.0/mlflow/experiments/create"
    assert httpx.post(create, json={"name": "anonymous"}, timeout=30).status_code == 401
    search = f"{url}/api/2.0/mlflow/experiments/search"
    assert httpx.post(search, json={"max_results": 1}, timeout=30).status_code == 401
    assert httpx.get(f"{url}/", timeout=30).status_code == 401  # the UI asks for a login
    assert httpx.get(f"{url}/health", timeout=30).status_code == 200  # health needs none
    wrong = ("admin", "not-the-password")
    assert httpx.post(create, json={"name": "x"}, auth=wrong, timeout=30).status_code == 401


def test_the_service_account_edits_what_others_made_and_manages_no_one(
    stack: EmbeddedStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = stack.settings.mlflow_url
    admin = mlflow.MlflowClient(url, url)  # the test process is logged in as the admin
    experiment = admin.create_experiment("kit-made-by-admin")
    admin.create_registered_model("kit_made_by_admin")

    service = load_or_create(stack.settings.secrets_file).mlflow_service_password
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", SERVICE_USER)
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", service)
    tasks = mlflow.MlflowClient(url, url)
    run = tasks.create_run(experiment).info.run_id  # EDIT on every experiment
    tasks.log_metric(run, "score", 0.5)
    tasks.set_terminated(run)
    version = tasks.create_model_version("kit_made_by_admin", f"runs:/{run}/m", run_id=run)
    tasks.set_registered_model_alias("kit_made_by_admin", "champion", version.version)
    # EDIT, not MANAGE: no deleting what others made, no user management.
    auth = (SERVICE_USER, service)
    delete = f"{url}/api/2.0/mlflow/experiments/delete"
    assert httpx.post(delete, json={"experiment_id": experiment}, auth=auth).status_code == 403
    users = f"{url}/api/2.0/mlflow/users/create"
    made = httpx.post(users, json={"username": "x", "password": "p" * 12}, auth=auth)
    assert made.status_code == 403

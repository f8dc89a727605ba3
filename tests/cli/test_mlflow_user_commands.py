"""`kit mlflow-users`: its refusals before any request (pure), and on the session stack's MLflow a
read-only user made with it, whose promotion is refused with the kit's clear error."""

from __future__ import annotations

import mlflow
import pytest

from kit.mlops.access import MlflowAccessDenied
from kit.mlops.registry import promote_if_better

READER_PASSWORD = "reader-password-123"


def test_the_kits_own_accounts_and_bad_input_are_refused_before_any_request(kit, tmp_path) -> None:
    state = ("--state-dir", str(tmp_path / "none"))
    done = kit("mlflow-users", "add", "kit-tasks", "--permission", "edit", *state)
    assert done.returncode == 2 and "one of the kit's own MLflow accounts" in done.stderr
    done = kit("mlflow-users", "remove", "admin", *state)
    assert done.returncode == 2 and "Pick another name" in done.stderr
    done = kit("mlflow-users", "add", "a:b", "--permission", "read", *state)
    assert done.returncode == 2 and "no ':'" in done.stderr
    done = kit(
        "mlflow-users", "add", "bob", "--permission", "read", "--password-stdin", *state,
        stdin="short\n",
    )  # fmt: skip
    assert done.returncode == 2 and "has 5 characters: MLflow needs at least 12" in done.stderr
    done = kit("mlflow-users", "list", *state)  # no stack was ever started there
    assert done.returncode == 3 and "kit up" in done.stderr


def _a_model_with_two_versions(name: str) -> None:
    """As the admin (the test process's login): a model whose version 2 beats version 1."""
    client = mlflow.MlflowClient()
    experiment = client.create_experiment(f"{name}-runs")
    client.create_registered_model(name)
    for value in (0.5, 0.9):
        run = client.create_run(experiment).info.run_id
        client.log_metric(run, "score", value)
        client.set_terminated(run)
        client.create_model_version(name, f"runs:/{run}/model", run_id=run)
    client.set_registered_model_alias(name, "champion", "1")


def test_a_read_only_user_may_read_but_not_move_the_champion(
    kit,
    stack,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    state = ("--state-dir", str(stack.settings.state_dir))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", stack.settings.mlflow_url)
    _a_model_with_two_versions("kit_cli_model")
    done = kit(
        "mlflow-users", "add", "reader", "--permission", "read",
        "--model", "kit_cli_model", "--experiment", "kit_cli_model-runs",
        "--password-stdin", *state, stdin=READER_PASSWORD + "\n",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "created MLflow user 'reader'" in done.stdout
    assert "READ on registered_model kit_cli_model" in done.stdout
    listed = kit("mlflow-users", "list", *state)
    assert "registered_model:kit_cli_model READ" in listed.stdout
    assert "kit-tasks" in listed.stdout and "experiment:* EDIT" in listed.stdout

    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "reader")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", READER_PASSWORD)
    client = mlflow.MlflowClient()
    assert client.get_model_version_by_alias("kit_cli_model", "champion").version == "1"
    with pytest.raises(MlflowAccessDenied) as caught:
        promote_if_better("kit_cli_model", 2, metric="score")
    assert caught.value.status == 403
    assert str(caught.value).startswith(
        "MLflow user 'reader' may not move the alias 'champion' of the registered model "
        "'kit_cli_model' (promotion): that needs EDIT on the registered model 'kit_cli_model'."
    )
    assert client.get_model_version_by_alias("kit_cli_model", "champion").version == "1"

    monkeypatch.delenv("MLFLOW_TRACKING_USERNAME")
    monkeypatch.delenv("MLFLOW_TRACKING_PASSWORD")
    done = kit("mlflow-users", "remove", "reader", *state)
    assert done.returncode == 0 and "removed MLflow user 'reader'" in done.stdout
    assert "reader" not in kit("mlflow-users", "list", *state).stdout

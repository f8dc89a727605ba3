"""The Edge settings of the stack and of a joining worker (pure)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kit.stack.airflow_env import airflow_environment
from kit.stack.secrets import StackSecrets
from kit.stack.settings import StackSettings
from kit.worker import edge_config


def _settings(tmp_path: Path, **shape: object) -> StackSettings:
    return StackSettings(
        project_dir=tmp_path, state_dir=tmp_path / ".kit", dags_dir=tmp_path / "dags", **shape
    )


def test_the_stack_adds_edge_after_the_default_executor(tmp_path) -> None:
    secrets = StackSecrets.generate()
    env = airflow_environment(_settings(tmp_path, edge=True), secrets)
    default, edge = env["AIRFLOW__CORE__EXECUTOR"].split(",")
    assert default == "kit.stack.local_executor.OnDemandLocalExecutor"
    assert edge == "airflow.providers.edge3.executors.EdgeExecutor"
    assert env["AIRFLOW__EDGE__API_ENABLED"] == "True"
    assert env["AIRFLOW__EDGE__TRUSTED_JWKS_URL"] == str(tmp_path / ".kit/workers/jwks.json")
    assert env["AIRFLOW__EDGE__JWT_VERIFIER"] == "kit.worker.verify.jwt_verifier"
    plain = airflow_environment(_settings(tmp_path), secrets)
    assert not any(k.startswith("AIRFLOW__EDGE__") for k in plain)
    assert _settings(tmp_path, edge=True).shape == "postgres+local+edge"


@pytest.mark.parametrize("shape", [{"database": "sqlite"}, {"executor": "celery"}])
def test_edge_needs_the_default_shape(tmp_path, shape) -> None:
    with pytest.raises(ValueError, match="edge"):
        _settings(tmp_path, edge=True, **shape)


def test_a_worker_gets_the_api_the_bundle_and_its_token_only(tmp_path) -> None:
    env = edge_config.worker_environment(
        "https://airflow.example:8080/", token="a.b.c", home=tmp_path, bundle_subdir="dags"
    )
    assert env["AIRFLOW__EDGE__API_URL"] == "https://airflow.example:8080/edge_worker/v1/rpcapi"
    assert (
        env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "https://airflow.example:8080/execution/"
    )
    (bundle,) = json.loads(env["AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST"])
    assert bundle["name"] == "kit"
    assert bundle["kwargs"] == {
        "repo_url": "https://airflow.example:8080/kit-bundle/bundle.git",
        "tracking_ref": "main",
        "git_conn_id": "kit_bundle",
        "subdir": "dags",
    }
    assert json.loads(env["AIRFLOW_CONN_KIT_BUNDLE"])["password"] == "a.b.c"
    assert "AIRFLOW__API_AUTH__JWT_SECRET" not in env
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith(f"sqlite:///{tmp_path}")
    assert env["KIT_PROJECT_DIR"] == str(tmp_path / "project")  # not the bundle's checkout


def test_a_url_without_scheme_is_refused() -> None:
    with pytest.raises(ValueError, match="Airflow URL"):
        edge_config.base_url("airflow:8080")


def test_a_database_migrated_before_the_edge_provider_is_migrated_again() -> None:
    from kit.stack.databases import migrated_marker_name

    before = {"airflow": "3.3.2", "fab": "3.11.0"}
    assert migrated_marker_name("postgres", before) != migrated_marker_name(
        "postgres", {**before, "edge3": "5.1.0"}
    )

"""Helpers shared by the PostgreSQL and Celery stack tests: settings on free ports, leftovers."""

from __future__ import annotations

import json
import os
from pathlib import Path

import psutil
import pytest

from kit.stack import EmbeddedStack, StackSettings
from kit.stack.ports import free_ports, port_is_free
from tests.conftest import log_in_to_mlflow, stack_settings


def consecutive_free_ports(count: int) -> int:
    """The first of ``count`` consecutive free ports (Celery worker i uses first + i - 1)."""
    for _ in range(50):
        (first,) = free_ports(1)
        if all(port_is_free("127.0.0.1", first + i) for i in range(count)):
            return first
    raise RuntimeError(f"no {count} consecutive free ports found")


def native_settings(root: Path, **shape: object) -> StackSettings:
    postgres_port, redis_port = free_ports(2)
    return stack_settings(
        root,
        postgres_port=postgres_port,
        redis_port=redis_port,
        celery_log_port=consecutive_free_ports(int(shape.get("celery_workers", 2))),  # type: ignore[arg-type]
        **shape,
    )


def sessions_of(stack: EmbeddedStack) -> dict[int, float]:
    """Session id → start time of each component's session leader."""
    return {r.pid: r.create_time for r in stack.pids.all()}


def left_in(sessions: dict[int, float]) -> list[int]:
    """Processes still alive in any of ``sessions`` (started after its leader: not a re-used id)."""
    found = []
    for proc in psutil.process_iter(["pid", "create_time", "status"]):
        try:
            sid = os.getsid(proc.pid)
        except (ProcessLookupError, PermissionError):
            continue
        if (
            sid in sessions
            and proc.info["create_time"] >= sessions[sid] - 1.0
            and proc.info["status"] != psutil.STATUS_ZOMBIE
        ):
            found.append(proc.pid)
    return found


def assert_secrets_not_in_logs(stack: EmbeddedStack) -> None:
    s = stack.settings
    secrets = json.loads(s.secrets_file.read_text())
    logs = [p for p in s.logs_dir.rglob("*") if p.is_file()]
    assert logs
    for path in logs:
        text = path.read_text(errors="replace")
        for name, value in secrets.items():
            assert value not in text, f"{name} appears in {path}"


LIFECYCLE_MODEL = "breast_cancer_classifier"


def export_the_lifecycle(stack: EmbeddedStack, client, tmp: Path) -> str:
    """Export pipelines/ml_lifecycle.yaml into the stack's dags/ and wait until Airflow has it."""
    from kit.codegen import export
    from tests.conftest import REPO

    made = export(
        REPO / "pipelines" / "ml_lifecycle.yaml",
        project_dir=REPO,
        dags_dir=stack.settings.dags_dir,
        pipelines_dir=tmp / "pipelines",
    )
    client.make_visible(made.dag_id, made.dag_path, timeout=300)
    return made.dag_id


def run_the_lifecycle(stack: EmbeddedStack, tmp: Path) -> list:
    """Export pipelines/ml_lifecycle.yaml to the stack, run it, and check that it reached a
    champion model in that stack's own MLflow (its registry, its alias, its training runs);
    return the training runs (MLflow)."""
    import mlflow

    from kit.client import connect

    client = connect(stack.settings.state_dir)
    dag_id = export_the_lifecycle(stack, client, tmp)
    run = client.run(dag_id, timeout=2400, progress=False)

    assert run.state == "success", [(t.label, t.state) for t in run.tasks]
    register = client.xcom(dag_id, run.run_id, "register")
    deploy = client.xcom(dag_id, run.run_id, "deploy")
    assert deploy["promoted"] and deploy["champion_version"] == register["version"]
    with pytest.MonkeyPatch.context() as patch:  # MLflow has logins: this stack's admin
        url = log_in_to_mlflow(stack, patch)
        registry = mlflow.MlflowClient(tracking_uri=url, registry_uri=url)
        champion = registry.get_model_version_by_alias(LIFECYCLE_MODEL, "champion")
        assert int(champion.version) == register["version"]
        trains = registry.search_runs(
            [registry.get_experiment_by_name(dag_id).experiment_id],
            filter_string=f"tags.`kit.run_id` = '{run.run_id}' and tags.`kit.task_id` = 'train'",
        )
    assert len(trains) == 4 and all(r.info.status == "FINISHED" for r in trains)
    return trains

"""CeleryExecutor with Redis and two workers on this machine: tasks spread over both, for real."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator

import psutil
import pytest

from kit.client import connect
from kit.stack import EmbeddedStack
from tests.conftest import running_stack
from tests.stack._native import (
    assert_secrets_not_in_logs,
    left_in,
    native_settings,
    run_the_lifecycle,
    sessions_of,
)

DAG_ID = "kit_celery_fan_out"
FAN_OUT = textwrap.dedent(
    f"""
    import os
    import time

    from airflow.sdk import dag, task

    @dag(dag_id={DAG_ID!r}, schedule=None, catchup=False, tags=["kit-test"])
    def fan_out():
        @task
        def work(i):
            time.sleep(1)
            return os.environ["KIT_WORKER_NAME"]

        @task
        def collect(names):
            return sorted(names)

        collect(work.expand(i=list(range(8))))

    fan_out()
    """
)


@pytest.fixture(scope="module")
def celery_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStack]:
    settings = native_settings(
        tmp_path_factory.mktemp("celery"),
        database="postgres",
        executor="celery",
        celery_workers=2,
        # Two slots each: the lifecycle's 4 training notebooks cannot all run on one worker.
        celery_concurrency=2,
    )
    with running_stack(settings) as stack:
        yield stack


def test_every_component_is_healthy(celery_stack: EmbeddedStack) -> None:
    status = celery_stack.status()
    assert status.healthy, status
    names = [c.name for c in status.components]
    assert names[:2] == ["postgres", "redis"]
    assert {"celery-worker-1", "celery-worker-2", "scheduler", "api-server"} <= set(names)
    redis = psutil.Process(celery_stack.pids.read("redis").pid)  # type: ignore[union-attr]
    listening = {
        (c.laddr.ip, c.laddr.port) for c in redis.net_connections("tcp") if c.status == "LISTEN"
    }
    assert listening == {("127.0.0.1", celery_stack.settings.redis_port)}


def test_a_fan_out_runs_on_both_workers(celery_stack: EmbeddedStack) -> None:
    path = celery_stack.settings.dags_dir / f"{DAG_ID}.py"
    path.write_text(FAN_OUT)
    client = connect(celery_stack.settings.state_dir)
    client.make_visible(DAG_ID, path, timeout=180)
    run = client.run(DAG_ID, timeout=300, progress=False)
    assert run.state == "success", run
    names = client.xcom(DAG_ID, run.run_id, "collect")
    assert len(names) == 8
    assert set(names) == {"celery-worker-1", "celery-worker-2"}, names


def test_the_ml_lifecycle_reaches_a_champion(celery_stack: EmbeddedStack, tmp_path) -> None:
    trains = run_the_lifecycle(celery_stack, tmp_path)
    workers = {r.data.tags.get("kit.worker") for r in trains}
    assert workers == {"celery-worker-1", "celery-worker-2"}, workers


def test_secrets_never_in_the_logs(celery_stack: EmbeddedStack) -> None:
    assert_secrets_not_in_logs(celery_stack)


def test_down_leaves_nothing(celery_stack: EmbeddedStack) -> None:
    sessions = sessions_of(celery_stack)
    assert len(sessions) == 10  # postgres, redis, 4 Airflow, kernel pool, 2 workers, MLflow
    celery_stack.down()
    assert celery_stack.leftover_processes() == []
    assert left_in(sessions) == []
    assert celery_stack.pids.all() == []

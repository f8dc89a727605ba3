"""Accidents caused for real on a stack of this module's own: the api-server dies under a watcher,
and `kit down` hits a running pipeline. Nothing is lost, nothing is left running."""

from __future__ import annotations

import os
import signal
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import mlflow
import psutil
import pytest

from kit.client import AirflowClient, connect
from kit.stack import EmbeddedStack
from tests.conftest import chain_dag_source, running_stack, stack_settings

SLOW_DAG = textwrap.dedent(
    """
    from airflow.sdk import dag, task

    @dag(dag_id={dag_id!r}, schedule=None, catchup=False, tags=["kit-test"])
    def slow():
        @task
        def first():
            return 1

        @task
        def sleep(x):
            import time

            time.sleep({seconds})
            return x + 1

        @task
        def after(x):
            return x * 10

        after(sleep(first()))

    slow()
    """
)


@pytest.fixture(scope="module")
def fault_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStack]:
    with running_stack(stack_settings(tmp_path_factory.mktemp("faults"))) as stack:
        yield stack


def _start_slow_run(stack: EmbeddedStack, dag_id: str, seconds: int) -> tuple[AirflowClient, str]:
    """Trigger a run of a 3-task chain and return once its middle task is running."""
    path = stack.settings.dags_dir / f"{dag_id}.py"
    path.write_text(SLOW_DAG.format(dag_id=dag_id, seconds=seconds))
    client = connect(stack.settings.state_dir)
    client.make_visible(dag_id, path, timeout=180)
    run_id = client.trigger(dag_id).run_id
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        states = {t.task_id: t.state for t in client.get_run(dag_id, run_id).tasks}
        if states.get("sleep") == "running":
            return client, run_id
        time.sleep(0.5)
    raise AssertionError(f"the sleep task never started: {states}")


def _kill_component(stack: EmbeddedStack, name: str) -> None:
    record = stack.pids.read(name)
    assert record is not None and record.alive
    os.killpg(record.pid, signal.SIGKILL)
    psutil.wait_procs([psutil.Process(record.pid)], timeout=10)


def test_the_api_server_dies_under_a_watcher_and_the_run_goes_on(
    fault_stack: EmbeddedStack, capsys: pytest.CaptureFixture[str]
) -> None:
    client, run_id = _start_slow_run(fault_stack, "kit_outage", seconds=40)
    watched: dict[str, object] = {}

    def watch() -> None:
        try:
            watched["run"] = client.wait("kit_outage", run_id, timeout=900, progress=False)
        except Exception as exc:  # noqa: BLE001 - the assertion below shows it
            watched["error"] = exc

    watcher = threading.Thread(target=watch)
    watcher.start()
    time.sleep(2)
    _kill_component(fault_stack, "api-server")
    time.sleep(8)  # the watcher meets the outage
    assert watcher.is_alive(), watched
    fault_stack.up(timeout=600, progress=False)  # restarts the api-server, only it
    watcher.join(900)

    assert "error" not in watched, watched
    run = watched["run"]
    assert run.state == "success", [(t.task_id, t.state) for t in run.tasks]
    assert client.xcom("kit_outage", run_id, "after") == 20
    err = capsys.readouterr().err
    assert "Still waiting for run" in err and "answers again" in err


def test_kit_down_mid_run_stops_everything_and_up_shows_the_run_honestly(
    fault_stack: EmbeddedStack, tmp_path: Path
) -> None:
    # State the down/up must keep: an MLflow run and a registered model version.
    tracking = mlflow.MlflowClient(fault_stack.settings.mlflow_url, fault_stack.settings.mlflow_url)
    experiment = tracking.create_experiment("kit-faults")
    kept_run = tracking.create_run(experiment).info.run_id
    tracking.log_metric(kept_run, "score", 0.75)
    tracking.set_terminated(kept_run)
    tracking.create_registered_model("kit_faults_model")
    version = tracking.create_model_version(
        "kit_faults_model", f"runs:/{kept_run}/model", kept_run
    ).version
    tracking.set_registered_model_alias("kit_faults_model", "champion", version)
    chain = fault_stack.settings.dags_dir / "kit_before_down.py"
    chain.write_text(chain_dag_source("kit_before_down"))
    client = connect(fault_stack.settings.state_dir)
    client.make_visible("kit_before_down", chain, timeout=180)
    earlier = client.run("kit_before_down", timeout=300, progress=False)
    assert earlier.state == "success"
    client, run_id = _start_slow_run(fault_stack, "kit_down_mid_run", seconds=60)

    fault_stack.down()

    assert fault_stack.leftover_processes() == []
    mine = str(fault_stack.settings.state_dir)
    for proc in psutil.process_iter(["cmdline"]):
        assert mine not in " ".join(proc.info["cmdline"] or []), proc
    fault_stack.up(timeout=600, progress=False)
    client = connect(fault_stack.settings.state_dir)
    started = time.monotonic()
    run = client.wait("kit_down_mid_run", run_id, timeout=900, progress=False)

    sleep = next(t for t in run.tasks if t.task_id == "sleep")
    assert run.state in ("success", "failed"), run
    assert sleep.state in ("success", "failed", "upstream_failed"), sleep
    print(f"interrupted run ended {run.state} after {time.monotonic() - started:.0f} s")
    assert client.get_run("kit_before_down", earlier.run_id).state == "success"
    assert client.xcom("kit_before_down", earlier.run_id, "load") == {"answer": 42}
    tracking = mlflow.MlflowClient(fault_stack.settings.mlflow_url, fault_stack.settings.mlflow_url)
    assert tracking.get_run(kept_run).data.metrics == {"score": 0.75}
    champion = tracking.get_model_version_by_alias("kit_faults_model", "champion")
    assert champion.version == version

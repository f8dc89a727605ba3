"""Accidents caused for real on a stack of this module's own: the api-server dies under a watcher
or stops answering mid-request, the scheduler is killed mid-lifecycle, a task is killed
mid-notebook, and `kit down` hits a running pipeline. Nothing is lost, nothing is left running."""

from __future__ import annotations

import os
import signal
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import mlflow
import nbformat
import psutil
import pytest
import yaml

from kit.client import AirflowClient, ServerBusy, connect
from kit.codegen import export
from kit.stack import EmbeddedStack
from kit.stack.ports import port_is_free
from kit.stack.processes import session_members
from tests.conftest import REPO, chain_dag_source, run_a_chain, running_stack, stack_settings
from tests.stack._native import export_the_lifecycle

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
    _, earlier = run_a_chain(fault_stack, "kit_before_down")
    assert earlier.state == "success"
    client, run_id = _start_slow_run(fault_stack, "kit_down_mid_run", seconds=20)

    fault_stack.down()

    assert fault_stack.leftover_processes() == []
    mine = str(fault_stack.settings.state_dir)
    for proc in psutil.process_iter(["cmdline"]):
        assert mine not in " ".join(proc.info["cmdline"] or []), proc
    # PostgreSQL stopped last, cleanly (a fast shutdown: no recovery at the next start).
    assert port_is_free("127.0.0.1", fault_stack.settings.postgres_port)
    assert "received fast shutdown request" in fault_stack.log_path("postgres").read_text()  # type: ignore[union-attr]
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


def _signal_component(stack: EmbeddedStack, name: str, signum: int) -> None:
    record = stack.pids.read(name)
    assert record is not None and record.alive
    os.killpg(record.pid, signum)


def test_an_api_server_that_stops_answering_mid_trigger_starts_the_run_once(
    fault_stack: EmbeddedStack, capsys: pytest.CaptureFixture[str]
) -> None:
    chain = fault_stack.settings.dags_dir / "kit_busy.py"
    chain.write_text(chain_dag_source("kit_busy"))
    connect(fault_stack.settings.state_dir).make_visible("kit_busy", chain, timeout=180)
    impatient = connect(fault_stack.settings.state_dir, timeout=3)
    impatient.get_dag("kit_busy")  # token and DAG fetched while the server answers

    # A stopped api-server accepts connections but answers nothing: a busy server, for real.
    _signal_component(fault_stack, "api-server", signal.SIGSTOP)
    resume = threading.Timer(7, _signal_component, (fault_stack, "api-server", signal.SIGCONT))
    resume.start()
    try:
        with pytest.raises(ServerBusy, match="did not answer within 3 s"):
            impatient.list_dags()
        run = impatient.trigger("kit_busy")
    finally:
        resume.join()
        _signal_component(fault_stack, "api-server", signal.SIGCONT)

    err = capsys.readouterr().err
    assert "did not answer within 3 s" in err and f"Asking again for run {run.run_id!r}" in err
    client = connect(fault_stack.settings.state_dir)
    assert [r.run_id for r in client.runs("kit_busy")] == [run.run_id]  # started once
    assert client.wait("kit_busy", run.run_id, timeout=600, progress=False).state == "success"


def _task_process(stack: EmbeddedStack) -> psutil.Process:
    """The one process running a task's code: the LocalExecutor worker in the scheduler's session
    forks it for each try and names it ``airflow worker -- <task instance id>``."""
    found = []
    # By session, not by environment marker: setproctitle overwrites /proc/PID/environ.
    for proc in session_members([stack.pids.read("scheduler")]):
        title = " ".join(proc.cmdline())
        if title.startswith("airflow worker -- ") and "Executor" not in title:
            found.append(proc)
    assert len(found) == 1, [" ".join(p.cmdline()) for p in found]
    return found[0]


def _outputs_of(notebook: Path) -> str:
    """The text outputs saved so far in an output notebook ("" while it is not there or half
    written: papermill saves it after every cell)."""
    try:
        book = nbformat.read(notebook, as_version=4)
    except (OSError, ValueError, nbformat.reader.NotJSONError):
        return ""
    return "".join(o.get("text", "") for cell in book.cells for o in cell.get("outputs", []))


def _mlflow_runs(stack: EmbeddedStack, dag_id: str, run_id: str) -> list:
    tracking = mlflow.MlflowClient(stack.settings.mlflow_url, stack.settings.mlflow_url)
    experiment = tracking.get_experiment_by_name(dag_id)
    return tracking.search_runs(
        [experiment.experiment_id], filter_string=f"tags.`kit.run_id` = '{run_id}'"
    )


def test_a_task_killed_mid_notebook_fails_is_retried_and_keeps_its_output(
    fault_stack: EmbeddedStack, tmp_path: Path
) -> None:
    hold = tmp_path / "hold"
    hold.write_text("the notebook waits while this file exists")
    spec = {
        "dag_id": "kit_killed_task",
        "tasks": [
            {
                "id": "hold",
                "kind": "notebook",
                "retries": 1,
                "retry_delay": "PT2S",
                "settings": {
                    "notebook": "tests/stack/notebooks/hold.ipynb",
                    "parameters": {"hold_path": str(hold)},
                },
            }
        ],
    }
    path = tmp_path / "kit_killed_task.yaml"
    path.write_text(yaml.safe_dump(spec))
    made = export(
        path, project_dir=REPO, dags_dir=fault_stack.settings.dags_dir, pipelines_dir=tmp_path
    )
    client = connect(fault_stack.settings.state_dir)
    client.make_visible(made.dag_id, made.dag_path, timeout=180)
    run_id = client.trigger(made.dag_id).run_id
    outputs = REPO / "artifacts" / made.dag_id / run_id
    first = outputs / "hold.try1.ipynb"
    deadline = time.monotonic() + 300
    while "cell one done" not in _outputs_of(first):
        assert time.monotonic() < deadline, "the notebook never reached its waiting cell"
        time.sleep(0.5)

    _task_process(fault_stack).kill()
    hold.unlink()  # the next try goes through
    run = client.wait(made.dag_id, run_id, timeout=600, progress=False)

    assert run.state == "success", run
    tries = client.task_tries(made.dag_id, run_id, "hold")
    assert [(t.try_number, t.state) for t in tries] == [(1, "failed"), (2, "success")]
    assert "cell one done" in _outputs_of(first)  # the killed try's notebook, as far as it got
    assert client.xcom(made.dag_id, run_id, "hold")["finished"] is True
    tried = _mlflow_runs(fault_stack, made.dag_id, run_id)
    by_try = {r.data.tags["kit.try_number"]: r for r in tried}
    assert {k: r.info.status for k, r in by_try.items()} == {"1": "KILLED", "2": "FINISHED"}
    tracking = mlflow.MlflowClient(fault_stack.settings.mlflow_url, fault_stack.settings.mlflow_url)
    for number, mlflow_run in by_try.items():
        artifacts = tracking.list_artifacts(mlflow_run.info.run_id, "notebook")
        # The killed try's page too, rendered by the try that closed its run.
        assert [a.path for a in artifacts] == [
            f"notebook/hold.try{number}.html",
            f"notebook/hold.try{number}.ipynb",
        ]


def test_the_scheduler_killed_mid_lifecycle_is_restarted_and_nothing_is_lost_or_doubled(
    fault_stack: EmbeddedStack, tmp_path: Path
) -> None:
    client = connect(fault_stack.settings.state_dir)
    dag_id = export_the_lifecycle(fault_stack, client, tmp_path)
    run_id = client.trigger(dag_id).run_id
    deadline = time.monotonic() + 900
    while not any(
        t.task_id == "train" and t.state == "running" for t in client.task_runs(dag_id, run_id)
    ):
        assert time.monotonic() < deadline, "training never started"
        time.sleep(0.5)
    scheduler = fault_stack.pids.read("scheduler")
    os.kill(scheduler.pid, signal.SIGKILL)  # the scheduler only, as the OOM killer would
    psutil.wait_procs([psutil.Process(scheduler.pid)], timeout=10)
    killed_at = time.monotonic()

    fault_stack.up(timeout=600, progress=False)
    run = client.wait(dag_id, run_id, timeout=1800, progress=False)
    print(f"the run ended {run.state} {time.monotonic() - killed_at:.0f} s after the kill")

    assert run.state == "success", [(t.label, t.state, t.try_number) for t in run.tasks]
    outputs = REPO / "artifacts" / dag_id / run_id
    mlflow_runs = _mlflow_runs(fault_stack, dag_id, run_id)
    # require_approval is off by default: approve_champion is skipped (no try succeeds), the
    # rest succeeded exactly once.
    skipped = [t.task_id for t in run.tasks if t.state == "skipped"]
    assert skipped == ["approve_champion"], skipped
    for task in run.tasks:
        if task.state == "skipped":
            continue
        tries = client.task_tries(dag_id, run_id, task.task_id, task.map_index)
        succeeded = [t.try_number for t in tries if t.state == "success"]
        history = [(t.try_number, t.state) for t in tries]
        assert succeeded == [task.try_number], (task.label, history)
        mine = [
            r
            for r in mlflow_runs
            if r.data.tags["kit.task_id"] == task.task_id
            and int(r.data.tags["kit.map_index"]) == task.map_index
        ]
        if not mine:
            continue  # a Python task: no notebook, no MLflow run of its own
        assert [r.info.status for r in mine].count("FINISHED") == 1, task.label
        for r in mine:  # every try, the interrupted ones too, kept its notebook
            assert r.info.status in ("FINISHED", "KILLED", "FAILED"), (task.label, r.info.status)
            number = int(r.data.tags["kit.try_number"])
            index = f"[{task.map_index}]" if task.map_index >= 0 else ""
            assert (outputs / f"{task.task_id}{index}.try{number}.ipynb").exists()

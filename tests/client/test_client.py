"""kit.client against the real session stack: visibility, runs, logs, XComs, and clear errors."""

from __future__ import annotations

import time

import pytest

from kit.client import AirflowClient, AuthFailed, DagImportError, DagNotFound, ServerDown
from kit.stack.ports import free_ports


def test_a_new_dag_becomes_triggerable_within_seconds(client, write_dag) -> None:
    path = write_dag("kit_visible_new")
    started = time.monotonic()
    dag = client.make_visible("kit_visible_new", path, timeout=120)
    took = time.monotonic() - started
    assert dag.dag_id == "kit_visible_new" and not dag.has_import_errors
    # Far below the 300 s refresh_interval that a plain file drop would wait for.
    assert took < 60, took


def test_an_edited_dag_is_reparsed(client, write_dag) -> None:
    path = write_dag("kit_edited")
    client.make_visible("kit_edited", path, timeout=120)
    path.write_text(path.read_text().replace('tags=["kit-test"]', 'tags=["kit-test", "edited"]'))
    dag = client.make_visible("kit_edited", path, timeout=120)
    assert sorted(t.name for t in dag.tags) == ["edited", "kit-test"]


def test_trigger_wait_tasks_logs_and_xcom(client, write_dag) -> None:
    path = write_dag("kit_chain")
    client.make_visible("kit_chain", path, timeout=120)
    run = client.run("kit_chain", timeout=300, progress=False)
    assert run.state == "success"
    assert [t.task_id for t in run.tasks] == ["extract", "transform", "load"]
    assert all(t.state == "success" and t.duration is not None for t in run.tasks)
    assert client.xcom("kit_chain", run.run_id, "load") == {"answer": 42}
    assert "hello from the kit 42" in client.task_log("kit_chain", run.run_id, "load")
    assert client.latest_run("kit_chain").run_id == run.run_id


FAN_IN_DAG = """
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import dag, task


@dag(dag_id="kit_tasks", schedule=None, catchup=False)
def pipeline():
    @task
    def left():
        return 1

    @task
    def scale(x):
        return x

    start = BashOperator(task_id="start", bash_command="true")
    mapped = scale.expand(x=[1, 2])
    start >> [left(), mapped]
    mapped >> BashOperator(task_id="end", bash_command="true")


pipeline()
"""


def test_dag_tasks_gives_ids_links_operators_and_mapping(client, write_dag) -> None:
    path = write_dag("kit_tasks", FAN_IN_DAG)
    client.make_visible("kit_tasks", path, timeout=120)
    tasks = {t.task_id: t for t in client.dag_tasks("kit_tasks")}
    assert list(tasks) == ["end", "left", "scale", "start"]
    assert tasks["start"].upstream == () and tasks["start"].downstream == ("left", "scale")
    assert tasks["scale"].upstream == ("start",) and tasks["scale"].downstream == ("end",)
    assert tasks["end"].upstream == ("scale",) and tasks["end"].downstream == ()
    assert tasks["scale"].mapped and not tasks["left"].mapped
    assert tasks["left"].operator == "@task" and tasks["start"].operator == "BashOperator"
    with pytest.raises(DagNotFound, match="no DAG 'no_such_dag'"):
        client.dag_tasks("no_such_dag")


def test_a_dag_with_a_syntax_error_is_an_import_error(client, write_dag) -> None:
    path = write_dag("kit_broken", "from airflow.sdk import dag\n\ndef broken(:\n    pass\n")
    with pytest.raises(DagImportError) as err:
        client.make_visible("kit_broken", path, timeout=120)
    assert "SyntaxError" in err.value.stack_trace
    assert "SyntaxError" in (client.import_error_for(path) or "")
    with pytest.raises(DagImportError):
        client.trigger("kit_broken")


def test_an_unknown_dag_is_a_clear_error(client) -> None:
    with pytest.raises(DagNotFound, match="no DAG 'no_such_dag'"):
        client.trigger("no_such_dag")


def test_a_wrong_password_is_a_clear_error(stack) -> None:
    bad = AirflowClient(stack.settings.airflow_url, "admin", "wrong-password")
    with pytest.raises(AuthFailed, match="refused the credentials of user 'admin'"):
        bad.list_dags()


def test_a_server_that_is_down_is_a_clear_error() -> None:
    (port,) = free_ports(1)
    with pytest.raises(ServerDown, match="is not answering"):
        AirflowClient(f"http://127.0.0.1:{port}", "admin", "x").list_dags()

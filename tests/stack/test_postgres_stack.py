"""The seed's shape without containers: Airflow on a PostgreSQL 15 of the kit's own, for real."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import psutil
import psycopg2
import pytest

from kit.client import connect
from kit.stack import EmbeddedStack
from kit.stack.embedded import COMPONENTS
from kit.stack.ports import port_is_free
from tests.conftest import chain_dag_source, running_stack
from tests.stack._native import (
    assert_secrets_not_in_logs,
    left_in,
    native_settings,
    run_the_lifecycle,
    sessions_of,
)

DAG_ID = "kit_pg_chain"


@pytest.fixture(scope="module")
def pg_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStack]:
    with running_stack(
        native_settings(tmp_path_factory.mktemp("pg"), database="postgres")
    ) as stack:
        yield stack


def _query(stack: EmbeddedStack, database: str, sql: str, *args: object) -> list[tuple]:
    conn = psycopg2.connect(**stack.postgres().connect_args(database))
    try:
        with conn.cursor() as cur:
            cur.execute(sql, args)
            return cur.fetchall()
    finally:
        conn.close()


def test_every_component_is_healthy(pg_stack: EmbeddedStack) -> None:
    status = pg_stack.status()
    assert status.healthy, status
    assert [c.name for c in status.components] == ["postgres", *COMPONENTS]
    health = httpx.get(f"{pg_stack.settings.airflow_url}/api/v2/monitor/health", timeout=5).json()
    assert health["metadatabase"]["status"] == "healthy", health
    state = json.loads(pg_stack.state_file.read_text())
    assert (state["database"], state["executor"]) == ("postgres", "local")


def test_postgres_listens_on_loopback_only_and_not_as_root(pg_stack: EmbeddedStack) -> None:
    record = pg_stack.pids.read("postgres")
    assert record is not None and record.alive
    postmaster = psutil.Process(record.pid)
    assert postmaster.uids().effective != 0
    listening = {
        (c.laddr.ip, c.laddr.port)
        for c in psutil.net_connections("tcp")
        if c.status == psutil.CONN_LISTEN and c.pid == record.pid
    }
    assert listening == {("127.0.0.1", pg_stack.settings.postgres_port)}, listening
    socket_dir = pg_stack.settings.postgres_dir / "run"
    assert (socket_dir / f".s.PGSQL.{pg_stack.settings.postgres_port}").exists()


def test_a_chain_runs_and_its_metadata_is_in_postgres(pg_stack: EmbeddedStack) -> None:
    path = pg_stack.settings.dags_dir / f"{DAG_ID}.py"
    path.write_text(chain_dag_source(DAG_ID))
    client = connect(pg_stack.settings.state_dir)
    client.make_visible(DAG_ID, path, timeout=180)
    run = client.run(DAG_ID, timeout=300, progress=False)
    assert run.state == "success"
    assert client.xcom(DAG_ID, run.run_id, "load") == {"answer": 42}
    rows = _query(
        pg_stack, "airflow", "SELECT run_id, state FROM dag_run WHERE dag_id = %s", DAG_ID
    )
    assert rows == [(run.run_id, "success")]
    assert not (pg_stack.settings.airflow_home / "airflow.db").exists()


def test_mlflow_keeps_its_runs_in_postgres(pg_stack: EmbeddedStack) -> None:
    url = f"{pg_stack.settings.mlflow_url}/api/2.0/mlflow/experiments/create"
    created = httpx.post(url, json={"name": "kit-pg-experiment"}, timeout=30)
    assert created.status_code == 200, created.text
    rows = _query(
        pg_stack, "mlflow", "SELECT name FROM experiments WHERE name = %s", "kit-pg-experiment"
    )
    assert rows == [("kit-pg-experiment",)]
    assert not (pg_stack.settings.mlflow_dir / "mlflow.db").exists()


def test_the_ml_lifecycle_reaches_a_champion(pg_stack: EmbeddedStack, tmp_path) -> None:
    run_the_lifecycle(pg_stack, tmp_path)


def test_secrets_never_in_the_logs(pg_stack: EmbeddedStack) -> None:
    assert_secrets_not_in_logs(pg_stack)


def test_down_leaves_nothing_and_up_keeps_the_history(pg_stack: EmbeddedStack) -> None:
    client = connect(pg_stack.settings.state_dir)
    before = client.latest_run(DAG_ID)
    assert before is not None
    pids = [r.pid for r in pg_stack.pids.all()]
    sessions = sessions_of(pg_stack)
    assert "postgres" in {r.name for r in pg_stack.pids.all()}

    pg_stack.down()
    assert pg_stack.leftover_processes() == []
    assert left_in(sessions) == []
    assert not any(
        psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie" for pid in pids
    )
    assert port_is_free("127.0.0.1", pg_stack.settings.postgres_port)
    assert "fast shutdown" in (pg_stack.log_path("postgres").read_text())  # type: ignore[union-attr]

    # A later `up` of the same state folder keeps the shape and the data.
    again = EmbeddedStack.from_state(pg_stack.settings.state_dir)
    assert again.settings.database == "postgres"
    again.up(timeout=600, progress=False)
    after = connect(again.settings.state_dir).latest_run(DAG_ID)
    assert after is not None and after.run_id == before.run_id
    rows = _query(again, "airflow", "SELECT count(*) FROM dag_run WHERE dag_id = %s", DAG_ID)
    assert rows == [(1,)]

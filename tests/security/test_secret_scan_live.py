"""The secret scan on the session stack: every process of the running native stack, and a
notebook task while it runs, holds no secret it does not need (kit.stack.secret_map); the
database roles are least-privileged for real."""

from __future__ import annotations

import time
from pathlib import Path

import psycopg2
import pytest

from kit.codegen.export import export
from kit.spec import spec_from_mapping
from kit.stack import secret_map
from kit.stack.airflow_env import STACK_MARKER, stack_id
from kit.stack.processes import processes_with_marker, session_members
from kit.stack.secrets import load_or_create
from tests.runtime.conftest import write_notebook
from tests.security.proc_scan import native_labeller, places, scan

pytestmark = pytest.mark.stack

DAG_ID = "kit_secret_scan"


def places_or_none(pid: int) -> list[tuple[str, str]] | None:
    try:
        return places(pid)
    except OSError:
        return None  # gone meanwhile


def stack_pids(stack) -> set[int]:
    marked = processes_with_marker(STACK_MARKER, stack_id(stack.settings))
    return {p.pid for p in [*marked, *session_members(stack.pids.all())]}


def test_no_process_of_the_stack_or_of_a_notebook_task_holds_a_secret_it_does_not_need(
    stack, client, tmp_path: Path
) -> None:
    values = secret_map.secret_values(load_or_create(stack.settings.secrets_file))
    components = {record.pid: record.name for record in stack.pids.all()}
    label = native_labeller(components)
    pid_file = tmp_path / "kernel.pid"
    notebook = write_notebook(
        tmp_path / "sleeps.ipynb",
        "pid_file = ''",
        "import os, pathlib, time\npathlib.Path(pid_file).write_text(str(os.getpid()))\n"
        "time.sleep(20)",
    )
    spec = spec_from_mapping({
        "dag_id": DAG_ID, "schedule": None, "tags": ["kit-test"],
        "tasks": [{"id": "sleeps", "kind": "notebook", "settings": {
            "notebook": str(notebook), "parameters": {"pid_file": str(pid_file)}}}],
    })  # fmt: skip
    result = export(
        spec,
        project_dir=stack.settings.project_dir,
        dags_dir=stack.settings.dags_dir,
        pipelines_dir=tmp_path / "pipelines",
    )
    client.make_visible(DAG_ID, result.dag_path, timeout=180)
    started = time.monotonic()
    run = client.trigger(DAG_ID)
    deadline = time.monotonic() + 240
    while not pid_file.exists() or not pid_file.read_text():
        assert time.monotonic() < deadline, "the notebook task never started its kernel"
        time.sleep(0.5)
    kernel = int(pid_file.read_text())

    # Read while the notebook sleeps: the stack's processes, the task's and its kernel.
    scanned_at = time.monotonic()
    pids = stack_pids(stack) | {kernel}
    found, labels = scan("native", pids, label, values)
    scan_seconds = time.monotonic() - scanned_at

    assert not found, "secrets where they are not needed:\n" + "\n".join(map(str, found))
    assert labels[kernel] == "kernel"
    # The scan saw every kind of process and found the secrets where the map says they are.
    seen = set(labels.values())
    assert {"postgres", "api-server", "scheduler", "dag-processor", "mlflow", "kernel"} <= seen
    assert not [name for name in seen if name.startswith("unknown")], labels
    # The scan reads what it should: MLflow's server (it keeps its /proc environ; Airflow's
    # processes overwrite theirs with their title, docs/security.md) shows its own database.
    mlflow = next(pid for pid, name in labels.items() if name == "mlflow" and pid in components)
    assert values["mlflow-db"] in " ".join(text for _, text in places(mlflow))
    kernel_env = {w.removeprefix("env "): t for w, t in places(kernel) if w.startswith("env ")}
    assert "AIRFLOW__CORE__FERNET_KEY" not in kernel_env
    assert "MLFLOW_TRACKING_URI" in kernel_env  # what it does need
    finished = client.wait(DAG_ID, run.run_id, timeout=300, progress=False)
    assert finished.state == "success", finished
    airflow = [pid for pid, name in labels.items() if name in secret_map.AIRFLOW_NAMES]
    showing = [pid for pid in airflow if values["airflow-db"] in str(places_or_none(pid))]
    print(f"secret scan: {len(labels)} processes in {scan_seconds:.2f} s; "
          f"{len(showing)} of {len(airflow)} Airflow processes still show their environment; "
          f"test {time.monotonic() - started:.0f} s")  # fmt: skip


def test_roles_own_only_their_database_and_are_no_superusers(stack) -> None:
    postgres = stack.postgres()
    for role, other in (("airflow", "mlflow"), ("mlflow", "airflow")):
        conn = psycopg2.connect(**postgres.connect_args(role))
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles "
                            "WHERE rolname = current_user")  # fmt: skip
                assert cur.fetchone() == (False, False, False), role
        finally:
            conn.close()
        args = {**postgres.connect_args(role), "dbname": other}
        with pytest.raises(psycopg2.OperationalError, match="permission denied for database"):
            psycopg2.connect(**args)
    # Each role has its own password: the superuser's opens no role's login.
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        psycopg2.connect(**{**postgres.connect_args("airflow"),
                            "password": postgres.password("postgres")})  # fmt: skip


def test_a_state_whose_roles_shared_the_superusers_password_moves_over(stack) -> None:
    """As a state from before the roles had their own passwords: `airflow` a superuser with the
    superuser's password. The set-up `kit up` runs puts it right."""
    postgres = stack.postgres()
    su = psycopg2.connect(**postgres.connect_args("postgres", user="postgres"))
    su.autocommit = True
    try:
        with su.cursor() as cur:
            cur.execute("SET log_statement = 'none'")
            cur.execute("ALTER ROLE airflow WITH SUPERUSER PASSWORD %s",
                        (postgres.password("postgres"),))  # fmt: skip
            cur.execute("GRANT ALL ON DATABASE mlflow TO PUBLIC")
        postgres.ensure_databases()
        with su.cursor() as cur:
            cur.execute("SELECT rolsuper FROM pg_roles WHERE rolname = 'airflow'")
            assert cur.fetchone() == (False,)
    finally:
        su.close()
    psycopg2.connect(**postgres.connect_args("airflow")).close()  # its own password again
    with pytest.raises(psycopg2.OperationalError, match="permission denied for database"):
        psycopg2.connect(**{**postgres.connect_args("airflow"), "dbname": "mlflow"})

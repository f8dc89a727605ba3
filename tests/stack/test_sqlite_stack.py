"""SQLite, the explicit choice for the smallest machines (`kit up --sqlite`), and state folders an
older kit made on it: they keep working, and are never silently started afresh on PostgreSQL."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from kit.cli import main
from kit.stack import EmbeddedStack, StackError
from kit.stack.embedded import COMPONENTS
from tests.conftest import run_a_chain, stack_settings


@pytest.fixture(scope="module")
def sqlite_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStack]:
    """A stack started the way a user asks for it: `kit up --sqlite` (through main())."""
    settings = stack_settings(tmp_path_factory.mktemp("sqlite"))
    env = {
        "KIT_PROJECT_DIR": str(settings.project_dir),
        "KIT_DAGS_DIR": str(settings.dags_dir),
        "KIT_SCHEDULER_HEALTH_PORT": str(settings.scheduler_health_port),
        "KIT_WORKER_LOG_PORT": str(settings.worker_log_port),
        "KIT_TRIGGER_LOG_PORT": str(settings.trigger_log_port),
    }
    state = str(settings.state_dir)
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        code = main(
            [
                "up", "--sqlite", "--quiet", "--state-dir", state,
                "--airflow-port", str(settings.airflow_port),
                "--mlflow-port", str(settings.mlflow_port),
            ]
        )  # fmt: skip
        assert code == 0
        stack = EmbeddedStack.from_state(settings.state_dir)
        try:
            yield stack
        finally:
            assert main(["down", "--state-dir", state]) == 0
    assert stack.leftover_processes() == []


def test_the_sqlite_shape_runs_a_chain_without_a_database_server(
    sqlite_stack: EmbeddedStack,
) -> None:
    # `kit up` returned once Airflow could run a DAG; the rest may still be starting.
    status = {c.name: c for c in sqlite_stack.status().components}
    assert list(status) == list(COMPONENTS)
    assert all(status[name].healthy for name in ("api-server", "scheduler")), status
    state_dir = str(sqlite_stack.settings.state_dir)
    assert main(["up", "--wait", "all", "--quiet", "--state-dir", state_dir]) == 0
    assert sqlite_stack.status().healthy
    state = json.loads(sqlite_stack.state_file.read_text())
    assert state["database"] == "sqlite"
    db = sqlite_stack.settings.airflow_home / "airflow.db"
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert not (sqlite_stack.settings.postgres_dir / "data").exists()
    _, run = run_a_chain(sqlite_stack, "kit_sqlite_chain")
    assert run.state == "success"
    assert (sqlite_stack.settings.mlflow_dir / "mlflow.db").exists()


def test_up_again_without_options_keeps_sqlite_and_says_so(
    sqlite_stack: EmbeddedStack, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["up", "--quiet", "--state-dir", str(sqlite_stack.settings.state_dir)])
    out = capsys.readouterr().out
    assert code == 0
    assert "(sqlite+local) is healthy" in out and "runs on SQLite" in out


def test_a_state_file_without_shape_fields_is_an_older_kits_sqlite_stack(tmp_path: Path) -> None:
    settings = stack_settings(tmp_path)
    state = {
        "kind": "embedded",
        "airflow_url": settings.airflow_url,
        "mlflow_url": settings.mlflow_url,
        "username": "admin",
        "password_file": str(settings.passwords_file),
        "dags_dir": str(settings.dags_dir),
        "project_dir": str(settings.project_dir),
        "ports": settings.ports(),
    }
    settings.state_dir.mkdir(parents=True)
    (settings.state_dir / "stack.json").write_text(json.dumps(state))
    assert EmbeddedStack.from_state(settings.state_dir).settings.shape == "sqlite+local"


def test_postgres_asked_for_on_a_sqlite_state_is_refused_and_starts_nothing(
    tmp_path: Path,
) -> None:
    settings = stack_settings(tmp_path)  # the default: PostgreSQL
    settings.airflow_home.mkdir(parents=True)
    (settings.airflow_home / "airflow.db").write_bytes(b"")
    stack = EmbeddedStack(settings)
    with pytest.raises(StackError) as err:
        stack.up(timeout=60, progress=False)
    message = str(err.value)
    assert "SQLite" in message and "`kit up --sqlite`" in message and "move" in message
    assert not (settings.postgres_dir / "data").exists()
    assert stack.leftover_processes() == [] and not any(r.alive for r in stack.pids.all())

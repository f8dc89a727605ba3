"""The native stack's databases in its state folder: migrated once per Airflow version, and never
started afresh on PostgreSQL over a stack whose runs are in SQLite."""

from __future__ import annotations

import sqlite3
import subprocess
from importlib.metadata import version
from pathlib import Path

from kit.stack import health
from kit.stack.base import StackError
from kit.stack.component_commands import airflow_cli
from kit.stack.settings import StackSettings


def refuse_to_orphan_sqlite_data(settings: StackSettings) -> None:
    """A state folder whose runs live in SQLite is not silently started afresh on PostgreSQL:
    its DAG runs and MLflow runs would vanish from view. The kit does not move them."""
    sqlite_files = [settings.airflow_home / "airflow.db", settings.mlflow_dir / "mlflow.db"]
    if settings.database != "postgres" or (settings.postgres_dir / "data" / "PG_VERSION").exists():
        return
    if not any(f.exists() for f in sqlite_files):
        return
    raise StackError(
        f"the state folder {settings.state_dir} holds a stack made on SQLite (its DAG runs and "
        "MLflow runs are in airflow/airflow.db and mlflow/mlflow.db), and PostgreSQL was asked "
        "for; the kit does not move data between them. Keep that stack: `kit up --sqlite`. Or "
        "start afresh on PostgreSQL and keep the old one aside: `kit down`, move "
        f"{settings.state_dir} to another name, then `kit up`."
    )


def migrate_once(settings: StackSettings, env: dict[str, str], log: Path) -> None:
    """Create or upgrade the metadata database, once per Airflow version."""
    if settings.database == "postgres":
        # Kept beside the cluster's data: a new cluster (data folder removed) migrates again.
        marker = settings.postgres_dir / f".airflow-migrated-{version('apache-airflow')}"
        database_exists = (settings.postgres_dir / "data" / "PG_VERSION").exists()
    else:
        marker = settings.airflow_home / f".migrated-{version('apache-airflow')}"
        database_exists = (settings.airflow_home / "airflow.db").exists()
    if marker.exists() and database_exists:
        return
    _migrate(settings, env, log)
    if settings.database == "sqlite":
        # WAL: readers (the api-server answering the UI and tasks) no longer wait behind a
        # writer (scheduler, dag-processor); the setting stays with the database file.
        with sqlite3.connect(settings.airflow_home / "airflow.db") as db:
            db.execute("PRAGMA journal_mode=WAL")
    marker.touch()


def _migrate(settings: StackSettings, env: dict[str, str], log: Path) -> None:
    with open(log, "ab") as fh:
        done = subprocess.run(
            [*airflow_cli(), "db", "migrate"],
            env=env,
            cwd=settings.state_dir,
            stdout=fh,
            stderr=subprocess.STDOUT,
            timeout=600,
        )
    if done.returncode != 0:
        raise StackError(
            f"`airflow db migrate` failed (exit {done.returncode}).\n"
            f"--- last lines of {log} ---\n{health.tail(log)}"
        )

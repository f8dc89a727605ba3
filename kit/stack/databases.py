"""The native stack's databases in its state folder: migrated once per Airflow and FAB version, with
the kit's admin user in FAB's tables, and never started afresh on PostgreSQL over a stack whose runs
are in SQLite."""

from __future__ import annotations

import sqlite3
from importlib.metadata import version
from pathlib import Path

from kit.stack.admin_user import ADMIN_MARKER_NAME, admin_needed, record_admin, run_admin_entry
from kit.stack.base import StackError
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


def migrate_once(
    settings: StackSettings, env: dict[str, str], log: Path, admin: tuple[str, str]
) -> None:
    """Create or upgrade the metadata database once per Airflow and FAB version, and make the
    kit's admin user (``admin`` = (name, password)) in FAB's tables when it is not known to be
    there with that password; both in one process when both are due (kit.stack.admin_user)."""
    if settings.database == "postgres":
        # Kept beside the cluster's data: a new cluster (data folder removed) migrates again.
        folder = settings.postgres_dir
        database_exists = (settings.postgres_dir / "data" / "PG_VERSION").exists()
    else:
        folder = settings.airflow_home
        database_exists = (settings.airflow_home / "airflow.db").exists()
    versions = {
        name: version(dist)
        for name, dist in (
            ("airflow", "apache-airflow"),
            ("fab", "apache-airflow-providers-fab"),
            ("edge3", "apache-airflow-providers-edge3"),
        )
    }
    marker = folder / migrated_marker_name(settings.database, versions)
    admin_marker = folder / ADMIN_MARKER_NAME
    migrate = not (marker.exists() and database_exists)
    if migrate:
        admin_marker.unlink(missing_ok=True)  # a new database has no admin yet
    if not migrate and not admin_needed(admin_marker, *admin):
        return
    run_admin_entry(admin, env=env, cwd=settings.state_dir, log=log, migrate=migrate)
    if migrate and settings.database == "sqlite":
        # WAL: readers (the api-server answering the UI and tasks) no longer wait behind a
        # writer (scheduler, dag-processor); the setting stays with the database file.
        with sqlite3.connect(settings.airflow_home / "airflow.db") as db:
            db.execute("PRAGMA journal_mode=WAL")
    if migrate:
        marker.touch()
    record_admin(admin_marker, *admin)


def migrated_marker_name(database: str, versions: dict[str, str]) -> str:
    """The name of the file that says the database was migrated for these versions (pure).

    FAB's version is part of it: a database migrated by a kit without FAB (SimpleAuthManager)
    lacks FAB's tables, and its next `kit up` migrates again, which adds them. So is the Edge
    provider's (its tables, which `kit up --edge` needs, come with `airflow db migrate`)."""
    prefix = ".airflow-migrated" if database == "postgres" else ".migrated"
    edge = f"-edge3-{versions['edge3']}" if "edge3" in versions else ""
    return f"{prefix}-{versions['airflow']}-fab-{versions['fab']}{edge}"

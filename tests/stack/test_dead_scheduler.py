"""A scheduler the kit knows is dead is marked so in Airflow's job table at once (pure: a SQLite
database with Airflow's job table shape, no Airflow process)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from kit import fast_paths
from kit.stack.dead_scheduler import PATH, fail_dead_scheduler_jobs
from kit.stack.secrets import StackSecrets
from tests.conftest import stack_settings


def test_running_scheduler_jobs_are_failed_and_nothing_else_changes(tmp_path: Path) -> None:
    settings = stack_settings(tmp_path, database="sqlite")
    settings.airflow_home.mkdir(parents=True)
    db = settings.airflow_home / "airflow.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE job (id INTEGER PRIMARY KEY, job_type TEXT, state TEXT)")
        conn.executemany(
            "INSERT INTO job (job_type, state) VALUES (?, ?)",
            [
                ("SchedulerJob", "running"),
                ("SchedulerJob", "success"),
                ("TriggererJob", "running"),
                ("DagProcessorJob", "running"),
            ],
        )
    # What the scheduler recorded at start: its check of Airflow's job table held.
    decision = fast_paths.Decision(PATH, True)
    fast_paths.save(settings.run_dir, "scheduler", [decision])
    assert fail_dead_scheduler_jobs(settings, StackSecrets.generate()) == 1
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT job_type, state FROM job ORDER BY id").fetchall()
    assert rows == [
        ("SchedulerJob", "failed"),
        ("SchedulerJob", "success"),
        ("TriggererJob", "running"),
        ("DagProcessorJob", "running"),
    ]


def test_a_database_not_yet_migrated_is_left_alone(tmp_path: Path) -> None:
    settings = stack_settings(tmp_path, database="sqlite")
    assert fail_dead_scheduler_jobs(settings, StackSecrets.generate()) == 0
    settings.airflow_home.mkdir(parents=True)
    sqlite3.connect(settings.airflow_home / "airflow.db").close()
    assert fail_dead_scheduler_jobs(settings, StackSecrets.generate()) == 0

"""Tell Airflow at once that a scheduler the kit found dead is dead.

Airflow takes a scheduler for dead, and hands its running tasks to the next one, only once its
heartbeat is older than ``[scheduler] scheduler_health_check_threshold`` (120 s here, for a busy
machine's late heartbeats). When ``kit up`` restarts a scheduler whose process is gone (killed by
the OOM killer, SIGKILL), it knows better: it marks that scheduler's job failed, with the same
statement Airflow's own orphan check runs, before the new scheduler starts, whose start-up check
then re-queues the orphaned tasks at once instead of two minutes later.
"""

from __future__ import annotations

import sqlite3

from kit.stack.secrets import StackSecrets
from kit.stack.services.postgres import PostgresServer
from kit.stack.settings import StackSettings

# Airflow's own: adopt_or_reset_orphaned_tasks() marks dead SchedulerJobs so (job_type, state).
MARK_FAILED = (
    "UPDATE job SET state = 'failed' WHERE job_type = 'SchedulerJob' AND state = 'running'"
)


def fail_dead_scheduler_jobs(settings: StackSettings, secrets: StackSecrets) -> int:
    """Mark every running SchedulerJob of the stack's database failed; call only when no
    scheduler of the stack is alive. Returns how many were marked (0 on a database without the
    table yet)."""
    if settings.database == "postgres":
        import psycopg2

        conn = psycopg2.connect(**PostgresServer(settings, secrets).connect_args("airflow"))
        try:
            with conn, conn.cursor() as cur:
                cur.execute("SELECT to_regclass('job')")
                if cur.fetchone()[0] is None:
                    return 0
                cur.execute(MARK_FAILED)
                return cur.rowcount
        finally:
            conn.close()
    db = settings.airflow_home / "airflow.db"
    if not db.exists():
        return 0
    conn = sqlite3.connect(db, timeout=60)
    try:
        with conn:
            found = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'job'").fetchone()
            return conn.execute(MARK_FAILED).rowcount if found else 0
    finally:
        conn.close()

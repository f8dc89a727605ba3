"""Tell Airflow at once that a scheduler the kit found dead is dead.

Airflow takes a scheduler for dead, and hands its running tasks to the next one, only once its
heartbeat is older than ``[scheduler] scheduler_health_check_threshold`` (120 s here, for a busy
machine's late heartbeats). When ``kit up`` restarts a scheduler whose process is gone (killed by
the OOM killer, SIGKILL), it knows better: it marks that scheduler's job failed, with the same
statement Airflow's own orphan check runs, before the new scheduler starts, whose start-up check
then re-queues the orphaned tasks at once instead of two minutes later.

The statement relies on Airflow's private schema and values (the ``job`` table, its
``job_type``/``state`` columns, ``"SchedulerJob"``, ``"running"``, ``"failed"``). The scheduler
checks them at start against the Airflow it runs (``check_at_start``, a few attribute reads) and
records the decision; ``kit up`` runs the statement only when the dead scheduler's record says
they held.
"""

from __future__ import annotations

import sqlite3

from kit import fast_paths
from kit.stack.secrets import StackSecrets
from kit.stack.services.postgres import PostgresServer
from kit.stack.settings import StackSettings

# Airflow's own: adopt_or_reset_orphaned_tasks() marks dead SchedulerJobs so (job_type, state).
MARK_FAILED = (
    "UPDATE job SET state = 'failed' WHERE job_type = 'SchedulerJob' AND state = 'running'"
)
PATH = "dead-scheduler"


def dead_scheduler_problem(job: type, runner: type, job_state: type) -> str | None:
    """What of ``MARK_FAILED``'s assumptions does not hold for Airflow's ``Job`` model, its
    ``SchedulerJobRunner`` and ``JobState`` (None: all hold)."""
    if getattr(job, "__tablename__", None) != "job":
        return f"Airflow's Job model is table {getattr(job, '__tablename__', None)!r}, not 'job'"
    columns = getattr(getattr(job, "__table__", None), "columns", None)
    names = set(columns.keys()) if columns is not None else set()
    if not {"job_type", "state"} <= names:
        return f"Airflow's job table has no {sorted({'job_type', 'state'} - names)} column"
    if getattr(runner, "job_type", None) != "SchedulerJob":
        return f"the scheduler's job_type is {getattr(runner, 'job_type', None)!r}"
    states = (getattr(job_state, "RUNNING", None), getattr(job_state, "FAILED", None))
    if states != ("running", "failed"):
        return f"Airflow's JobState RUNNING/FAILED are {states}, not ('running', 'failed')"
    return None


def check_at_start() -> bool:
    """In the scheduler, Airflow imported: check and record the assumptions (cheap)."""
    from airflow.jobs import job
    from airflow.jobs.scheduler_job_runner import SchedulerJobRunner

    problem = dead_scheduler_problem(job.Job, SchedulerJobRunner, job.JobState)
    return fast_paths.check(PATH, problem, on="kit up marks a dead scheduler's job failed")


def _checked(settings: StackSettings) -> bool:
    """Whether the scheduler's record says the statement's assumptions held (told once if not)."""
    record = fast_paths.read_record(settings.run_dir, "scheduler")
    decision = fast_paths.recorded_decision(record, PATH)
    if decision is not None and decision.on:
        return True
    why = decision.why if decision else "the scheduler recorded no check of Airflow's job table"
    return fast_paths.decide(PATH, why).on


def fail_dead_scheduler_jobs(settings: StackSettings, secrets: StackSecrets) -> int:
    """Mark every running SchedulerJob of the stack's database failed; call only when no
    scheduler of the stack is alive. Returns how many were marked (0 on a database without the
    table yet, or when the scheduler's check of its assumptions did not pass)."""
    if not _checked(settings):
        return 0
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

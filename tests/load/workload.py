"""The load the reliability issue asks for, shared by its test (tests/load/test_load.py: all
runs finish, the seed's limits hold) and its benchmark (bench/bench_load.py: throughput, memory).

50 concurrent runs of a 3-task chain and 8 concurrent ML lifecycles, all at once, on a stack with
the seed's `parallelism` 32 (`max_active_runs_per_dag` and `max_active_tasks_per_dag` 16 come from
config/airflow.cfg). The limits are checked from the task instances' own start and end times;
memory is the stack's peak PSS (all its processes, kernels included), sampled every 2 s.

The machine is busy, as a user's laptop is: a CPU-bound process of the load's own keeps every core
busy for the whole load (``BusyMachine``). HTTP 5xx answers are counted twice: by the client that
triggers and watches the runs, and in the api-server's access log.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psutil

from kit.client import connect
from kit.stack import EmbeddedStack
from kit.stack.airflow_env import STACK_MARKER, stack_id
from kit.stack.processes import processes_with_marker, session_members
from tests.conftest import chain_dag_source
from tests.stack._native import export_the_lifecycle, native_settings

LIMITS = {"parallelism": 32, "max_active_tasks_per_dag": 16, "max_active_runs_per_dag": 16}


def max_overlap(intervals: list[tuple[datetime, datetime]]) -> int:
    """The largest number of intervals open at one instant (an end before a start at a tie)."""
    events = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals])
    best = current = 0
    for _, step in events:
        current += step
        best = max(best, current)
    return best


class MemorySampler(threading.Thread):
    """Peak total PSS of every process of the stack: its components' sessions (where renamed
    workers and task processes live; setproctitle hides their environment) and whatever carries
    its environment marker elsewhere (the pool's kernels, MLflow's workers)."""

    def __init__(self, stack: EmbeddedStack) -> None:
        super().__init__(daemon=True)
        self.stack = stack
        self.marker = (STACK_MARKER, stack_id(stack.settings))
        self.peak = 0
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(2.0):
            found = session_members(self.stack.pids.all()) + processes_with_marker(*self.marker)
            total = 0
            for proc in {p.pid: p for p in found}.values():
                try:
                    total += proc.memory_full_info().pss
                except psutil.Error:
                    continue
            self.peak = max(self.peak, total)


class BusyMachine:
    """A CPU-bound process per core, at the stack's own priority, for the duration of a block.

    Each is a plain Python busy loop in a session of its own, killed at the end. What it measured:
    ``cpu_seconds`` the loops took, and ``idle_fraction``, the share of the machine's CPU time that
    stayed idle meanwhile (near 0: the cores were busy all along, whatever the stack needed)."""

    LOOP = "while True:\n    pass"

    def __init__(self, processes: int | None = None) -> None:
        self.count = processes or psutil.cpu_count() or 2
        self.procs: list[subprocess.Popen] = []
        self.cpu_seconds = 0.0
        self.idle_fraction = 1.0
        self._times_at_start: psutil._common.scputimes | None = None

    def __enter__(self) -> BusyMachine:
        self._times_at_start = psutil.cpu_times()
        for _ in range(self.count):
            self.procs.append(
                subprocess.Popen([sys.executable, "-c", self.LOOP], start_new_session=True)
            )
        return self

    def __exit__(self, *exc: object) -> None:
        for proc in self.procs:
            try:
                times = psutil.Process(proc.pid).cpu_times()
                self.cpu_seconds += times.user + times.system
            except psutil.Error:
                pass
            proc.kill()
            proc.wait()
        start, end = self._times_at_start, psutil.cpu_times()
        total = sum(end) - sum(start)
        idle = (end.idle + end.iowait) - (start.idle + start.iowait)
        self.idle_fraction = idle / total if total > 0 else 1.0


# A request the api-server answered with a 5xx, in its access log (structlog's key=value form).
SERVER_ERROR_LINE = re.compile(r"status_code=5\d\d\b")


def server_errors_logged(stack: EmbeddedStack) -> list[str]:
    """The api-server's access-log lines of requests it answered with HTTP 5xx."""
    log = stack.log_path("api-server")
    if log is None or not log.exists():
        return []
    with open(log, errors="replace") as fh:
        return [line.rstrip() for line in fh if SERVER_ERROR_LINE.search(line)]


def trigger_all(client, dag_id: str, count: int) -> list[str]:
    return [client.trigger(dag_id).run_id for _ in range(count)]


def wait_all(client, dag_id: str, run_ids: list[str], timeout: float) -> list:
    return [client.wait(dag_id, run_id, timeout=timeout, progress=False) for run_id in run_ids]


def seconds_until_last_end(runs: list, started: datetime) -> float:
    """From ``started`` to the end of the last of ``runs``, by Airflow's own end times."""
    return (max(r.end for r in runs) - started).total_seconds()


def most_at_once(runs: list) -> dict[str, int]:
    """The highest concurrency the runs' task instances and runs reached, per seed limit.

    Airflow 3 counts ``max_active_tasks_per_dag`` per DAG *run* (apache/airflow#42953; in 2.x,
    the seed's version, it was per DAG across its runs), so it is measured per run here; the
    per-DAG figure across runs is reported as ``tasks_of_one_dag`` (bounded by
    ``max_active_runs_per_dag`` x ``max_active_tasks_per_dag`` and ``parallelism``)."""
    tasks = [
        (t.start, t.end, r.dag_id, r.run_id) for r in runs for t in r.tasks if t.start and t.end
    ]
    per_dag, per_run = defaultdict(list), defaultdict(list)
    for start, end, dag_id, run_id in tasks:
        per_dag[dag_id].append((start, end))
        per_run[(dag_id, run_id)].append((start, end))
    runs_per_dag = defaultdict(list)
    for run in runs:
        if run.start and run.end:
            runs_per_dag[run.dag_id].append((run.start, run.end))
    return {
        "parallelism": max_overlap([(s, e) for s, e, _, _ in tasks]),
        "max_active_tasks_per_dag": max(max_overlap(v) for v in per_run.values()),
        "max_active_runs_per_dag": max(max_overlap(v) for v in runs_per_dag.values()),
        "tasks_of_one_dag": max(max_overlap(v) for v in per_dag.values()),
    }


@dataclass
class LoadResult:
    """What one stack did under the load: its finished runs, the time from the first trigger to
    the end of each load's last run, and the stack's peak memory."""

    shape: str
    small: list
    big: list
    small_wall: float
    big_wall: float
    peak_bytes: int
    # HTTP 5xx answers seen by the load's client, and logged by the api-server (lines).
    client_5xx: int = 0
    logged_5xx: tuple[str, ...] = ()
    # CPU time the busy-machine processes took during the load, and the machine's idle share.
    busy_cpu_seconds: float = 0.0
    idle_fraction: float = 1.0
    # Why runs did not succeed: each failed task instance with the end of its log.
    failures: tuple[str, ...] = ()

    @property
    def runs(self) -> list:
        return self.small + self.big

    def not_successful(self) -> list[tuple[str, str, str]]:
        return [(r.dag_id, r.run_id, r.state) for r in self.runs if r.state != "success"]

    def task_instances(self, which: str) -> int:
        """How many task instances ran in the ``small`` or ``big`` load, or in ``runs`` (both)."""
        return sum(len(r.tasks) for r in getattr(self, which))

    def wall(self, which: str) -> float:
        """Seconds from the first trigger to the end of the ``small``/``big`` load, or both."""
        return (
            max(self.small_wall, self.big_wall)
            if which == "runs"
            else getattr(self, f"{which}_wall")
        )

    def per_minute(self, which: str) -> float:
        """Task instances finished per minute of wall time (``small``, ``big`` or ``runs``)."""
        return self.task_instances(which) / (self.wall(which) / 60)


def failed_task_logs(client, runs: list, lines: int = 40) -> tuple[str, ...]:
    """Each failed task instance of the unsuccessful ``runs``, with the last ``lines`` of its log:
    what a failure of the load test has to show, since the stack is gone once it is reported."""
    found = []
    for run in runs:
        if run.state == "success":
            continue
        for task in run.tasks:
            if task.state in ("success", "skipped"):
                continue
            try:
                log = client.task_log(
                    run.dag_id, run.run_id, task.task_id, map_index=task.map_index
                )
            except Exception as exc:  # noqa: BLE001 - the report must not hide the failure
                log = f"(log unavailable: {exc})"
            tail = "\n".join(log.splitlines()[-lines:])
            found.append(f"{run.run_id} {task.task_id}[{task.map_index}] {task.state}:\n{tail}")
    return tuple(found)


def measure(shape: str, root: Path, small_runs: int = 50, lifecycles: int = 8) -> LoadResult:
    """Bring up a stack of ``shape`` (``default``: PostgreSQL from the wheel; or ``sqlite``) with
    the seed's limits in ``root``, run the load on it while the machine is kept busy, take it
    down; the runs come back finished (or timed out)."""
    extra = {"database": "sqlite"} if shape == "sqlite" else {}
    # parallelism None: config/airflow.cfg's 32, the seed's value (the other tests use 8).
    stack = EmbeddedStack(native_settings(root, parallelism=None, **extra))
    sampler = MemorySampler(stack)
    busy = BusyMachine()
    try:
        stack.up(timeout=900, progress=False)
        sampler.start()
        client = connect(stack.settings.state_dir)
        chain = stack.settings.dags_dir / "kit_load_chain.py"
        chain.write_text(chain_dag_source("kit_load_chain"))
        client.make_visible("kit_load_chain", chain, timeout=300)
        lifecycle = export_the_lifecycle(stack, client, root)
        with busy:
            # Both loads at once: 16 chain tasks and 16 lifecycle tasks can then be running
            # together, which is what puts `parallelism` 32 (not only the per-DAG 16) to the test.
            started = datetime.now(UTC)
            chains = trigger_all(client, "kit_load_chain", small_runs)
            lifecycles_ids = trigger_all(client, lifecycle, lifecycles)
            small = wait_all(client, "kit_load_chain", chains, timeout=3600)
            big = wait_all(client, lifecycle, lifecycles_ids, timeout=7200)
        logged = tuple(server_errors_logged(stack))
        failures = failed_task_logs(client, small + big)
    finally:
        sampler.stopping.set()
        stack.down()
    return LoadResult(
        shape,
        small,
        big,
        seconds_until_last_end(small, started),
        seconds_until_last_end(big, started),
        sampler.peak,
        client_5xx=client.server_errors,
        logged_5xx=logged,
        busy_cpu_seconds=busy.cpu_seconds,
        idle_fraction=busy.idle_fraction,
        failures=failures,
    )

"""Stack benchmarks: `kit up` to healthy, and "DAG file written" to "DAG triggerable".

Baselines measured in the same run, like for like: `airflow standalone` (Airflow's own all-in-one
command) restarted on its existing home against `kit up` on existing state, and started on a new
home against `kit up` on a new state, each to "can run a DAG" and to "everything healthy"; `curl`
of the health endpoint against `kit status`; `airflow dags reserialize` (Airflow's own CLI way to
load new files now) for visibility. Without it, a new file waits for the next listing of dags/: up
to 300 s here.

    .venv/bin/python bench/bench_stack.py [--repeats 3]   # prints the tables, updates BENCHMARKS.md
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._report import update_section  # noqa: E402
from kit import clock  # noqa: E402
from kit.client import connect  # noqa: E402
from kit.stack import EmbeddedStack  # noqa: E402
from kit.stack.ports import free_ports  # noqa: E402
from kit.stack.processes import session_members, wait_gone  # noqa: E402
from tests.conftest import chain_dag_source, stack_settings  # noqa: E402

AIRFLOW = str(Path(sys.executable).parent / "airflow")
KIT = str(Path(sys.executable).parent / "kit")


AIRFLOW_PARTS = ("metadatabase", "scheduler", "triggerer", "dag_processor")
# What a DAG run needs: the api-server answering, its database and a live scheduler.
RUN_PARTS = ("metadatabase", "scheduler")


def health_states(url: str) -> dict[str, str]:
    """Each Airflow component's status from the api-server's health endpoint ({} if no answer)."""
    try:
        data = httpx.get(f"{url}/api/v2/monitor/health", timeout=2).json()
    except (httpx.HTTPError, ValueError):
        return {}
    return {part: str((data.get(part) or {}).get("status")) for part in AIRFLOW_PARTS}


def all_healthy(states: dict[str, str], parts: tuple[str, ...]) -> bool:
    return bool(states) and all(states.get(part) == "healthy" for part in parts)


@dataclass
class Start:
    """Seconds of one start: to "can run a DAG" and to everything healthy."""

    ready: float
    everything: float


class Standalone:
    """`airflow standalone` on one home, started and stopped as a user does (Ctrl-C's SIGTERM)."""

    def __init__(self, root: Path) -> None:
        api, health, wlog, tlog = free_ports(4)
        self.root, self.url = root, f"http://127.0.0.1:{api}"
        (root / "dags").mkdir(parents=True, exist_ok=True)
        self.env = {
            **os.environ,
            # standalone starts its components as `airflow …` found on PATH.
            "PATH": f"{Path(AIRFLOW).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "AIRFLOW_HOME": str(root / "home"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(root / "dags"),
            "AIRFLOW__API__PORT": str(api),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.url}/execution/",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(health),
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(wlog),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(tlog),
            # [core] parallelism is Airflow's default, 32: the seed's, as the kit's stack here.
        }
        self.proc: subprocess.Popen | None = None
        self.log = root / "standalone.log"

    def start(self) -> Start:
        """Start it; seconds until it can run a DAG, and until all four components are healthy."""
        log = open(self.log, "ab")  # noqa: SIM115 - the child holds it; closed with the process
        started = time.monotonic()
        self.proc = subprocess.Popen(
            [AIRFLOW, "standalone"], env=self.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        log.close()
        ready = None
        while True:
            states = health_states(self.url)
            now = time.monotonic() - started
            if ready is None and all_healthy(states, RUN_PARTS):
                ready = now
            if all_healthy(states, AIRFLOW_PARTS):
                return Start(ready or now, now)
            if now > 600 or self.proc.poll() is not None:
                raise RuntimeError(f"airflow standalone did not become healthy; see {self.log}")
            time.sleep(0.25)  # as `kit up` polls

    def family(self) -> list[psutil.Process]:
        if self.proc is None:
            return []
        with contextlib.suppress(psutil.Error):
            leader = psutil.Process(self.proc.pid)
            return [leader, *leader.children(recursive=True)]
        return []

    def idle_mib(self, settle: float = 15.0) -> float:
        """PSS of all its processes, ``settle`` seconds after healthy."""
        time.sleep(settle)
        total = 0
        for member in self.family():
            with contextlib.suppress(psutil.Error):
                total += member.memory_full_info().pss
        return total / 2**20

    def stop(self) -> float:
        """SIGTERM to its group (standalone alone leaves workers); seconds until none is left."""
        assert self.proc is not None
        family = self.family()
        t0 = time.monotonic()
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            left = wait_gone(family, 120)
            return time.monotonic() - t0 if not left else float("inf")
        finally:
            self.kill()

    def kill(self) -> None:
        if self.proc is None:
            return
        family = self.family()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        for member in family:
            with contextlib.suppress(psutil.Error):
                member.kill()
        self.proc.wait(30)
        self.proc = None


def timed(action: Callable[[], object]) -> float:
    t0 = time.monotonic()
    action()
    return time.monotonic() - t0


def reserialize(stack: EmbeddedStack) -> float:
    started = time.monotonic()
    subprocess.run(
        [AIRFLOW, "dags", "reserialize"], env=stack.environment(), check=True,
        capture_output=True, timeout=600,
    )  # fmt: skip
    return time.monotonic() - started


def visible(stack: EmbeddedStack, dag_id: str, *, edit: bool = False) -> float:
    client = connect(stack.settings.state_dir)
    path = stack.settings.dags_dir / f"{dag_id}.py"
    source = chain_dag_source(dag_id, message="edited" if edit else "hello")
    started = time.monotonic()
    path.write_text(source)
    client.make_visible(dag_id, path, timeout=300)
    return time.monotonic() - started


class PortWatch:
    """Records in the stack's timeline when each component's port first accepts a connection."""

    def __init__(self, stack: EmbeddedStack) -> None:
        s = stack.settings
        self.ports = {
            "postgres": s.postgres_port, "api-server": s.airflow_port, "mlflow": s.mlflow_port,
            "scheduler": s.scheduler_health_port, "triggerer": s.trigger_log_port,
        }  # fmt: skip
        self.stack, self.stopped = stack, threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        pending = dict(self.ports)
        while pending and not self.stopped.is_set():
            for name, port in list(pending.items()):
                with (
                    contextlib.suppress(OSError),
                    socket.create_connection(("127.0.0.1", port), 0.2),
                ):
                    clock.record(self.stack.timeline_file, name, "port open")
                    del pending[name]
            time.sleep(0.05)

    def __enter__(self) -> PortWatch:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self.thread.join()


def timed_up(stack: EmbeddedStack) -> Start:
    """Seconds of one `up` until Airflow can run a DAG (its first stage healthy), and until
    everything is healthy."""
    ready: dict[str, float] = {}
    with PortWatch(stack):
        t0 = time.monotonic()
        stack.up(timeout=600, progress=False, wait="all", on_ready=ready.__setitem__)
        everything = time.monotonic() - t0
    return Start(max(ready[name] for name in stack.first_stage()), everything)


def idle_memory(stack: EmbeddedStack, settle: float = 15.0) -> dict[str, float]:
    """MiB of memory (PSS: shared pages divided among their sharers) per component, idle."""
    time.sleep(settle)
    mib = {}
    for record in stack.pids.all():
        # Its session, and its children in sessions of their own (Jupyter kernels, PostgreSQL's).
        procs = {p.pid: p for p in session_members([record])}
        if (leader := record.process()) is not None:
            procs.update({p.pid: p for p in [leader, *leader.children(recursive=True)]})
        total = 0
        for proc in procs.values():
            with contextlib.suppress(psutil.Error):
                total += proc.memory_full_info().pss
        mib[record.name] = total / 2**20
    return mib


def median_seconds(command: list[str], runs: int = 5) -> float:
    """Median seconds of ``command`` (a new process each time) over ``runs`` runs."""
    return statistics.median(
        timed(lambda: subprocess.run(command, capture_output=True, check=False, timeout=60))
        for _ in range(runs)
    )


def down_seconds(stack: EmbeddedStack) -> float:
    t0 = time.monotonic()
    stack.down()
    took = time.monotonic() - t0
    assert not stack.leftover_processes(), "down left processes running"
    return took


def goal(value: float, limit: float, text: str) -> str:
    return f"{text}: {'met' if value <= limit else '**missed**'}"


def spread(values: list[float]) -> str:
    """The median, and the range when there is more than one value."""
    mid = statistics.median(values)
    return f"{mid:.1f}" if len(values) == 1 else f"{mid:.1f} ({min(values):.1f}–{max(values):.1f})"


def row(what: str, values: list[float], base: list[float], goal: str = "") -> str:
    """A table row: the median seconds (and range), the ratio of the medians, the goal."""
    ratio = statistics.median(values) / statistics.median(base)
    return f"| {what} | {spread(values)} | {ratio:.2f} | {goal} |"


@dataclass
class Runs:
    """Every start and stop of one benchmark run, by kind; one value per repeat."""

    alone_cold: list[Start] = field(default_factory=list)
    alone_restart: list[Start] = field(default_factory=list)
    alone_stop: list[float] = field(default_factory=list)
    kit_fresh: list[Start] = field(default_factory=list)
    kit_existing: list[Start] = field(default_factory=list)
    kit_down: list[float] = field(default_factory=list)


def standalone_round(root: Path, runs: Runs, *, first: bool) -> float | None:
    """Standalone cold on a new home, stopped, restarted on that home, stopped. On the first
    round, its idle memory (MiB) too."""
    alone = Standalone(root)
    idle = None
    try:
        runs.alone_cold.append(alone.start())
        if first:
            idle = alone.idle_mib()
        runs.alone_stop.append(alone.stop())
        runs.alone_restart.append(alone.start())
        runs.alone_stop.append(alone.stop())
    finally:
        alone.kill()
    return idle


def first_stack_figures(stack: EmbeddedStack) -> dict:
    """On the first round's restarted stack: where its start went, idle memory, status against
    the stock health check, and DAG files written to triggerable."""
    events = clock.read(stack.timeline_file)
    got = {
        "start_table": clock.markdown(events, min(e.at for e in events)),
        "memory": idle_memory(stack),
        "kit_status": median_seconds([KIT, "status", "--state-dir", str(stack.settings.state_dir)]),
        "curl_health": median_seconds(
            ["curl", "-sf", f"{stack.settings.airflow_url}/api/v2/monitor/health"]
        ),
        "first": visible(stack, "bench_first"),  # no DAG known yet: priority request via the DB
        "second": visible(stack, "bench_second"),  # new file, bundle known: API reparse
        "edited": visible(stack, "bench_second", edit=True),  # edited file
    }
    (stack.settings.dags_dir / "bench_third.py").write_text(chain_dag_source("bench_third"))
    got["base_vis"] = reserialize(stack)
    return got


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="rounds of starts (medians)")
    parser.add_argument("--no-report", action="store_true", help="print only, no BENCHMARKS.md")
    args = parser.parse_args()
    runs, got = Runs(), {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for i in range(args.repeats):
            # Alternated, so that what the other work on the machine does falls on both sides.
            idle = standalone_round(root / f"standalone{i}", runs, first=i == 0)
            if idle is not None:
                got["alone_idle"] = idle
            # The default shape at the seed's parallelism (32): as a user runs it.
            stack = EmbeddedStack(stack_settings(root / f"kit{i}", parallelism=None))
            try:
                runs.kit_fresh.append(timed_up(stack))
                runs.kit_down.append(down_seconds(stack))
                runs.kit_existing.append(timed_up(stack))
                if i == 0:
                    got |= first_stack_figures(stack)
            finally:
                runs.kit_down.append(down_seconds(stack))
        lite = EmbeddedStack(stack_settings(root / "sqlite", database="sqlite", parallelism=None))
        try:
            got["lite_fresh"] = timed_up(lite)
            down_seconds(lite)
            got["lite_existing"] = timed_up(lite)
        finally:
            down_seconds(lite)
    text = report(runs, got)
    print(text)
    if not args.no_report:
        update_section("stack", text)


def report(runs: Runs, got: dict) -> str:
    """The section's Markdown from the measurements (``got``: the single figures by name)."""
    cold = [s.everything for s in runs.alone_cold]
    cold_ready = [s.ready for s in runs.alone_cold]
    restart = [s.everything for s in runs.alone_restart]
    restart_ready = [s.ready for s in runs.alone_restart]
    kit_ready = [s.ready for s in runs.kit_existing]
    kit_all = [s.everything for s in runs.kit_existing]
    fresh_ready = [s.ready for s in runs.kit_fresh]
    fresh_all = [s.everything for s in runs.kit_fresh]
    half = 0.5 * statistics.median(restart_ready)
    ready = statistics.median(kit_ready)
    n = len(runs.alone_cold)
    head = "| measurement | seconds | ratio to its baseline | goal |\n|---|---:|---:|---|"
    restarts = [
        row("`airflow standalone` restarted on its home → can run a DAG (baseline)",
            restart_ready, restart_ready),
        row("`kit up`, existing state → can run a DAG", kit_ready, restart_ready,
            goal(ready, half, f"≤ 0.50 of standalone's restart ({half:.1f} s)")),
        row("`airflow standalone` restarted on its home → everything healthy (baseline)",
            restart, restart),
        row("`kit up`, existing state → everything healthy", kit_all, restart,
            goal(statistics.median(kit_all), 25, "≤ 25 s")),
        row("`kit up --sqlite`, existing state → can run a DAG",
            [got["lite_existing"].ready], restart_ready),
        row("`kit up --sqlite`, existing state → everything healthy",
            [got["lite_existing"].everything], restart),
    ]  # fmt: skip
    colds = [
        row("`airflow standalone`, new home (migrations) → can run a DAG (baseline)",
            cold_ready, cold_ready),
        row("`kit up`, new state (initdb, migrations) → can run a DAG", fresh_ready, cold_ready),
        row("`airflow standalone`, new home → everything healthy (baseline)", cold, cold),
        row("`kit up`, new state → everything healthy", fresh_all, cold,
            goal(statistics.median(fresh_all), 40, "≤ 40 s")),
        row("`kit up --sqlite`, new state → can run a DAG", [got["lite_fresh"].ready], cold_ready),
        row("`kit up --sqlite`, new state → everything healthy",
            [got["lite_fresh"].everything], cold),
    ]  # fmt: skip
    stops = [
        row("`airflow standalone` stopped (SIGTERM to its group) → no process left (baseline)",
            runs.alone_stop, runs.alone_stop),
        row("`kit down` → no process left", runs.kit_down, runs.alone_stop,
            goal(statistics.median(runs.kit_down), 3, "≤ 3 s")),
        row("`curl` of the api-server's `/api/v2/monitor/health` (baseline: the stock way to "
            "ask whether Airflow is up)", [got["curl_health"]], [got["curl_health"]]),
        row("`kit status` (same stack; also asks MLflow, the kernel pool, PostgreSQL and each "
            "process)", [got["kit_status"]], [got["curl_health"]],
            goal(got["kit_status"], 0.5, "≤ 0.5 s")),
    ]  # fmt: skip
    vis = [
        row("`airflow dags reserialize` (baseline: load new files now)",
            [got["base_vis"]], [got["base_vis"]]),
        row("written → triggerable, first DAG of an empty stack", [got["first"]],
            [got["base_vis"]]),
        row("written → triggerable, new file", [got["second"]], [got["base_vis"]]),
        row("written → triggerable, edited file", [got["edited"]], [got["base_vis"]]),
    ]  # fmt: skip
    memory, alone_idle = got["memory"], got["alone_idle"]
    total = sum(memory.values())
    mem = ["| component | MiB (PSS) |", "|---|---:|"]
    mem += [f"| {name} | {mib:.0f} |" for name, mib in sorted(memory.items(), key=lambda i: -i[1])]
    gib = total / 1024
    mem.append(
        f"| **all** | **{total:.0f}** ({gib:.2f} GiB; {goal(gib, 1.5, 'goal ≤ 1.5 GiB')}; "
        f"{total / alone_idle:.2f}× standalone) |"
    )
    mem.append(f"| `airflow standalone`, idle (baseline: its four components, 32 workers) | "
               f"{alone_idle:.0f} |")  # fmt: skip
    return "\n\n".join([
        "## Stack: start, stop, status, memory; file written to DAG triggerable",
        "`bench/bench_stack.py`: the kit's embedded stack in its default shape (PostgreSQL from "
        "the wheel, LocalExecutor) at the seed's `parallelism` 32, and as `--sqlite`, against "
        "`airflow standalone` (SQLite, LocalExecutor, `parallelism` 32) on the same venv, "
        f"alternated in one run: {n} rounds, each a standalone cold start on a new home, its "
        "restart on that home, a `kit up` on a new state and its restart on that state; seconds "
        "are medians (range), ratios are of medians. *Can run a DAG*: the api-server answers "
        "and its database and scheduler are healthy (standalone: its health endpoint says so; "
        "the kit: its first stage is healthy). *Everything healthy*: standalone's four "
        "components; the kit's also its DAG processor, triggerer, MLflow server and kernel "
        "pool. `kit up` returns at *can run a DAG*; `--wait all` at *everything*. "
        "docs/stacks.md says how the start is staged.",
        "Restart on existing state (the everyday start):\n\n" + head + "\n"
        + "\n".join(restarts),
        "Cold start (new home or state):\n\n" + head + "\n" + "\n".join(colds),
        "Stop and status (status: median of 5, each a new process):\n\n" + head + "\n"
        + "\n".join(stops),
        "Where the seconds of the first existing-state `kit up` went (seconds since it began; "
        "imports done: the component's launcher has imported Airflow, and for the scheduler the "
        "notebook-task modules; port open: seen by a poller every 50 ms):\n\n"
        + got["start_table"],
        "Idle memory of that stack, 15 s after `up` (each component's session and its "
        "children):\n\n" + "\n".join(mem),
        "New and edited DAG files (same stack):\n\n" + head + "\n" + "\n".join(vis),
    ])  # fmt: skip


if __name__ == "__main__":
    main()

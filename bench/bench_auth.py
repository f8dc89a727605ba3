"""What FAB's auth manager costs an api-server, and what the kit's warm parent wins back.

Four ways to start the same api-server (`airflow api-server --workers 1`, one process) on one
SQLite home, alternated round by round in one run:

1. stock, SimpleAuthManager: Airflow's default and the kit's auth manager before #24 (baseline);
2. stock, FabAuthManager: what FAB adds to a plain start;
3. the kit's way before: forked from a parent that has imported Airflow (the warm parent's
   modules without FAB's), with FabAuthManager;
4. the kit's way now: forked from a parent that has also imported FAB's auth manager.

Each: seconds from the start (the fork, for 3 and 4) to `/api/v2/monitor/health` answering 200,
and the process's PSS 15 s later. The parents' own import seconds are printed too: the kit's warm
parent imports while PostgreSQL starts, off the path to "can run a DAG".

    .venv/bin/python bench/bench_auth.py [--repeats 3] [--no-report]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._report import update_section  # noqa: E402
from kit.stack.forkserver import SHARED_MODULES  # noqa: E402
from kit.stack.ports import free_ports  # noqa: E402

AIRFLOW = str(Path(sys.executable).parent / "airflow")
SIMPLE = "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
FAB = "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"
FAB_MODULE = FAB.rsplit(".", 1)[0]
SETTLE = 15.0

# A parent that imports ``modules``, says how long that took, then forks once per line on stdin
# and runs the api-server in the child, as kit.stack.forkserver does with its components.
# (What the imports and the api-server print goes to stderr: stdout carries the replies only.)
WARM_PARENT = """
import contextlib, importlib, json, os, sys, time
t0 = time.monotonic()
with contextlib.redirect_stdout(sys.stderr):
    for name in json.loads(sys.argv[1]):
        importlib.import_module(name)
print(json.dumps({"imported": time.monotonic() - t0}), flush=True)
for line in sys.stdin:
    pid = os.fork()
    if pid == 0:
        os.setsid()
        os.dup2(2, 1)
        sys.stdout = sys.stderr
        sys.argv = ["airflow", *json.loads(line)]
        from airflow.__main__ import main
        main()
        os._exit(0)
    print(json.dumps({"pid": pid}), flush=True)
"""


class Home:
    """One SQLite Airflow home, migrated with FAB's tables, shared by every contender."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "dags").mkdir(parents=True, exist_ok=True)
        self.port = free_ports(1)[0]
        self.url = f"http://127.0.0.1:{self.port}"

    def env(self, auth_manager: str) -> dict[str, str]:
        """The environment of an api-server of this home under ``auth_manager``."""
        return {
            **os.environ,
            "AIRFLOW_HOME": str(self.root / "home"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(self.root / "dags"),
            "AIRFLOW__CORE__AUTH_MANAGER": auth_manager,
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(self.port),
            "AIRFLOW__API_AUTH__JWT_SECRET": "bench-only-not-a-secret",
            "AIRFLOW__API__SECRET_KEY": "bench-only-not-a-secret",
        }

    def migrate(self) -> None:
        """`airflow db migrate` with FAB as auth manager: Airflow's tables and FAB's."""
        subprocess.run(
            [AIRFLOW, "db", "migrate"], env=self.env(FAB), check=True, capture_output=True
        )

    def command(self) -> list[str]:
        """The api-server's arguments (after ``airflow``)."""
        return ["api-server", "--workers", "1", "--port", str(self.port)]


def wait_healthy(url: str, proc_alive, limit: float = 300.0) -> float:
    """Seconds until ``url``'s health endpoint answers 200 (polled every 0.25 s)."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/api/v2/monitor/health", timeout=2).status_code == 200:
                return time.monotonic() - started
        if not proc_alive():
            raise RuntimeError("the api-server exited before it answered")
        time.sleep(0.25)
    raise RuntimeError(f"the api-server did not answer within {limit:.0f} s")


def pss_mib(pid: int) -> float:
    """PSS of ``pid`` and its children, in MiB."""
    total = 0
    with contextlib.suppress(psutil.Error):
        leader = psutil.Process(pid)
        for member in [leader, *leader.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                total += member.memory_full_info().pss
    return total / 2**20


def stop_group(pid: int) -> None:
    """SIGTERM to the api-server's session, SIGKILL what is left after 20 s."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            if os.waitpid(pid, os.WNOHANG) != (0, 0):
                break
        if not psutil.pid_exists(pid):
            break
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def stock(home: Home, auth_manager: str, log: Path) -> tuple[float, float]:
    """`airflow api-server` started as a user does: (seconds to healthy, idle PSS MiB)."""
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [AIRFLOW, *home.command()], env=home.env(auth_manager), stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        seconds = wait_healthy(home.url, lambda: proc.poll() is None)
        time.sleep(SETTLE)
        return seconds, pss_mib(proc.pid)
    finally:
        stop_group(proc.pid)
        proc.wait(30)


def warm(home: Home, modules: list[str], log: Path) -> tuple[float, float, float]:
    """The api-server forked from a parent that imported ``modules``: (the parent's import
    seconds, seconds from the fork to healthy, idle PSS MiB of the fork)."""
    import json

    with open(log, "ab") as out:
        parent = subprocess.Popen(
            [sys.executable, "-c", WARM_PARENT, json.dumps(modules)], env=home.env(FAB),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=out, text=True,
            start_new_session=True,
        )  # fmt: skip
    assert parent.stdin is not None and parent.stdout is not None
    try:
        imported = json.loads(parent.stdout.readline())["imported"]
        parent.stdin.write(json.dumps(home.command()) + "\n")
        parent.stdin.flush()
        child = json.loads(parent.stdout.readline())["pid"]
        seconds = wait_healthy(home.url, lambda: psutil.pid_exists(child))
        time.sleep(SETTLE)
        memory = pss_mib(child)
        stop_group(child)
        return imported, seconds, memory
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(parent.pid, signal.SIGKILL)
        parent.wait(30)


def median(values: list[float]) -> float:
    """The median, or nan for none."""
    return statistics.median(values) if values else float("nan")


def main() -> None:
    """Alternate the four contenders ``--repeats`` times; print and keep the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="rounds (medians)")
    parser.add_argument("--no-report", action="store_true", help="print only, no BENCHMARKS.md")
    args = parser.parse_args()
    before = [m for m in SHARED_MODULES if m != FAB_MODULE]
    now = [*before, FAB_MODULE]
    names = {
        "simple": "stock `airflow api-server`, SimpleAuthManager (baseline: before #24)",
        "fab": "stock `airflow api-server`, FabAuthManager",
        "warm-before": "forked from the warm parent without FAB's modules, FabAuthManager",
        "warm-now": "forked from the warm parent with FAB's auth manager imported (the kit now)",
    }
    seconds: dict[str, list[float]] = {k: [] for k in names}
    memory: dict[str, list[float]] = {k: [] for k in names}
    imports: dict[str, list[float]] = {"warm-before": [], "warm-now": []}
    with tempfile.TemporaryDirectory(prefix="bench-auth-") as tmp:
        home = Home(Path(tmp))
        home.migrate()
        log = Path(tmp) / "api-server.log"
        for round_ in range(args.repeats):
            for key in names:
                if key in ("simple", "fab"):
                    took, mib = stock(home, SIMPLE if key == "simple" else FAB, log)
                else:
                    imported, took, mib = warm(home, before if key == "warm-before" else now, log)
                    imports[key].append(imported)
                seconds[key].append(took)
                memory[key].append(mib)
                print(f"round {round_ + 1} {key}: {took:.1f} s, {mib:.0f} MiB", flush=True)
    base_s, base_m = median(seconds["simple"]), median(memory["simple"])
    lines = [
        "| api-server started | seconds to healthy | ratio | idle MiB (PSS) | ratio |",
        "|---|---:|---:|---:|---:|",
    ]
    for key, text in names.items():
        s, m = median(seconds[key]), median(memory[key])
        lines.append(f"| {text} | {s:.1f} | {s / base_s:.2f} | {m:.0f} | {m / base_m:.2f} |")
    fab_cost_s = median(seconds["fab"]) - base_s
    fab_cost_m = median(memory["fab"]) - base_m
    won_s = median(seconds["warm-before"]) - median(seconds["warm-now"])
    extra = median(imports["warm-now"]) - median(imports["warm-before"])
    text = "\n".join(
        [
            "`bench/bench_auth.py`: one api-server (`--workers 1`) on one SQLite home, four ways, "
            f"alternated in one run, {args.repeats} rounds; medians. Seconds from the start "
            "(for the warm parent: from the fork) to `/api/v2/monitor/health` "
            f"answering 200; PSS {SETTLE:.0f} s later.",
            "",
            *lines,
            "",
            f"FAB's cost on a stock start: {fab_cost_s:+.1f} s and {fab_cost_m:+.0f} MiB per "
            f"api-server. Importing FAB's auth manager in the warm parent saves {won_s:.1f} s "
            f"of the forked api-server's start and costs the parent {extra:.1f} s more of "
            "imports, which it does while PostgreSQL starts. On the whole stack (FAB on every "
            "stack): the *Stack* section.",
        ]
    )
    print(text)
    if not args.no_report:
        update_section("auth", text)


if __name__ == "__main__":
    main()

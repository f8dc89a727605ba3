"""Ask each component whether it is healthy, and wait for all of them with a progress display."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import psutil

from kit.local_http import http_get
from kit.stack.base import HealthTimeoutError, ReadyCallback, StackError

# A probe returns None when healthy, else a short reason.
Probe = Callable[[], "str | None"]
AIRFLOW_HEALTH_PATH, MLFLOW_HEALTH_PATH = "/api/v2/monitor/health", "/health"


def once_each(
    on_ready: ReadyCallback | None, *, also: Callable[[str], None] | None = None
) -> ReadyCallback:
    """A callback that tells ``on_ready`` (and ``also``) once per component, with the seconds
    since it was made: later waits that ask again about a healthy component say nothing new."""
    started, told = time.monotonic(), set[str]()

    def ready(name: str, _seconds: float) -> None:
        if name in told:
            return
        told.add(name)
        if also is not None:
            also(name)
        if on_ready is not None:
            on_ready(name, time.monotonic() - started)

    return ready


def airflow_report(airflow_url: str) -> dict[str, Any] | str:
    """Airflow's health report ({component: {"status": ...}}) from the api-server, or why there
    is none: "not answering (...)", "HTTP 503", "answered with something that is not JSON"."""
    try:
        status, body = http_get(airflow_url + AIRFLOW_HEALTH_PATH)
    except OSError as exc:  # refused, reset, timed out
        return f"not answering ({type(exc).__name__})"
    if status != 200:
        return f"HTTP {status}"
    try:
        report = json.loads(body)
    except ValueError:
        return "answered with something that is not JSON"
    return report if isinstance(report, dict) else "answered with something that is not a report"


def airflow_probe(airflow_url: str) -> Probe:
    """Airflow as one component (a Compose service): healthy when the api-server answers and
    every component it reports on is healthy."""

    def check() -> str | None:
        report = airflow_report(airflow_url)
        if isinstance(report, str):
            return report
        bad = [
            f"{name} is {part.get('status')}"
            for name, part in report.items()
            if isinstance(part, dict) and part.get("status") != "healthy"
        ]
        return ", ".join(bad) or None

    return check


def airflow_probes(airflow_url: str) -> dict[str, Probe]:
    """One probe per Airflow component, all answered by one fetch of the api-server's report
    (kept 0.2 s, so asking them in a row asks the api-server once)."""
    cache: dict[str, tuple[float, dict[str, Any] | str]] = {}

    def fetch() -> dict[str, Any] | str:
        now = time.monotonic()
        if "report" in cache and now - cache["report"][0] < 0.2:
            return cache["report"][1]
        cache["report"] = (now, airflow_report(airflow_url))
        return cache["report"][1]

    def probe(component: str | None) -> Probe:
        def check() -> str | None:
            health = fetch()
            if isinstance(health, str):
                return f"api-server {health}"
            if component is None:
                return None
            status = (health.get(component) or {}).get("status")
            return None if status == "healthy" else f"reports {status or 'no status'}"

        return check

    return {
        "api-server": probe(None),
        "metadatabase": probe("metadatabase"),
        "scheduler": probe("scheduler"),
        "dag-processor": probe("dag_processor"),
        "triggerer": probe("triggerer"),
    }


def mlflow_probe(mlflow_url: str) -> Probe:
    """Healthy when MLflow's /health answers HTTP 200."""

    def check() -> str | None:
        try:
            status, _ = http_get(mlflow_url + MLFLOW_HEALTH_PATH)
        except OSError as exc:
            return f"not answering ({type(exc).__name__})"
        return None if status == 200 else f"HTTP {status}"

    return check


def kernel_pool_probe(kernels_dir: Path) -> Probe:
    """Healthy once the pool has written its status (``kit.runtime.kernel_pool``) and runs."""

    def check() -> str | None:
        try:
            pid = json.loads((kernels_dir / "pool.json").read_text())["pid"]
        except (OSError, ValueError, KeyError):
            return "no status file yet"
        return None if psutil.pid_exists(pid) else f"its process {pid} is gone"

    return check


def tail(path: Path | None, lines: int = 25) -> str:
    """The last ``lines`` of a log file (its last 64 kB read), or "(no log file)"."""
    if path is None or not path.exists():
        return "(no log file)"
    with open(path, "rb") as fh:
        fh.seek(0, 2)
        fh.seek(max(0, fh.tell() - 64_000))
        text = fh.read().decode(errors="replace")
    return "\n".join(text.splitlines()[-lines:])


def wait_healthy(
    probes: Mapping[str, Probe],
    *,
    timeout: float,
    logs: Mapping[str, Path | None],
    died: Callable[[], str | None] = lambda: None,
    progress: bool = True,
    interval: float = 0.25,
    on_ready: Callable[[str, float], None] | None = None,
) -> float:
    """Poll every probe until all are healthy; return the seconds it took.

    ``died`` is asked every round and names a component whose process has exited: waiting for it
    would be pointless, so that is an error at once, with its log. ``on_ready(name, seconds)`` is
    called as each component becomes healthy.
    """
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    start = time.monotonic()
    pending: dict[str, str] = {name: "starting" for name in probes}
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        transient=True,
        disable=not progress,
    ) as bar:
        task = bar.add_task("", total=len(probes))
        while True:
            for name in list(pending):
                reason = probes[name]()
                if reason is None:
                    del pending[name]
                    if on_ready is not None:
                        on_ready(name, time.monotonic() - start)
                else:
                    pending[name] = reason
            done = len(probes) - len(pending)
            waiting = ", ".join(pending) or "all healthy"
            bar.update(
                task, completed=done, description=f"stack {done}/{len(probes)} healthy: {waiting}"
            )
            if not pending:
                return time.monotonic() - start
            if (dead := died()) is not None:
                raise StackError(
                    f"the {dead} process exited while the stack was starting.\n"
                    f"--- last lines of the {dead} log ({logs.get(dead)}) ---\n"
                    f"{tail(logs.get(dead))}"
                )
            if time.monotonic() - start > timeout:
                tails = {n: tail(logs.get(_log_owner(n))) for n in pending}
                raise HealthTimeoutError(dict(pending), tails, timeout)
            time.sleep(interval)


def _log_owner(component: str) -> str:
    # The api-server reports on the others, but the metadatabase check belongs to the api-server.
    return "api-server" if component == "metadatabase" else component

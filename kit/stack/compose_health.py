"""Wait for a Compose stack: its servers' health endpoints, then every container's own check."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence

from kit.stack import health
from kit.stack.base import HealthTimeoutError, ReadyCallback, StackStatus, Wait
from kit.stack.compose_project import AIRFLOW_SERVICE, MLFLOW_SERVICE

POLL_SECONDS = 3.0


def as_check(reason: str | None) -> tuple[bool, str]:
    """A probe's answer as (healthy, why): the form the wait reports."""
    return (reason is None, reason or "healthy")


def wait_healthy(
    urls: tuple[str, str],
    status: Callable[[], StackStatus],
    log_tails: Callable[[Sequence[str]], dict[str, str]],
    *,
    timeout: float,
    progress: bool = False,
    wait: Wait = "all",
    on_ready: ReadyCallback | None = None,
) -> None:
    """Poll Airflow's and MLflow's health endpoints at ``urls``, then (``wait="all"``) the
    containers' own checks through ``status``; on timeout, raise with ``log_tails`` of the
    services still waiting."""
    airflow_url, mlflow_url = urls
    probes = {
        AIRFLOW_SERVICE: health.airflow_probe(airflow_url),
        MLFLOW_SERVICE: health.mlflow_probe(mlflow_url),
    }
    deadline = time.monotonic() + timeout
    ready = health.once_each(on_ready)
    while True:
        checks = {name: as_check(probe()) for name, probe in probes.items()}
        for name in (n for n, (ok, _) in checks.items() if ok):
            ready(name, 0.0)
        if wait == "airflow" and checks[AIRFLOW_SERVICE][0]:
            return
        if all(ok for ok, _ in checks.values()):
            # ... and every container's own health check, so that `kit status` right after
            # `kit up` says healthy too (a check that has not run yet says "starting").
            waiting = [c for c in status().components if not c.healthy]
            if not waiting:
                return
            checks.update({c.name: (False, c.detail) for c in waiting})
        if time.monotonic() >= deadline:
            break
        if progress:
            waiting_names = ", ".join(name for name, (ok, _) in checks.items() if not ok)
            print(f"waiting for {waiting_names} ...", file=sys.stderr)
        time.sleep(POLL_SECONDS)
    unhealthy = {name: why for name, (ok, why) in checks.items() if not ok}
    for comp in status().components:
        if not comp.healthy:
            unhealthy.setdefault(comp.name, comp.detail or "not healthy")
    raise HealthTimeoutError(unhealthy, log_tails(list(unhealthy)), timeout)

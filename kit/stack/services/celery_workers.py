"""Airflow's Celery workers: N processes on this machine, each its own component.

Each worker has its own Celery node name (``celery-worker-1@<host>``), serves its task logs on its
own port (``[logging] worker_log_server_port``, per worker through the environment, since all of
them would otherwise bind the same one) and sets KIT_WORKER_NAME, which its tasks inherit.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Sequence

from kit.stack.health import Probe


def node_name(component: str) -> str:
    """The Celery node name of a worker component: ``celery-worker-1@<host>``."""
    return f"{component}@{socket.gethostname()}"


def worker_command(airflow: list[str], component: str, concurrency: int) -> list[str]:
    """The command line of one Celery worker of the stack."""
    return [
        *airflow, "celery", "worker",
        "--celery-hostname", node_name(component),
        "--concurrency", str(concurrency),
        # Gossip and mingle sync state between workers at start-up; two workers on one machine
        # need neither, and mingle costs about a second per start.
        "--without-gossip", "--without-mingle",
    ]  # fmt: skip


def worker_environment(component: str, log_port: int) -> dict[str, str]:
    """The variables that make one worker distinct (its name and log port)."""
    return {
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(log_port),
        "KIT_WORKER_NAME": component,
    }


def ping_probes(broker_url: str, components: Sequence[str]) -> dict[str, Probe]:
    """One probe per worker: healthy once it answers a Celery ping through the broker (the same
    round trip a task takes), asked of all workers at once and cached briefly."""
    cache: dict[str, tuple[float, set[str] | str]] = {}

    def answered() -> set[str] | str:
        now = time.monotonic()
        if "p" in cache and now - cache["p"][0] < 0.5:
            return cache["p"][1]
        from celery import Celery

        app = Celery("kit-health", broker=broker_url)
        app.conf.broker_connection_retry_on_startup = False
        app.conf.broker_connection_max_retries = 0
        try:
            replies = app.control.ping(destination=[node_name(c) for c in components], timeout=1.0)
            value: set[str] | str = {name for reply in replies for name in reply}
        except Exception as exc:  # noqa: BLE001 - any broker trouble is "not healthy yet"
            value = f"broker not answering ({type(exc).__name__})"
        finally:
            app.close()
        cache["p"] = (now, value)
        return value

    def probe(component: str) -> Probe:
        def check() -> str | None:
            names = answered()
            if isinstance(names, str):
                return names
            return None if node_name(component) in names else "no answer to a Celery ping"

        return check

    return {c: probe(c) for c in components}

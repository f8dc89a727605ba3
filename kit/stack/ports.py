"""Is a TCP port free to listen on? Which ports does each native component need?"""

from __future__ import annotations

import random
import socket
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kit.stack.settings import StackSettings


def port_is_free(host: str, port: int) -> bool:
    """True when nothing listens on ``host``:``port`` (one in TIME_WAIT counts as free)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    # Servers that bind every interface (Airflow's log servers do) also clash with 0.0.0.0 users.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True


# Where the kernel picks the local ports of outgoing connections (Linux's default 32768-60999).
EPHEMERAL_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
# Free ports are picked from here up to the ephemeral range: above most services' own ports.
LOWEST_PICKED = 20000


def ephemeral_range(path: Path | None = None) -> tuple[int, int] | None:
    """The kernel's range for outgoing connections' local ports, or None where it is unknown."""
    try:
        low, high = (int(x) for x in (path or EPHEMERAL_RANGE_FILE).read_text().split())
    except (OSError, ValueError):
        return None
    return low, high


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """``count`` distinct ports that are free right now (for tests and `--free-ports`).

    Picked below the kernel's ephemeral range: a port inside it can be taken by any outgoing
    connection (an HTTP or database client's) while its server is down, and a component
    restarted on it (`kit up` after a crash) then found it "in use by another program"."""
    ephemeral = ephemeral_range()
    if ephemeral is None or ephemeral[0] - LOWEST_PICKED < 1000:
        return _kernel_picked_ports(count, host)
    candidates = list(range(LOWEST_PICKED, ephemeral[0]))
    random.shuffle(candidates)  # stacks started at once rarely try the same ports
    ports: list[int] = []
    for port in candidates:
        if port_is_free(host, port):
            ports.append(port)
            if len(ports) == count:
                return ports
    return ports + _kernel_picked_ports(count - len(ports), host)


def _kernel_picked_ports(count: int, host: str) -> list[int]:
    """``count`` distinct ports the kernel picks as free (from its ephemeral range)."""
    socks, ports = [], []
    try:
        while len(ports) < count:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((host, 0))
            port = sock.getsockname()[1]
            socks.append(sock)  # held open until all are picked, so no port is picked twice
            ports.append(port)
    finally:
        for sock in socks:
            sock.close()
    return ports


# The ports each component of the native stack listens on (it cannot start when one is taken).
COMPONENT_PORTS = {
    "postgres": ("postgres_port",),
    "redis": ("redis_port",),
    "api-server": ("airflow_port",),
    "scheduler": ("scheduler_health_port", "worker_log_port"),
    "triggerer": ("trigger_log_port",),
    "dag-processor": (),
    "kernel-pool": (),
    "mlflow": ("mlflow_port",),
}


def component_ports(settings: StackSettings, component: str) -> list[tuple[int, str, str, str]]:
    """(port, setting, environment variable, label) of each port ``component`` listens on."""
    from kit.stack.settings import PORT_SETTINGS

    if component.startswith("celery-worker-"):
        env_var, _, label = PORT_SETTINGS["celery_log_port"]
        return [(settings.celery_worker_log_port(component), "celery_log_port", env_var, label)]
    names = COMPONENT_PORTS[component]
    if component == "scheduler" and settings.executor == "celery":
        names = ("scheduler_health_port",)  # no log server: Celery workers serve task logs
    return [(getattr(settings, n), n, PORT_SETTINGS[n][0], PORT_SETTINGS[n][2]) for n in names]


def check_ports(settings: StackSettings, components: list[str]) -> None:
    """Raise PortBusyError (naming the setting that moves it) for the first port taken."""
    from kit.stack.base import PortBusyError

    for component in components:
        for port, _, env_var, label in component_ports(settings, component):
            if not port_is_free(settings.host, port):
                raise PortBusyError(port, label, env_var)

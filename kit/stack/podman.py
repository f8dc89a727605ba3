"""podman's Docker-compatible API socket, started and stopped in a folder: the one owner of it, for
`kit up --stack compose` (in the state folder) and for scripts/container-engine.sh start|stop.

Without systemd, podman runs no health checks by itself, so ``condition: service_healthy`` would
wait forever: ``start`` also runs a loop that asks podman for them (what systemd's timers do
elsewhere): every 2 s while a container starts, then at its check's own interval. Both processes
are recorded in the folder so that ``stop`` ends exactly them."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

from kit.stack import engine_api
from kit.stack.base import StackError
from kit.stack.programs import missing_engine_programs

SOCKET = "podman.sock"
SERVICE_PID, LOOP_PID = "podman-service.pid", "podman-healthchecks.pid"
SERVICE_LOG = "podman-service.log"
# One loop runs the checks of every container on the machine (podman ps reads the storage, not a
# socket): where two engines' loops are up (the kit's beside another stack's or a test's), both
# running the same slow check at once (`airflow jobs check`, seconds of CPU) made them fail and
# marked healthy containers unhealthy. The first loop holds the lock (flock, util-linux: on every
# Debian) for as long as it lives; another takes over when it stops.
# As systemd's timers would, a container that is healthy (or unhealthy) is checked every `interval`
# of its own health check (30 s for Airflow's, 10 s for PostgreSQL's), not on every round: checked
# back to back every ~2 s, the Airflow containers' checks (an Airflow import each) kept a core of
# the 2-core machine half busy for as long as a stack ran, and made each round long, so a
# container still starting waited that long for its next check. A starting container is checked
# on every round (2 s apart), so `kit up` sees it healthy soon. Still one check at a time: checks
# at once would slow each other past their timeouts on a busy machine.
HEALTHCHECK_LOOP = """exec 9>"/tmp/kit-podman-healthchecks-$(id -u).lock"
declare -A due every
while true; do
  if flock -n 9; then
    while read -r c status; do
      case "$status" in
        *"(starting)") ;;
        *) [ "$EPOCHSECONDS" -ge "${due[$c]:-0}" ] || continue ;;
      esac
      if [ -z "${every[$c]:-}" ]; then
        every[$c]=$(podman inspect --format '{{.Config.Healthcheck.Interval.Seconds}}' "$c" \\
                      </dev/null 2>/dev/null)
        every[$c]=${every[$c]%%.*}
      fi
      due[$c]=$((EPOCHSECONDS + ${every[$c]:-30}))
      podman healthcheck run "$c" </dev/null >/dev/null 2>&1 || true
    done < <(podman ps --filter health=starting --filter health=healthy --filter health=unhealthy \\
               --format '{{.ID}} {{.Status}}' 2>/dev/null)
  fi
  sleep 2
done"""


def installed() -> bool:
    """True when the podman program is on the PATH."""
    return shutil.which("podman") is not None


def docker_host(folder: Path) -> str:
    """The DOCKER_HOST of the socket in ``folder``: always an absolute path (podman reads
    ``unix://.kit/podman.sock`` as host ``.kit``)."""
    return f"unix://{Path(folder).resolve() / SOCKET}"


def answers(folder: Path, timeout: float = 2.0) -> bool:
    """True when podman's API socket in ``folder`` exists and answers a ping."""
    sock = Path(folder).resolve() / SOCKET
    return sock.is_socket() and engine_api.problem(docker_host(folder), timeout=timeout) is None


def start(folder: Path, *, timeout: float = 30.0) -> str:
    """Start podman's API on ``folder``/podman.sock (unless it answers already): its DOCKER_HOST.
    StackError naming the missing packages when the engine lacks a program it runs."""
    folder = Path(folder).resolve()
    host = docker_host(folder)
    if answers(folder):
        return host
    if missing := missing_engine_programs():
        raise StackError("the container engine is incomplete:\n  " + "\n  ".join(missing))
    folder.mkdir(parents=True, exist_ok=True)
    stop(folder)  # a dead service's leftovers (pid files, the socket file)
    with open(folder / SERVICE_LOG, "ab") as log:
        service = subprocess.Popen(
            ["podman", "system", "service", "--time=0", host],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
        )  # fmt: skip
    (folder / SERVICE_PID).write_text(str(service.pid))
    deadline = time.monotonic() + timeout
    while (why := engine_api.problem(host, timeout=2.0)) is not None:
        if service.poll() is not None or time.monotonic() > deadline:
            stop(folder)
            tail = (folder / SERVICE_LOG).read_text(errors="replace")[-2000:]
            raise StackError(f"podman's API did not start on {host}: {why}\n{tail}")
        time.sleep(0.1)
    loop = subprocess.Popen(
        ["bash", "-c", HEALTHCHECK_LOOP, "kit-podman-healthchecks"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    (folder / LOOP_PID).write_text(str(loop.pid))
    return host


def _ours(pid: int, marker: str) -> bool:
    """Whether ``pid`` still runs what we started (its command line holds ``marker``): a recycled
    pid is left alone."""
    with contextlib.suppress(psutil.Error):
        return marker in " ".join(psutil.Process(pid).cmdline())
    return False


def stop(folder: Path) -> bool:
    """End the service and the health-check loop started in ``folder`` (their process groups) and
    remove the socket. True when something of ours was running."""
    folder = Path(folder).resolve()
    markers = {SERVICE_PID: docker_host(folder), LOOP_PID: "kit-podman-healthchecks"}
    stopped = False
    for name, marker in markers.items():
        pid_file = folder / name
        with contextlib.suppress(OSError, ValueError):
            pid = int(pid_file.read_text())
            if _ours(pid, marker):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pid, signal.SIGTERM)
                    stopped = True
                with contextlib.suppress(psutil.Error):
                    psutil.Process(pid).wait(10)
        pid_file.unlink(missing_ok=True)
    (folder / SOCKET).unlink(missing_ok=True)
    return stopped


def main(argv: list[str]) -> int:
    """``python -m kit.stack.podman start|stop DIR`` (scripts/container-engine.sh)."""
    if len(argv) != 2 or argv[0] not in ("start", "stop"):
        print("usage: python -m kit.stack.podman start|stop DIR", file=sys.stderr)
        return 2
    if argv[0] == "stop":
        stop(Path(argv[1]))
        return 0
    try:
        print(f"DOCKER_HOST={start(Path(argv[1]))}")
    except StackError as exc:
        print(f"container engine: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

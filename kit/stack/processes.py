"""Start, find and stop the stack's processes: one session (process group) each, a pid file each.

A pid file keeps the pid *and* its start time, so a pid re-used by another program after a reboot or
a crash is never taken for ours (a stale pid file). Stopping signals whole process groups, SIGTERM
first and SIGKILL after a bound, then sweeps for any process still carrying the stack's marker:
Airflow's LocalExecutor workers and task processes outlive a SIGTERM to their parent (observed with
Airflow 3.3.2), and nothing of the kit may be left running.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil


@dataclass(frozen=True)
class PidRecord:
    name: str
    pid: int
    create_time: float
    command: list[str]

    def process(self) -> psutil.Process | None:
        """The live process this record names, or None if it is gone or the pid was re-used."""
        try:
            proc = psutil.Process(self.pid)
            if abs(proc.create_time() - self.create_time) > 1.0:
                return None
            if proc.status() == psutil.STATUS_ZOMBIE:
                return None
            return proc
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return None

    @property
    def alive(self) -> bool:
        return self.process() is not None


class PidFiles:
    """The run/ folder of a stack: one JSON pid file per component."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir

    def path(self, name: str) -> Path:
        return self.run_dir / f"{name}.pid"

    def read(self, name: str) -> PidRecord | None:
        try:
            data = json.loads(self.path(name).read_text())
            return PidRecord(**data)
        except (FileNotFoundError, ValueError, TypeError):
            return None

    def write(self, record: PidRecord) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.path(record.name).write_text(json.dumps(record.__dict__))

    def remove(self, name: str) -> None:
        self.path(name).unlink(missing_ok=True)

    def all(self) -> list[PidRecord]:
        if not self.run_dir.is_dir():
            return []
        records = (self.read(p.stem) for p in sorted(self.run_dir.glob("*.pid")))
        return [r for r in records if r is not None]


def start_process(
    name: str,
    command: Sequence[str],
    *,
    env: Mapping[str, str],
    log_file: Path,
    cwd: Path,
    pid_files: PidFiles,
) -> PidRecord:
    """Start ``command`` in a new session with its output appended to ``log_file``; record its pid."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "ab") as log:
        log.write(f"\n--- kit: starting {name}: {' '.join(command)}\n".encode())
        log.flush()
        proc = subprocess.Popen(
            list(command),
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as a whole
        )
    record = PidRecord(name, proc.pid, psutil.Process(proc.pid).create_time(), list(command))
    pid_files.write(record)
    return record


def processes_with_marker(marker: str, value: str) -> list[psutil.Process]:
    """Every process whose environment carries ``marker=value`` (needs /proc of the same user)."""
    found = []
    me = os.getpid()
    for proc in psutil.process_iter(["pid"]):
        if proc.pid == me:
            continue
        try:
            if proc.environ().get(marker) == value and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess, OSError):
            continue
    return found


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _reap(procs: Iterable[psutil.Process], timeout: float) -> list[psutil.Process]:
    _, alive = psutil.wait_procs(list(procs), timeout=timeout)
    return alive


def stop_processes(
    records: Sequence[PidRecord],
    *,
    marker: tuple[str, str] | None = None,
    timeout: float = 30.0,
) -> list[int]:
    """Stop the process groups of ``records`` (TERM, then KILL after ``timeout``) and every process
    still carrying ``marker``. Returns the pids that had to be killed with SIGKILL."""
    live = [(r, p) for r in records if (p := r.process()) is not None]
    # Remember descendants now: once a parent dies its children are re-parented and hard to find.
    family: dict[int, psutil.Process] = {}
    for _, proc in live:
        family[proc.pid] = proc
        try:
            for child in proc.children(recursive=True):
                family[child.pid] = child
        except psutil.NoSuchProcess:
            pass
    if marker:
        for proc in processes_with_marker(*marker):
            family.setdefault(proc.pid, proc)

    for record, _ in live:
        _signal_group(record.pid, signal.SIGTERM)
    for proc in family.values():  # members outside the groups (their own sessions)
        try:
            proc.send_signal(signal.SIGTERM)
        except psutil.NoSuchProcess:
            pass
    survivors = _reap(family.values(), timeout)

    killed = []
    for proc in survivors:
        try:
            os.killpg(proc.pid, signal.SIGKILL) if _is_group_leader(proc) else None
            proc.kill()
            killed.append(proc.pid)
        except psutil.NoSuchProcess:
            pass
    _reap(survivors, 5.0)
    if marker:
        # Anything started meanwhile (a task process forked during shutdown): no mercy, no wait.
        late = processes_with_marker(*marker)
        for proc in late:
            try:
                proc.kill()
                killed.append(proc.pid)
            except psutil.NoSuchProcess:
                pass
        _reap(late, 5.0)
    return killed


def _is_group_leader(proc: psutil.Process) -> bool:
    try:
        return os.getpgid(proc.pid) == proc.pid
    except ProcessLookupError:
        return False


def wait_for_exit(proc: subprocess.Popen, timeout: float) -> int | None:
    """The exit code of ``proc`` if it ends within ``timeout``, else None."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        code = proc.poll()
        if code is not None:
            return code
        time.sleep(0.1)
    return None

"""Start, find and stop the stack's processes: one session (process group) each, a pid file each.

A pid file keeps the pid *and* its start time, so a pid re-used by another program after a reboot or
a crash is never taken for ours (a stale pid file). Stopping signals whole process groups, SIGTERM
first and SIGKILL after a bound, then sweeps for any process still carrying the stack's marker:
Airflow's LocalExecutor workers and task processes outlive a SIGTERM to their parent (observed with
Airflow 3.3.2), and nothing of the kit may be left running.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

from kit.clock import start_ticks


@dataclass(frozen=True)
class PidRecord:
    """A pid file's content: a component's pid, command and start time."""

    name: str
    pid: int
    create_time: float
    command: list[str]
    start_ticks: int | None = None  # None in pid files of older kits

    def process(self) -> psutil.Process | None:
        """The live process this record names, or None if it is gone or the pid was re-used."""
        try:
            proc = psutil.Process(self.pid)
            if not self.started_as(proc):
                return None
            if proc.status() == psutil.STATUS_ZOMBIE:
                return None
            return proc
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return None

    def started_as(self, proc: psutil.Process) -> bool:
        """Whether ``proc`` (holding this record's pid) is the process the record was made for."""
        ticks = start_ticks(proc.pid)
        if self.start_ticks is not None and ticks is not None:
            return ticks == self.start_ticks
        return abs(proc.create_time() - self.create_time) <= 1.0

    @property
    def alive(self) -> bool:
        """True while the recorded process (not a re-used pid) runs."""
        return self.process() is not None


class PidFiles:
    """The run/ folder of a stack: one JSON pid file per component."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir

    def path(self, name: str) -> Path:
        """The pid file of component ``name``."""
        return self.run_dir / f"{name}.pid"

    def read(self, name: str) -> PidRecord | None:
        """The record of ``name``; None when there is none or it is unreadable."""
        try:
            data = json.loads(self.path(name).read_text())
            return PidRecord(**data)
        except (FileNotFoundError, ValueError, TypeError):
            return None

    def write(self, record: PidRecord) -> None:
        """Write a component's pid file."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.path(record.name).write_text(json.dumps(record.__dict__))

    def remove(self, name: str) -> None:
        """Remove a component's pid file (none is fine)."""
        self.path(name).unlink(missing_ok=True)

    def all(self) -> list[PidRecord]:
        """Every readable pid file's record, by name."""
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
    """Start ``command`` in a new session, output appended to ``log_file``; record its pid."""
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
    return record_pid(name, proc.pid, command, pid_files)


def record_pid(name: str, pid: int, command: Sequence[str], pid_files: PidFiles) -> PidRecord:
    """Write the pid file of the component ``name`` now running as ``pid`` (started by
    ``command``), with the start time that tells it from a later process given the same pid."""
    record = PidRecord(
        name, pid, psutil.Process(pid).create_time(), list(command), start_ticks(pid)
    )
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


def session_members(records: Iterable[PidRecord]) -> list[psutil.Process]:
    """Processes still in the session of any record, even when its leader is gone.

    Every component starts as the leader of its own session, and its children stay in it unless
    they call setsid. (An environment marker alone is not enough: processes that rename
    themselves with setproctitle, as Airflow's workers do, overwrite /proc/PID/environ.)
    Pid numbers are recycled, so a session is only taken for ours if no other process now holds
    its leader's pid, and only members started after our leader count.
    """
    sessions: dict[int, PidRecord] = {}
    for record in records:
        try:
            if not record.started_as(psutil.Process(record.pid)):
                continue  # the pid now belongs to another program: so does its session
        except psutil.NoSuchProcess:
            pass  # the leader is gone; what is left in its session is ours
        except psutil.AccessDenied:
            continue
        sessions[record.pid] = record
    found = []
    for proc in psutil.process_iter(["pid", "create_time"]):
        try:
            sid = os.getsid(proc.pid)
        except (ProcessLookupError, PermissionError):
            continue
        leader = sessions.get(sid)
        if (
            leader is not None
            and _started_after(proc, leader)
            and proc.status() != psutil.STATUS_ZOMBIE
        ):
            found.append(proc)
    return found


def _started_after(proc: psutil.Process, leader: PidRecord) -> bool:
    ticks = start_ticks(proc.pid)
    if leader.start_ticks is not None and ticks is not None:
        return ticks >= leader.start_ticks
    return proc.info["create_time"] >= leader.create_time - 1.0


def _signal_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def wait_gone(procs: Iterable[psutil.Process], timeout: float) -> list[psutil.Process]:
    """Wait up to ``timeout`` seconds for ``procs`` to end; return those still running.

    A zombie counts as ended: it holds no memory or port any more, only its exit status for a
    parent to collect. (The orphans of a component, re-parented to PID 1, wait for it to do so;
    on the CI's virtual machines that init collects them seconds later.)"""
    pending = list(procs)
    deadline = time.monotonic() + timeout
    me = os.getpid()
    while True:
        for proc in pending:  # our own children: collected here, only those
            with contextlib.suppress(ChildProcessError, psutil.Error):
                if proc.ppid() == me:
                    os.waitpid(proc.pid, os.WNOHANG)
        pending = [p for p in pending if _running(p)]
        if not pending or time.monotonic() >= deadline:
            return pending
        time.sleep(0.05)


def _running(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def stop_processes(
    records: Sequence[PidRecord],
    *,
    marker: tuple[str, str] | None = None,
    timeout: float = 30.0,
    say: Callable[[str], None] | None = None,
) -> list[int]:
    """Stop the process groups of ``records`` (TERM, then KILL after ``timeout``) and every process
    still carrying ``marker``. Returns the pids that had to be killed with SIGKILL; ``say`` is told
    which they were."""
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
    for proc in session_members(records):
        family.setdefault(proc.pid, proc)
    if marker:
        for proc in processes_with_marker(*marker):
            family.setdefault(proc.pid, proc)

    for record, _ in live:
        _signal_group(record.pid, signal.SIGTERM)
    for proc in family.values():  # members outside the groups (their own sessions)
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.send_signal(signal.SIGTERM)
    survivors = wait_gone(family.values(), timeout)

    killed = []
    for proc in survivors:
        try:
            if say is not None:
                say(f"kit: {_describe(proc)} still ran {timeout:.0f} s after SIGTERM: killed")
            if _is_group_leader(proc):
                _signal_group(proc.pid, signal.SIGKILL)
            proc.kill()
            killed.append(proc.pid)
        except psutil.NoSuchProcess:
            pass
    wait_gone(survivors, 5.0)
    # Anything started meanwhile (a task process forked during shutdown): no mercy, no wait.
    late = session_members(records) + (processes_with_marker(*marker) if marker else [])
    if late:
        for proc in late:
            try:
                proc.kill()
                killed.append(proc.pid)
            except psutil.NoSuchProcess:
                pass
        wait_gone(late, 5.0)
    return killed


def reap_orphans(record: PidRecord, timeout: float = 10.0) -> list[int]:
    """Kill what is left of a dead component's session: a scheduler killed with SIGKILL leaves
    its executor workers and log server running, holding the ports its successor needs."""
    orphans = [p for p in session_members([record]) if p.pid != record.pid or not record.alive]
    for proc in orphans:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.kill()
    wait_gone(orphans, timeout)
    return [p.pid for p in orphans]


def _describe(proc: psutil.Process) -> str:
    """``pid N (its command line)``, short."""
    try:
        return f"pid {proc.pid} ({' '.join(proc.cmdline())[:100]})"
    except psutil.Error:
        return f"pid {proc.pid}"


def _is_group_leader(proc: psutil.Process) -> bool:
    try:
        return os.getpgid(proc.pid) == proc.pid
    except ProcessLookupError:
        return False

"""Pid files and process-group stopping, on real processes."""

from __future__ import annotations

import subprocess
import sys
import time

import psutil

from kit.stack.processes import (
    PidFiles,
    PidRecord,
    processes_with_marker,
    start_process,
    stop_processes,
)

# A parent that ignores SIGTERM and forks a child that does too, like Airflow's scheduler and its
# LocalExecutor workers: only SIGKILL after the bound stops them.
STUBBORN = """
import os, signal, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
if os.fork() == 0:
    os.setsid()  # the child leaves the group: only the marker sweep finds it
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
while True:
    time.sleep(0.1)
"""


def test_a_pid_file_naming_a_reused_pid_is_stale(tmp_path) -> None:
    pids = PidFiles(tmp_path)
    me = psutil.Process()
    pids.write(PidRecord("x", me.pid, me.create_time() - 1000, ["python"]))
    assert pids.read("x").alive is False
    pids.write(PidRecord("x", me.pid, me.create_time(), ["python"]))
    assert pids.read("x").alive is True
    (tmp_path / "broken.pid").write_text("not json")
    assert [r.name for r in pids.all()] == ["x"]


def test_stop_kills_stubborn_groups_and_strays_with_the_marker(tmp_path) -> None:
    pids = PidFiles(tmp_path / "run")
    env = {"PATH": "/usr/bin:/bin", "KIT_STACK_ID": "test-marker-123"}
    record = start_process(
        "stubborn",
        [sys.executable, "-c", STUBBORN],
        env=env,
        log_file=tmp_path / "s.log",
        cwd=tmp_path,
        pid_files=pids,
    )
    deadline = time.monotonic() + 10
    while len(processes_with_marker("KIT_STACK_ID", "test-marker-123")) < 2:
        assert time.monotonic() < deadline, "the child did not start"
        time.sleep(0.1)
    started = time.monotonic()
    killed = stop_processes([record], marker=("KIT_STACK_ID", "test-marker-123"), timeout=2)
    assert time.monotonic() - started < 15
    assert len(killed) == 2
    assert processes_with_marker("KIT_STACK_ID", "test-marker-123") == []
    assert not psutil.pid_exists(record.pid) or psutil.Process(record.pid).status() == "zombie"


def test_a_process_that_exits_on_sigterm_is_not_sigkilled(tmp_path) -> None:
    pids = PidFiles(tmp_path / "run")
    record = start_process(
        "polite",
        [sys.executable, "-c", "import time; time.sleep(60)"],
        env={"PATH": "/usr/bin:/bin"},
        log_file=tmp_path / "p.log",
        cwd=tmp_path,
        pid_files=pids,
    )
    assert stop_processes([record], timeout=10) == []
    assert not record.alive
    assert subprocess.run(["true"]).returncode == 0


# A leader whose child renames itself like Airflow's workers do (setproctitle overwrites the memory
# /proc/PID/environ is read from, so the environment marker is gone) and outlives the leader.
RENAMED_CHILD = """
import os, time, setproctitle
if os.fork() == 0:
    setproctitle.setproctitle("airflow worker -- LocalExecutor: <idle>" + " " * 200)
    while True:
        time.sleep(0.1)
while True:
    time.sleep(0.1)
"""


def test_orphans_of_a_killed_leader_are_found_by_session_and_reaped(tmp_path) -> None:
    import os
    import signal

    from kit.stack.processes import reap_orphans, session_members

    pids = PidFiles(tmp_path / "run")
    record = start_process(
        "leader", [sys.executable, "-c", RENAMED_CHILD],
        env={"PATH": "/usr/bin:/bin", "KIT_STACK_ID": "renamed-456"},
        log_file=tmp_path / "l.log", cwd=tmp_path, pid_files=pids,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while len(session_members([record])) < 2:
        assert time.monotonic() < deadline, "the child did not start"
        time.sleep(0.1)
    child = next(p for p in session_members([record]) if p.pid != record.pid)
    time.sleep(0.5)  # let it rename itself
    assert "KIT_STACK_ID" not in child.environ()  # the marker is gone, as with Airflow's workers
    os.kill(record.pid, signal.SIGKILL)
    psutil.Process(record.pid).wait(5)
    assert child.is_running()
    assert reap_orphans(record) == [child.pid]
    assert not psutil.pid_exists(child.pid) or child.status() == psutil.STATUS_ZOMBIE


def test_a_recycled_pid_never_makes_another_session_ours(tmp_path) -> None:
    """A stale pid file whose pid now leads someone else's session must not reach that session."""
    from kit.stack.processes import reap_orphans, session_members

    pids = PidFiles(tmp_path / "run")
    other = start_process(
        "other", [sys.executable, "-c", "import time; time.sleep(60)"],
        env={"PATH": "/usr/bin:/bin"}, log_file=tmp_path / "o.log", cwd=tmp_path, pid_files=pids,
    )  # fmt: skip
    # Our old record names the same pid number, from a leader that started long before.
    stale = PidRecord("ours", other.pid, other.create_time - 3600, ["python"])
    assert session_members([stale]) == []
    assert reap_orphans(stale) == []
    assert other.alive
    stop_processes([other], timeout=5)


def test_a_wall_clock_step_does_not_make_a_running_component_look_dead(tmp_path) -> None:
    """psutil's create_time moves with the wall clock (boot time = now - uptime); the start in
    clock ticks does not. A step of the clock once made every component of a running stack look
    dead, and `kit up` tried to start a second stack on its ports."""
    import dataclasses

    from kit.clock import start_ticks
    from kit.runtime.kernel_pool import claimer_alive

    pids = PidFiles(tmp_path / "run")
    record = start_process(
        "sleeper",
        [sys.executable, "-c", "import time; time.sleep(60)"],
        env={},
        log_file=tmp_path / "sleeper.log",
        cwd=tmp_path,
        pid_files=pids,
    )
    try:
        assert record.start_ticks == start_ticks(record.pid) and record.alive
        stepped = dataclasses.replace(record, create_time=record.create_time - 30)  # clock step
        assert stepped.alive
        other_start = dataclasses.replace(record, start_ticks=record.start_ticks - 1)
        assert not other_start.alive  # a pid re-used by another process
        legacy = dataclasses.replace(record, start_ticks=None)  # an older kit's pid file
        assert legacy.alive and not dataclasses.replace(legacy, create_time=0.0).alive
        # The kernel pool's claims carry the claimer's start the same way.
        claim = tmp_path / f"k1.{record.pid}.{record.start_ticks}.json"
        claim.write_text("{}")
        assert claimer_alive(claim)
        assert not claimer_alive(tmp_path / f"k1.{record.pid}.{record.start_ticks + 1}.json")
    finally:
        stop_processes([record], timeout=5)

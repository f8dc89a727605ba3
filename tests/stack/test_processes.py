"""Pid files and process-group stopping, on real processes."""

from __future__ import annotations

import subprocess
import sys
import time

import psutil

from kit.stack.processes import PidFiles, PidRecord, processes_with_marker, start_process, stop_processes

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
        "stubborn", [sys.executable, "-c", STUBBORN], env=env, log_file=tmp_path / "s.log",
        cwd=tmp_path, pid_files=pids,
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
        "polite", [sys.executable, "-c", "import time; time.sleep(60)"],
        env={"PATH": "/usr/bin:/bin"}, log_file=tmp_path / "p.log", cwd=tmp_path, pid_files=pids,
    )
    assert stop_processes([record], timeout=10) == []
    assert not record.alive
    assert subprocess.run(["true"]).returncode == 0

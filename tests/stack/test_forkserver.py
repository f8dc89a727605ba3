"""The warm parent forks Airflow components that are what `python -m kit.stack.component` is."""

from __future__ import annotations

import os
import time
from pathlib import Path

import psutil
import pytest

from kit.stack.forkserver import WarmParent, WarmParentError
from kit.stack.processes import PidFiles


def _wait_gone(pid: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() < deadline, f"pid {pid} still runs"
        time.sleep(0.1)


def test_a_forked_component_runs_in_its_own_session_with_its_environment_and_log(
    tmp_path: Path,
) -> None:
    parent = WarmParent({**os.environ, "KIT_SHARED": "parent"}, tmp_path, tmp_path / "fs.log")
    pids = PidFiles(tmp_path / "run")
    log = tmp_path / "version.log"
    try:
        record = parent.start(
            "version", ["version"],
            env={**os.environ, "KIT_ONLY_HERE": "yes"}, log_file=log, cwd=tmp_path,
            pid_files=pids, command=["kit.stack.component", "version"],
        )  # fmt: skip
        assert pids.read("version") == record and record.alive
        assert os.getsid(record.pid) == record.pid  # a session of its own, as a started one
        _wait_gone(record.pid)
    finally:
        parent.close()
    text = log.read_text()
    assert "forked from the warm parent" in text
    from importlib.metadata import version

    assert version("apache-airflow") in text  # `airflow version` ran and printed into its log


def test_a_warm_parent_that_is_gone_says_so(tmp_path: Path) -> None:
    parent = WarmParent(dict(os.environ), tmp_path, tmp_path / "fs.log")
    psutil.Process(parent._proc.pid).kill()
    with pytest.raises(WarmParentError, match="warm parent"):
        parent.start(
            "x", ["version"], env=dict(os.environ), log_file=tmp_path / "x.log", cwd=tmp_path,
            pid_files=PidFiles(tmp_path / "run"), command=["x"],
        )  # fmt: skip
    parent.close()

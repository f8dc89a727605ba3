"""On the session's embedded stack: a Param declared ``format: iri`` is checked as on stock Airflow,
the components were forked from the warm parent, an idle scheduler has no executor worker, and
`kit status --verbose` lists the fast paths."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import time

import psutil
import pytest

from kit import fast_paths
from kit.client import ParamsRejected, connect
from kit.stack import EmbeddedStack
from kit.stack.embedded import FORKED

IRI_DAG = textwrap.dedent(
    """
    from airflow.sdk import Param, dag, task

    @dag(
        dag_id="kit_iri_param", schedule=None, catchup=False,
        params={"source": Param("https://example.com/data", type="string", format="iri")},
    )
    def iri_param():
        @task
        def show(params=None):
            return params["source"]

        show()

    iri_param()
    """
)


def test_a_param_declared_iri_refuses_a_bad_value_and_takes_a_good_one(
    stack: EmbeddedStack, write_dag
) -> None:
    client = connect(stack.settings.state_dir)
    client.make_visible("kit_iri_param", write_dag("kit_iri_param", IRI_DAG), timeout=180)
    with pytest.raises(ParamsRejected, match="is not a 'iri'"):
        client.trigger("kit_iri_param", {"source": "not an iri"}, unpause=False)
    run = client.trigger("kit_iri_param", {"source": "https://example.com/ü"}, unpause=False)
    assert run.conf == {"source": "https://example.com/ü"}  # paused: it stays queued


def _executor_workers(pid: int) -> list[psutil.Process]:
    """The scheduler's LocalExecutor workers (Airflow names them after the executor)."""
    found = []
    for child in psutil.Process(pid).children(recursive=True):
        try:
            if "LocalExecutor" in " ".join(child.cmdline()):
                found.append(child)
        except psutil.Error:
            continue
    return found


def test_components_are_forked_from_the_warm_parent_and_an_idle_scheduler_has_no_worker(
    stack: EmbeddedStack,
) -> None:
    # A scheduler started now is idle (earlier tests' tasks left workers in the old one).
    old = stack.pids.read("scheduler")
    assert old is not None
    os.kill(old.pid, signal.SIGKILL)
    psutil.Process(old.pid).wait(10) if psutil.pid_exists(old.pid) else None
    stack.up(timeout=300, progress=False)
    up = fast_paths.read_record(stack.settings.run_dir, fast_paths.KIT_UP)
    assert up is not None and up["warm_parent"] is not None
    parent = up["warm_parent"]
    for name in FORKED:
        record = stack.pids.read(name)
        assert record is not None and record.alive, name
        own = fast_paths.read_record(stack.settings.run_dir, name)
        assert own is not None and own["pid"] == record.pid, (name, own)
        forked_from = own["forked_from"]
        assert isinstance(forked_from, int), (name, own)
        # The component's log names the same parent (forkserver's first line of each fork).
        log = stack.log_path(name).read_text()  # type: ignore[union-attr]
        assert f"forked from the warm parent {forked_from} " in log, name
        if name == "scheduler":  # forked by the `up` just now, after its warm parent started
            assert forked_from == parent["pid"]
            assert own["start_ticks"] >= parent["start_ticks"]
    scheduler = stack.pids.read("scheduler")
    assert scheduler is not None
    time.sleep(5)  # a few scheduler loops with nothing to run
    assert _executor_workers(scheduler.pid) == []
    on = fast_paths.read_record(stack.settings.run_dir, "scheduler")
    assert fast_paths.recorded_decision(on, "on-demand-workers") == fast_paths.Decision(
        "on-demand-workers", True, "workers forked as tasks come, at most [core] parallelism"
    )


def test_kit_status_verbose_lists_the_fast_paths_quickly(stack: EmbeddedStack) -> None:
    state = str(stack.settings.state_dir)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "kit.cli", "status", "--verbose", "--state-dir", state],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    took = time.monotonic() - started
    assert done.returncode == 0, done.stdout + done.stderr
    lines = {
        m["path"]: m["rest"]
        for m in re.finditer(r"^    (?P<path>[a-z-]+) +(?P<rest>.*)$", done.stdout, re.M)
    }
    assert set(lines) == set(fast_paths.FALLBACKS), done.stdout
    assert lines["lean-import"].startswith("on  (") and "scheduler" in lines["lean-import"]
    assert all(name in lines["warm-parent"] for name in FORKED), lines["warm-parent"]
    for path in ("on-demand-workers", "dead-scheduler", "pooled-kernels"):
        assert lines[path] == "on  (scheduler)", (path, done.stdout)
    assert lines["priority-parse"] == "on  (dag-processor)"
    assert lines["config-check"] == "on  (kit up)"
    assert "OFF" not in done.stdout
    assert took < 10, took  # no Airflow import (about 0.2 s on an idle machine)

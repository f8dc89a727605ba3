"""Each fast path checks the private behaviour it relies on; when that does not hold (here: the
class or module it reads, monkeypatched, since "Airflow changed its private API" cannot be caused
for real), the stock behaviour is used and one log line says so. And the records `kit status
--verbose` reads."""

from __future__ import annotations

import io
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from kit import fast_paths
from tests.conftest import stack_settings


def one_line_about(path: str, err: str) -> str:
    """The one line that says fast path ``path`` is off, naming its fallback."""
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"kit: fast path {path} is off:"), lines
    assert fast_paths.FALLBACKS[path] in lines[0]
    return lines[0]


@pytest.fixture(autouse=True)
def _own_record(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with an empty record of this process's decisions."""
    monkeypatch.setattr(fast_paths, "_decided", {})
    monkeypatch.setattr(fast_paths, "_record", {})


# -- the record ------------------------------------------------------------------------------------
def test_a_component_records_its_decisions_and_a_fork_of_it_does_not(tmp_path: Path) -> None:
    fast_paths.note(fast_paths.Decision("lean-import", True, "deferred"))  # before begin: kept
    fast_paths.begin("scheduler", tmp_path, forked_from=4242)
    assert fast_paths.check("on-demand-workers", None, on="as tasks come")
    pid = os.fork()
    if pid == 0:  # a task forked from the component: decides for itself, writes nothing
        fast_paths.check("pooled-kernels", "no", say=lambda line: None)
        os._exit(0)
    os.waitpid(pid, 0)
    record = fast_paths.read_record(tmp_path / "run", "scheduler")
    assert record is not None
    assert (record["pid"], record["forked_from"]) == (os.getpid(), 4242)
    assert [d["path"] for d in record["decisions"]] == ["lean-import", "on-demand-workers"]
    table = {s.path: s for s in fast_paths.summarize({"scheduler": record, "api-server": None})}
    assert table["on-demand-workers"].on_in == ("scheduler",)
    assert "not decided" in table["pooled-kernels"].line(20)


def test_an_off_path_is_told_once_and_listed_with_why(capsys: pytest.CaptureFixture) -> None:
    assert not fast_paths.check("config-check", "the description moved")
    one_line_about("config-check", capsys.readouterr().err)
    record = {"decisions": [{"path": "config-check", "on": False, "why": "the description moved"}]}
    table = {s.path: s for s in fast_paths.summarize({"kit up": record})}
    assert "OFF in kit up: the description moved" in table["config-check"].line(14)
    with pytest.raises(ValueError, match="unknown fast path 'fast-lane'"):
        fast_paths.decide("fast-lane", None)


# -- OnDemandLocalExecutor's worker spawn ----------------------------------------------------------
def test_an_executor_whose_spawn_changed_forks_all_workers_at_start_as_airflows(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    from airflow.executors.local_executor import LocalExecutor

    from kit.stack.local_executor import OnDemandLocalExecutor, on_demand_problem

    assert on_demand_problem() is None  # the installed Airflow's holds
    stock = LocalExecutor._spawn_workers_with_gc_freeze

    def changed(self, spawn_number, reason=None):  # a new signature
        stock(self, spawn_number)

    monkeypatch.setattr(LocalExecutor, "_spawn_workers_with_gc_freeze", changed)
    executor = OnDemandLocalExecutor(parallelism=2)
    executor.start()
    try:
        assert len(executor.workers) == 2  # Airflow's own: all of parallelism at start
    finally:
        executor.end()
    line = one_line_about("on-demand-workers", capsys.readouterr().err)
    assert "takes (self, spawn_number, reason)" in line


# -- the warm parent's ORM reset -------------------------------------------------------------------
def test_a_warm_parent_without_the_orm_reset_forks_nothing_and_says_why(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, tmp_path: Path
) -> None:
    from airflow import settings

    from kit.stack.forkserver import WarmParent, WarmParentError, orm_reset_problem, serve

    assert orm_reset_problem(settings) is None
    monkeypatch.delattr(settings, "configure_orm")
    replies = io.StringIO()
    serve(io.StringIO('{"name": "scheduler"}\n'), replies)  # a request it must not fork for
    why = "airflow.settings has no configure_orm()"
    assert json.loads(replies.getvalue()) == {"ready": False, "why": why}
    one_line_about("warm-parent", capsys.readouterr().err)
    # `kit up`'s side: such a parent is asked no more; each component starts on its own.
    answer = json.dumps({"ready": False, "why": why})
    command = [sys.executable, "-c", f"print({answer!r})"]
    parent = WarmParent(dict(os.environ), tmp_path, tmp_path / "fs.log", command)
    where = {"env": {}, "log_file": tmp_path / "x.log", "cwd": tmp_path, "pid_files": None}
    for _ in range(2):
        with pytest.raises(WarmParentError, match="cannot fork: airflow.settings has no"):
            parent.start("scheduler", ["scheduler"], command=["x"], **where)  # type: ignore[arg-type]
    parent.close()


# -- the dead-scheduler statement ------------------------------------------------------------------
def test_a_scheduler_whose_job_states_changed_leaves_the_table_to_airflow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    from airflow.jobs import job

    from kit.stack import dead_scheduler
    from kit.stack.secrets import StackSecrets

    settings = stack_settings(tmp_path, database="sqlite")
    settings.airflow_home.mkdir(parents=True)
    with sqlite3.connect(settings.airflow_home / "airflow.db") as conn:
        conn.execute("CREATE TABLE job (id INTEGER PRIMARY KEY, job_type TEXT, state TEXT)")
        conn.execute("INSERT INTO job (job_type, state) VALUES ('SchedulerJob', 'running')")
    fast_paths.begin("scheduler", settings.state_dir, forked_from=None)

    class ChangedJobState:  # Airflow renamed a state: the statement would mark the wrong thing
        RUNNING, FAILED = "running", "dead"

    monkeypatch.setattr(job, "JobState", ChangedJobState)
    assert not dead_scheduler.check_at_start()  # the scheduler's check, recorded
    one_line_about("dead-scheduler", capsys.readouterr().err)
    assert dead_scheduler.fail_dead_scheduler_jobs(settings, StackSecrets.generate()) == 0
    assert "('running', 'dead')" in one_line_about("dead-scheduler", capsys.readouterr().err)
    with sqlite3.connect(settings.airflow_home / "airflow.db") as conn:
        assert conn.execute("SELECT state FROM job").fetchall() == [("running",)]


# -- priority-parse rows ---------------------------------------------------------------------------
def test_without_the_priority_parse_model_nothing_is_recorded_and_one_line_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    from airflow.models.dagbag import DagPriorityParsingRequest

    from kit.stack import parse_request

    assert parse_request.priority_parse_problem(DagPriorityParsingRequest) is None
    # The recording process, for real, in an Airflow whose model is gone (removed at its start).
    removed = "import airflow.models.dagbag as m\ndel m.DagPriorityParsingRequest\n"
    done = subprocess.run(
        [sys.executable, "-c", removed + parse_request.code(), "dags-folder", "new.py"],
        env={**os.environ, "AIRFLOW_HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == parse_request.EXIT_UNSUPPORTED, done.stderr
    parse_request.outcome(done.returncode, done.stdout, done.stderr, "new.py")  # no error
    line = one_line_about("priority-parse", capsys.readouterr().err)
    assert "no airflow.models.dagbag.DagPriorityParsingRequest" in line


# -- the config check's reading of Airflow's config description ------------------------------------
def test_a_config_description_not_as_expected_skips_the_check_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    from kit.stack import config_check
    from kit.stack.embedded import EmbeddedStack

    assert config_check.description_problem() is None  # the installed Airflow's reads as expected
    moved = tmp_path / "airflow"  # an Airflow whose description says nothing of parallelism
    (moved / "config_templates").mkdir(parents=True)
    (moved / "config_templates" / "config.yml").write_text("core:\n  options: {}\n")
    monkeypatch.setattr(config_check, "_airflow_dir", lambda: moved)
    config_check.declared_options.cache_clear()
    try:
        assert "[core] parallelism as undeclared" in str(config_check.description_problem())
        typo = tmp_path / "config" / "airflow.cfg"  # Airflow itself ignores an unknown option
        typo.parent.mkdir()
        typo.write_text("[core]\nparalelism = 8\n")
        stack = EmbeddedStack(stack_settings(tmp_path, project_dir=tmp_path))
        stack._prepare()  # no ConfigError: Airflow's own handling
    finally:
        config_check.declared_options.cache_clear()  # the real description again
    one_line_about("config-check", capsys.readouterr().err)
    assert [d.path for d in stack._decisions if not d.on] == ["config-check"]


# -- the warm kernel's overrides of jupyter_client -------------------------------------------------
def test_when_jupyter_client_changed_no_pooled_kernel_is_claimed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    from jupyter_client.manager import KernelManager

    from kit.runtime import warm_kernel

    assert warm_kernel.overrides_problem() is None
    ready = tmp_path / "ready" / "python3"
    ready.mkdir(parents=True)
    (ready / "k1.json").write_text(json.dumps({"pid": 1, "id": "k1", "kernel_name": "python3"}))
    monkeypatch.delattr(KernelManager, "_async_is_alive")
    warm_kernel.usable.cache_clear()
    try:
        assert warm_kernel.claim("python3", tmp_path) is None  # the task starts its own kernel
        assert warm_kernel.claim("python3", tmp_path) is None
    finally:
        warm_kernel.usable.cache_clear()
    assert (ready / "k1.json").exists()  # the idle kernel stays in the pool
    one_line_about("pooled-kernels", capsys.readouterr().err)


# -- kit status --verbose --------------------------------------------------------------------------
def test_status_verbose_lists_every_fast_path_and_none_for_compose(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    from kit.cli import main
    from kit.cli.stack_commands import NOT_APPLICABLE, _print_fast_paths

    state = tmp_path / "state"
    code = main(["status", "--verbose", "--stack", "embedded", "--state-dir", str(state)])
    out = capsys.readouterr().out
    assert code == 3  # nothing runs
    for path in fast_paths.FALLBACKS:
        assert f"    {path} " in out and "not decided" in out
    _print_fast_paths(None)  # the Compose stack has no fast-path records
    assert capsys.readouterr().out.strip() == f"fast paths: {NOT_APPLICABLE}"

"""One warm parent for the native stack's Airflow components: Airflow imported once, each forked.

The api-server, scheduler, DAG processor and triggerer each import Airflow at start, 2-3 s of CPU
apiece on the 2-core machine we measure on, all at the same time. The warm parent imports it once
and forks each component from itself; the forks share those pages in memory until they write to
them (``gc.freeze`` keeps the collector from touching them). Airflow forks its own workers the
same way.

`kit up` starts it (``python -m kit.stack.forkserver``) and talks to it through its standard
input and output, one JSON object per line:

    → {"name": "scheduler", "argv": ["--warm", "scheduler"], "env": {...}, "log": "...",
       "cwd": "..."}
    ← {"name": "scheduler", "pid": 4242}

Each fork becomes what ``python -m kit.stack.component <argv>`` would be: its own session, its
output appended to its log, its own environment. The parent exits when its input closes; the
components live on (their sessions, pid files and stop are the same as for a started process).

A fork resets the database engine the parent configured with its own environment
(``airflow.settings.dispose_orm`` / ``configure_orm``, internal to Airflow). The parent checks
they are there before it imports the rest (``orm_reset_problem``); if not, it answers
``{"ready": false, "why": ...}`` and exits, and `kit up` starts every component on its own.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import select
import subprocess
import sys
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, NoReturn

from kit.clock import start_ticks
from kit.stack.processes import PidFiles, PidRecord, record_pid

# What every component imports: once here, shared by the forks.
SHARED_MODULES = (
    "airflow.__main__",
    "airflow.cli.cli_parser",
    "airflow.models",
    "airflow.jobs.job",
    "airflow.serialization.serialized_objects",
    "airflow.executors.local_executor",
    "airflow.jobs.scheduler_job_runner",
    "airflow.jobs.triggerer_job_runner",
    "airflow.dag_processing.manager",
    # FAB's auth manager (config/airflow.cfg): the api-server builds its app on it and the
    # DAG processor syncs DAGs' access_control through it; ~1.9 s of imports each, done once here
    # (bench/bench_auth.py measures what it wins back).
    "airflow.providers.fab.auth_manager.fab_auth_manager",
    "kit.stack.component",
)
READY_SECONDS = 120.0  # how long `kit up` waits for the imports (a busy machine)
REPLY_SECONDS = 30.0
PATH = "warm-parent"


class WarmParentError(RuntimeError):
    """The warm parent could not start or fork: the caller starts the component itself."""


# -- the parent ----------------------------------------------------------------------------------
def _set_environment(wanted: Mapping[str, str]) -> None:
    """Make this process's environment ``wanted``, changing only what differs: clearing it all
    would leave setproctitle no room to name the process (Airflow names its task processes,
    and the kit finds them by those names)."""
    for key in [k for k in os.environ if k not in wanted]:
        del os.environ[key]
    for key, value in wanted.items():
        if os.environ.get(key) != value:
            os.environ[key] = value


def orm_reset_problem(settings: object) -> str | None:
    """What does not hold of the ORM reset a fork needs, in ``airflow.settings`` (None: holds)."""
    import inspect

    for name in ("dispose_orm", "configure_orm"):
        function = getattr(settings, name, None)
        if not callable(function):
            return f"airflow.settings has no {name}()"
        required = [
            parameter.name
            for parameter in inspect.signature(function).parameters.values()
            if parameter.default is parameter.empty
            and parameter.kind not in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD)
        ]
        if required:
            return f"airflow.settings.{name} now needs ({', '.join(required)})"
    return None


def _become_component(request: Mapping[str, object], in_session: int) -> NoReturn:
    """In the fork: become ``python -m kit.stack.component <argv>``, never return. One byte on
    the ``in_session`` pipe tells the parent it leads its own session."""
    code = 1
    try:
        os.setsid()  # its own session, as start_process gives a started component
        os.write(in_session, b".")
        os.close(in_session)
        log = os.open(str(request["log"]), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        argv = [str(a) for a in request["argv"]]  # type: ignore[attr-defined]
        started = (
            f"\n--- kit: starting {request['name']}: forked from the warm parent "
            f"{os.getppid()} as `kit.stack.component {' '.join(argv)}`\n"
        )
        os.write(log, started.encode())
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.chdir(str(request["cwd"]))
        _set_environment({str(k): str(v) for k, v in request["env"].items()})  # type: ignore[attr-defined]
        from airflow import settings

        # The database settings were read at import with the parent's environment; this
        # component's (the api-server's pool size, SQLite's patience) apply from here.
        settings.dispose_orm()
        settings.configure_orm()
        from kit.stack import component

        sys.argv = [component.__file__, *argv]
        component.main(argv, forked_from=os.getppid())  # exits by itself
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # noqa: BLE001 - reported in the component's log
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def serve(requests: IO[str], replies: IO[str]) -> None:
    """Import Airflow, say ready, then fork one component per request until input ends. When
    the ORM reset a fork needs is not there, say so instead (`kit up` starts them on their own)."""
    from kit import fast_paths
    from kit.stack.lean_imports import import_jsonschema_lean

    import_jsonschema_lean()
    import importlib

    from airflow import settings

    problem = orm_reset_problem(settings)
    if not fast_paths.check(PATH, problem, on=f"forked from the warm parent {os.getpid()}"):
        replies.write(json.dumps({"ready": False, "why": problem}) + "\n")
        replies.flush()
        return

    # What an import prints goes to the log, never into the replies (FAB's warnings go to
    # stdout).
    with contextlib.redirect_stdout(sys.stderr):
        for name in SHARED_MODULES:
            importlib.import_module(name)
    replies.write(json.dumps({"ready": True}) + "\n")
    replies.flush()
    for line in requests:
        request = json.loads(line)
        sys.stdout.flush()
        sys.stderr.flush()
        gc.freeze()  # the imported objects stay shared: the forks' collectors leave them alone
        in_session, told = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(in_session)
            _become_component(request, told)
        gc.unfreeze()
        os.close(told)
        # Replied once it is a session of its own: `kit down` finds its processes by session.
        select.select([in_session], [], [], REPLY_SECONDS)
        os.close(in_session)
        replies.write(json.dumps({"name": request["name"], "pid": pid}) + "\n")
        replies.flush()


# -- `kit up`'s side -----------------------------------------------------------------------------
class WarmParent:
    """The running warm parent: ``start`` forks a component from it and records its pid."""

    def __init__(
        self,
        env: Mapping[str, str],
        cwd: Path,
        log_file: Path,
        command: Sequence[str] = (sys.executable, "-m", "kit.stack.forkserver"),
    ) -> None:
        self.log_file = log_file
        with open(log_file, "ab") as log:
            self._proc = subprocess.Popen(
                list(command),
                env=dict(env),
                cwd=cwd,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                start_new_session=True,
            )
        self.start_ticks = start_ticks(self._proc.pid)  # its forks outlive it: recorded now
        self._ready = False
        self.failed: str | None = None  # why it cannot fork, once known: asked no more

    @property
    def pid(self) -> int:
        """The warm parent's process id."""
        return self._proc.pid

    def _reply(self, seconds: float) -> dict:
        if self.failed is not None:
            raise WarmParentError(self.failed)
        assert self._proc.stdout is not None
        ready, _, _ = select.select([self._proc.stdout], [], [], seconds)
        line = self._proc.stdout.readline() if ready else ""
        reply = json.loads(line) if line else {}
        if not line or reply.get("ready") is False:
            self.failed = (
                f"the warm parent cannot fork: {reply.get('why')}"
                if line
                else f"the warm parent did not answer in {seconds:.0f} s; see {self.log_file}"
            )
            self.close()
            raise WarmParentError(self.failed)
        return reply

    def start(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        log_file: Path,
        cwd: Path,
        pid_files: PidFiles,
        command: Sequence[str],
    ) -> PidRecord:
        """Fork ``name`` (``kit.stack.component <argv>``) and write its pid file; ``command`` is
        what would start it cold (kept in the pid file)."""
        if self.failed is not None:
            raise WarmParentError(self.failed)
        if not self._ready:
            self._reply(READY_SECONDS)
            self._ready = True
        assert self._proc.stdin is not None
        request = {"name": name, "argv": list(argv), "env": dict(env),
                   "log": str(log_file), "cwd": str(cwd)}  # fmt: skip
        try:
            self._proc.stdin.write(json.dumps(request) + "\n")
            self._proc.stdin.flush()
        except OSError as exc:
            self.failed = f"the warm parent is gone ({exc}); see {self.log_file}"
            raise WarmParentError(self.failed) from exc
        pid = int(self._reply(REPLY_SECONDS)["pid"])
        return record_pid(name, pid, command, pid_files)

    def close(self) -> None:
        """Let the parent exit (its forks live on)."""
        if self._proc.stdin is not None and not self._proc.stdin.closed:
            with contextlib.suppress(OSError):  # a parent gone already
                self._proc.stdin.close()
        try:
            self._proc.wait(10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(10)
        if self._proc.stdout is not None:
            self._proc.stdout.close()


def main() -> None:
    """``python -m kit.stack.forkserver``: serve fork requests on stdin/stdout."""
    serve(sys.stdin, sys.stdout)


if __name__ == "__main__":
    main()

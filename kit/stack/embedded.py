"""The embedded stack: Airflow 3 and MLflow as native processes from the kit's own virtualenv.

Api-server, scheduler, dag-processor and triggerer plus an MLflow tracking server (local artifacts).
Its shape (``StackSettings.database`` / ``executor``) says what else runs:

- ``postgres+local`` (default): the seed's shape without containers, LocalExecutor and a
  PostgreSQL server of the kit's own (``kit.stack.services.postgres``, from a wheel) holding
  Airflow's and MLflow's databases;
- ``postgres+celery``: that, plus a Redis broker and N ``airflow celery worker`` processes;
- ``sqlite+local`` (``kit up --sqlite``): SQLite files, for the smallest machines; one writer at a
  time, so it is not for concurrent load.

All state lives in one folder (``.kit/`` by default): AIRFLOW_HOME, logs, databases, pid files and
the generated secrets. The shape is kept in ``stack.json``, so a later ``kit up`` keeps it.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from kit import clock, fast_paths
from kit.bundle.config import BUNDLE_NAME
from kit.bundle.deploy import ensure as ensure_bundle
from kit.stack import embedded_state, health, lock
from kit.stack.airflow_env import STACK_MARKER, airflow_environment, stack_id
from kit.stack.base import (
    WAITS,
    ComponentStatus,
    ConfigError,
    Endpoints,
    ReadyCallback,
    StackError,
    StackNotRunning,
    StackStatus,
    Wait,
)
from kit.stack.component_commands import LAUNCHER, command_and_env, published
from kit.stack.component_probes import SERVICES, component_probes
from kit.stack.config_check import PATH as CONFIG_CHECK
from kit.stack.config_check import config_problems, description_problem
from kit.stack.databases import migrate_once, refuse_to_orphan_sqlite_data
from kit.stack.dead_scheduler import fail_dead_scheduler_jobs
from kit.stack.embedded_state import ADMIN_USER
from kit.stack.exposure import refuse_anonymous_beyond_loopback
from kit.stack.forkserver import PATH as WARM_PARENT
from kit.stack.forkserver import WarmParent, WarmParentError
from kit.stack.mlflow_auth import ADMIN_USER as MLFLOW_ADMIN
from kit.stack.mlflow_auth import without_logins
from kit.stack.mlflow_files import write_mlflow_auth
from kit.stack.parse_request import request_parse
from kit.stack.ports import check_ports
from kit.stack.processes import (
    PidFiles,
    processes_with_marker,
    reap_orphans,
    session_members,
    start_process,
    stop_processes,
)
from kit.stack.remote_services import missing_provider
from kit.stack.secrets import StackSecrets, load_or_create, write_private
from kit.stack.services.postgres import PostgresServer, stop_fast
from kit.stack.settings import StackSettings
from kit.stack.state import state_file
from kit.worker.keys import WorkerFiles, ensure_key

# The components of the default shape, in start order.
COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer", "kernel-pool", "mlflow")
# With the servers (and Celery's workers), what a DAG run needs: started first, on their own.
AIRFLOW_CORE = ("api-server", "scheduler")
# Seconds `down` gives a component between SIGTERM and SIGKILL. Idle, each stops in under 1 s;
# the triggerer alone then often waits 10 s for its trigger runner (Airflow 3.3's escalation
# delay), and triggers resume in the next triggerer anyway. Running tasks are interrupted and run
# again after the next `up` (kit.stack.dead_scheduler); `kit down --timeout` gives them longer.
STOP_SECONDS = 2.0
# Forked from one warm parent that imported Airflow once (kit.stack.forkserver), as is any
# component whose command is kit.stack.component's (Celery's workers too).
FORKED = ("api-server", "scheduler", "dag-processor", "triggerer")


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class EmbeddedStack:
    """Airflow + MLflow as native processes. ``up`` is idempotent; ``down`` leaves nothing."""

    kind = "embedded"

    def __init__(self, settings: StackSettings | None = None) -> None:
        self.settings = settings or StackSettings.from_env()
        self.pids = PidFiles(self.settings.run_dir)
        self._decisions: list[fast_paths.Decision] = []  # what this `up` decided

    # -- state ---------------------------------------------------------------------------------
    @property
    def state_file(self) -> Path:
        """The stack's state file (stack.json in the state folder)."""
        return state_file(self.settings.state_dir)

    @classmethod
    def from_settings(
        cls, settings: StackSettings, *, ports: Mapping[str, int], shape: Mapping[str, object]
    ) -> EmbeddedStack:
        """A stack of ``settings`` (which hold the ports) in the ``shape`` asked for."""
        return cls(replace(settings, **shape))

    @classmethod
    def from_state(
        cls,
        state_dir: Path,
        *,
        ports: Mapping[str, int] | None = None,
        shape: Mapping[str, object] | None = None,
    ) -> EmbeddedStack:
        """The stack whose state is in ``state_dir``, with the ports and shape it was started
        with (``ports`` and ``shape`` values that are not None replace them)."""
        return cls(embedded_state.read_settings(state_dir, {**(ports or {}), **(shape or {})}))

    @property
    def shape(self) -> str:
        """Its shape: 'postgres+local' (the default), 'postgres+celery' or 'sqlite+local'."""
        return self.settings.shape

    @property
    def database(self) -> str:
        """Its metadata database: 'postgres' (a server of the kit's own) or 'sqlite'."""
        return self.settings.database

    def request_parse(self, relative_fileloc: str, bundle: str = BUNDLE_NAME) -> None:
        """Ask Airflow to parse a file the API cannot name yet (a new file in a bundle where no
        DAG is known): a priority-parse request in the metadata database, as Airflow's reparse
        API records one."""
        request_parse(self.environment(), relative_fileloc, bundle)

    def components(self) -> list[str]:
        """This shape's components in start order: servers, Airflow, workers, MLflow."""
        settings = self.settings
        services = [
            name
            for name, wanted in (
                ("postgres", settings.database == "postgres"),
                ("redis", settings.executor == "celery"),
            )
            if wanted
        ]
        airflow = [c for c in COMPONENTS[:-1] if c != "kernel-pool" or settings.kernel_pool_size]
        return [*services, *airflow, *settings.celery_worker_names(), COMPONENTS[-1]]

    def log_path(self, component: str) -> Path | None:
        """The log file of a component (or db-migrate); None for a name it does not know."""
        if component not in (*self.components(), "db-migrate"):
            return None
        return self.settings.logs_dir / f"{component}.log"

    def log_names(self) -> list[str]:
        """The components that keep a log (``kit logs NAME``)."""
        return [*self.components(), "db-migrate"]

    def log_tail(self, component: str, lines: int = 25) -> str | None:
        """The last ``lines`` of a component's log; None for a component without one."""
        path = self.log_path(component)
        return health.tail(path, lines) if path is not None and path.exists() else None

    # -- commands ------------------------------------------------------------------------------
    def _command_and_env(
        self, name: str, airflow_env: dict[str, str], secrets: StackSecrets
    ) -> tuple[list[str], dict[str, str]]:
        """What to run for a component, and in which environment (kit.stack.component_commands)."""
        return command_and_env(self.settings, name, airflow_env, secrets)

    def environment(self) -> dict[str, str]:
        """The full environment of the stack's Airflow processes (also used by `kit` helpers)."""
        secrets = load_or_create(self.settings.secrets_file)
        return {**without_logins(os.environ), **airflow_environment(self.settings, secrets)}

    def postgres(self) -> PostgresServer:
        """The stack's PostgreSQL server (its URLs and connection arguments hold the password)."""
        return PostgresServer(self.settings, load_or_create(self.settings.secrets_file))

    # -- up ------------------------------------------------------------------------------------
    def _prepare(self) -> dict[str, str]:
        settings = self.settings
        if not settings.config_file.is_file():
            raise StackError(
                f"{settings.config_file} is missing: the stack reads its settings from it."
            )
        refuse_to_orphan_sqlite_data(settings)
        for folder in (
            settings.state_dir,
            settings.airflow_home,
            settings.logs_dir,
            settings.run_dir,
            settings.mlflow_dir,
        ):
            folder.mkdir(parents=True, exist_ok=True)
        os.chmod(settings.state_dir, 0o700)
        settings.dags_dir.mkdir(parents=True, exist_ok=True)
        settings.artifacts_dir.mkdir(parents=True, exist_ok=True)
        # The DAG processor fails to start without the bundle's branch: made (once) before it.
        ensure_bundle(settings.state_dir, settings.project_dir, settings.dags_dir)
        if problem := missing_provider(settings.remote_services):
            raise StackError(problem)
        secrets = load_or_create(settings.secrets_file)
        env = {**without_logins(os.environ), **airflow_environment(settings, secrets)}
        # Beyond loopback only with logins: before anything starts.
        refuse_anonymous_beyond_loopback(settings.host, "KIT_BIND_HOST", published(settings, env))
        label = os.path.relpath(settings.config_file, Path.cwd())
        checked = fast_paths.decide(
            CONFIG_CHECK, description_problem(), on="options checked before anything starts"
        )
        self._decisions.append(checked)
        if checked.on and (problems := config_problems(settings.config_file, env, label=label)):
            raise ConfigError(problems)
        # The kit's client (and `kit credentials`) read the admin password from here; FAB keeps
        # only its hash (kit.stack.fab_admin makes the user with it).
        wanted = json.dumps({ADMIN_USER: secrets.admin_password})
        if (
            not settings.passwords_file.exists()
            or settings.passwords_file.read_text().strip() != wanted
        ):
            write_private(settings.passwords_file, wanted + "\n")
        write_mlflow_auth(settings, secrets)
        if settings.edge:
            # The api-server reads the JWKS file once at its first Edge call: it must exist.
            ensure_key(WorkerFiles(settings.state_dir))
        return env

    def _running(self) -> dict[str, bool]:
        return {
            name: (rec := self.pids.read(name)) is not None and rec.alive
            for name in self.components()
        }

    def _keep_what_runs(self) -> None:
        """A stack already running keeps its ports, shape and remote services (a StackError for
        another shape or other remote services): `up` goes on with those."""
        if not self.state_file.exists() or not self._any_process_running():
            return
        running = embedded_state.read_settings(self.settings.state_dir)
        settings = embedded_state.settings_to_run(running, self.settings)
        if settings is not self.settings:
            self.settings = settings
            self.pids = PidFiles(self.settings.run_dir)
        embedded_state.refuse_other_remote_services(self.settings)

    def _any_process_running(self) -> bool:
        """Any component of any shape alive (pid files are per component name)."""
        return any(record.alive for record in self.pids.all())

    def _start(
        self,
        names: list[str],
        airflow_env: dict[str, str],
        secrets: StackSecrets,
        warm_parent: WarmParent | None = None,
    ) -> None:
        """Start ``names``; Airflow's components forked from ``warm_parent`` when there is one."""
        for name in names:
            command, env = self._command_and_env(name, airflow_env, secrets)
            clock.record(self.timeline_file, name, "started")
            named = {clock.TIMELINE_ENV: str(self.timeline_file), clock.COMPONENT_ENV: name}
            where = {
                "env": {**env, **named},
                "log_file": self.log_path(name),
                "cwd": self.settings.state_dir,
                "pid_files": self.pids,
            }
            forkable = command[: len(LAUNCHER)] == LAUNCHER
            if warm_parent is not None and warm_parent.failed is None and forkable:
                try:
                    warm_parent.start(name, command[len(LAUNCHER) :], command=command, **where)
                    continue
                except WarmParentError as exc:  # a warm start is only faster: told once
                    self._decisions.append(fast_paths.decide(WARM_PARENT, str(exc)))
            start_process(name, command, **where)  # type: ignore[arg-type]

    def _warm_parent(self, to_start: list[str], env: dict[str, str]) -> WarmParent | None:
        """The warm parent, started now (its imports overlap the database's start) when Airflow
        components are to start."""
        if not any(name in FORKED or name.startswith("celery-worker-") for name in to_start):
            return None
        return WarmParent(env, self.settings.state_dir, self.settings.logs_dir / "forkserver.log")

    @property
    def timeline_file(self) -> Path:
        """Where the last `up` recorded when each component started and became healthy."""
        return self.settings.run_dir / "timeline.jsonl"

    def first_stage(self) -> list[str]:
        """What a DAG run needs, in start order: the servers, the api-server, the scheduler and
        (Celery) the workers. `up` starts them alone, so they have the CPU to themselves."""
        return [
            name
            for name in self.components()
            if name in SERVICES or name in AIRFLOW_CORE or name.startswith("celery-worker-")
        ]

    def up(
        self,
        *,
        timeout: float = 180.0,
        progress: bool = True,
        wait: Wait = "all",
        on_ready: ReadyCallback | None = None,
    ) -> Endpoints:
        """Start what is not running and wait for it. Airflow first (the first stage, until it
        can run a DAG), then the rest; ``wait="airflow"`` returns when the first stage is healthy
        and leaves the rest starting (`kit status` shows them), ``"all"`` waits for everything."""
        if wait not in WAITS:
            raise ValueError(f"wait={wait!r}: expected one of {', '.join(WAITS)}")
        # Each stage asks again about the earlier ones: told once each, with the time since now.
        on_ready = health.once_each(
            on_ready, also=lambda name: clock.record(self.timeline_file, name, "healthy")
        )
        self._decisions = []
        with lock.held(self.settings.state_dir):
            self._keep_what_runs()
            env = self._prepare()
            secrets = load_or_create(self.settings.secrets_file)
            running = self._running()
            to_start = [name for name in self.components() if not running[name]]
            scheduler_died = False
            if to_start:
                # A dead component's pid file is stale; what its group left behind goes with it.
                for name in to_start:
                    if (record := self.pids.read(name)) is not None:
                        reap_orphans(record)
                        scheduler_died |= name == "scheduler"
                    self.pids.remove(name)
                check_ports(self.settings, to_start)
                if "postgres" in to_start:
                    # As root: its user can reach its programs and data (a project in /root).
                    PostgresServer(self.settings, secrets).check_reach()
            # Written first: a failed start still leaves the shape for `kit logs` / `kit down`.
            embedded_state.write(self.settings, self.log_path("api-server"))
            self.timeline_file.unlink(missing_ok=True)
            warm = self._warm_parent(to_start, env)
            try:
                self._start_in_stages(
                    to_start, env, secrets, warm=warm, scheduler_died=scheduler_died,
                    wait=wait, on_ready=on_ready, timeout=timeout, progress=progress,
                )  # fmt: skip
            finally:
                if warm is not None:
                    warm.close()
                # The warm parent's pid and start: its forks' records name it (forked_from).
                parent = {"pid": warm.pid, "start_ticks": warm.start_ticks} if warm else None
                fast_paths.save(
                    self.settings.run_dir, fast_paths.KIT_UP, self._decisions, warm_parent=parent
                )
        return self.endpoints()

    def _start_in_stages(
        self,
        to_start: list[str],
        env: dict[str, str],
        secrets: StackSecrets,
        *,
        warm: WarmParent | None,
        scheduler_died: bool,
        wait: Wait,
        on_ready: ReadyCallback | None,
        timeout: float,
        progress: bool,
    ) -> None:
        """The servers, then the first stage (what a DAG run needs), then the rest."""
        waiting = {
            "timeout": timeout,
            "progress": progress,
            "secrets": secrets,
            "on_ready": on_ready,
        }
        # The database (and broker) first: Airflow's migration and start-up need them.
        postgres = PostgresServer(self.settings, secrets)
        if "postgres" in to_start and not postgres.initialized:
            postgres.initialize(self.log_path("postgres"))  # type: ignore[arg-type]
        self._start([n for n in to_start if n in SERVICES], env, secrets)
        if services := [n for n in self.components() if n in SERVICES]:
            self._wait_for(services, **waiting)  # type: ignore[arg-type]
        if self.settings.database == "postgres":
            postgres.ensure_databases()
        if "api-server" in to_start or "scheduler" in to_start:
            # The database, and the kit's admin in FAB's tables (with the password the client
            # reads from passwords.json), each only when not already done.
            admin = (ADMIN_USER, secrets.admin_password)
            migrate_once(self.settings, env, self.log_path("db-migrate"), admin)  # type: ignore[arg-type]
        if scheduler_died:
            # Its tasks are re-queued by the new scheduler at start, not after 120 s.
            fail_dead_scheduler_jobs(self.settings, secrets)
        first = self.first_stage()
        self._start([n for n in to_start if n in first and n not in SERVICES], env, secrets, warm)
        self._wait_for(first, **waiting)  # type: ignore[arg-type]
        self._start([n for n in to_start if n not in first], env, secrets, warm)
        if wait == "all":
            self._wait_for(self.components(), **waiting)  # type: ignore[arg-type]

    def _probes(
        self, secrets: StackSecrets | None, *, bootstrap: bool = False
    ) -> dict[str, health.Probe]:
        return component_probes(self.settings, self.components(), secrets, bootstrap=bootstrap)

    def _wait_for(
        self,
        names: list[str],
        *,
        timeout: float,
        progress: bool,
        secrets: StackSecrets,
        on_ready: ReadyCallback | None = None,
    ) -> float:
        bootstrap = set(names) <= set(SERVICES)
        every = self._probes(secrets, bootstrap=bootstrap)
        probes = {
            name: probe
            for name, probe in every.items()
            if name in names or (name == "metadatabase" and not bootstrap)
        }
        logs = {name: self.log_path(name) for name in self.components()}

        def died() -> str | None:
            running = self._running()
            return next((name for name in names if not running.get(name, True)), None)

        return health.wait_healthy(
            probes, timeout=timeout, logs=logs, died=died, progress=progress, on_ready=on_ready
        )

    # -- down ----------------------------------------------------------------------------------
    def down(self, *, timeout: float = STOP_SECONDS) -> None:
        """Airflow, workers and MLflow first (their connections close), then Redis, then
        PostgreSQL with a fast shutdown; then a sweep for anything of the stack still running.
        A component still running ``timeout`` seconds after SIGTERM is killed (SIGKILL)."""
        with lock.held(self.settings.state_dir):
            records = self.pids.all()
            apps = [r for r in records if r.name not in SERVICES]
            stop_processes(apps, timeout=timeout, say=_to_stderr)
            if any(r.name == "scheduler" for r in apps):
                # A scheduler stopped mid-run may not have closed its job (a SIGKILL after the
                # timeout): close it while the database still runs, so the next `up` re-queues
                # its interrupted tasks at start instead of 120 s later.
                with contextlib.suppress(Exception):
                    fail_dead_scheduler_jobs(
                        self.settings, load_or_create(self.settings.secrets_file)
                    )
            for record in records:
                if record.name == "postgres":
                    stop_fast(record, timeout)
            marker = (STACK_MARKER, stack_id(self.settings))
            stop_processes(records, marker=marker, timeout=timeout, say=_to_stderr)
            for record in records:
                self.pids.remove(record.name)

    def leftover_processes(self) -> list[int]:
        """Pids of any process of this stack still running (empty after a clean `down`)."""
        marked = processes_with_marker(STACK_MARKER, stack_id(self.settings))
        return sorted({p.pid for p in [*marked, *session_members(self.pids.all())]})

    # -- status --------------------------------------------------------------------------------
    def fast_path_report(self) -> list[fast_paths.FastPathStatus]:
        """Which fast paths the running components (and the last `up`) took, from their records
        (kit.fast_paths); a record of an earlier process with the same name is left out."""
        records: dict[str, dict | None] = {}
        for record in self.pids.all():
            data = fast_paths.read_record(self.settings.run_dir, record.name)
            same = data is not None and data.get("pid") == record.pid
            if same and data.get("start_ticks") in (None, record.start_ticks) and record.alive:
                records[record.name] = data
        if records:
            records["kit up"] = fast_paths.read_record(self.settings.run_dir, fast_paths.KIT_UP)
        return fast_paths.summarize(records)

    def endpoints(self) -> Endpoints:
        """URLs and login of the running stack; StackNotRunning when no component runs."""
        if not any(self._running().values()):
            raise StackNotRunning(
                f"no embedded stack is running with its state in {self.settings.state_dir}; "
                "start it with `kit up` (or `make up`)."
            )
        settings = self.settings
        return Endpoints(
            settings.airflow_url,
            settings.mlflow_url,
            ADMIN_USER,
            settings.passwords_file,
            mlflow_username=MLFLOW_ADMIN,
            mlflow_password_file=settings.mlflow_passwords_file,
        )

    def status(self) -> StackStatus:
        """Each component of the shape it was started in: running, healthy, pid."""
        if self.state_file.exists():
            with contextlib.suppress(ValueError, KeyError, OSError):
                self.settings = embedded_state.read_settings(self.settings.state_dir)
        # Never create a secrets file by asking about a stack that is not there.
        needs_secrets = self.settings.database != "sqlite" and self.settings.secrets_file.exists()
        probes = self._probes(load_or_create(self.settings.secrets_file) if needs_secrets else None)
        components = []
        any_running = False
        for name in self.components():
            record = self.pids.read(name)
            alive = record is not None and record.alive
            any_running |= alive
            reason = probes[name]() if alive else "not running"
            components.append(
                ComponentStatus(
                    name=name,
                    running=alive,
                    healthy=alive and reason is None,
                    pid=record.pid if alive and record else None,
                    detail=reason or "healthy",
                )
            )
        endpoints = self.endpoints() if any_running else None
        return StackStatus(self.kind, any_running, endpoints, components)

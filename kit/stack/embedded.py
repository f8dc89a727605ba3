"""The embedded stack: Airflow 3 and MLflow as native processes from the kit's own virtualenv.

Api-server, scheduler, dag-processor and triggerer (LocalExecutor on SQLite) plus an MLflow tracking
server (SQLite backend store, local artifacts). All state lives in one folder (``.kit/`` by
default): AIRFLOW_HOME, logs, databases, pid files and the generated secrets.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

from kit.stack import health
from kit.stack.airflow_env import STACK_MARKER, airflow_environment, mlflow_environment, stack_id
from kit.stack.base import (
    ComponentStatus,
    Endpoints,
    PortBusyError,
    StackError,
    StackNotRunning,
    StackStatus,
)
from kit.stack.ports import port_is_free
from kit.stack.processes import (
    PidFiles,
    processes_with_marker,
    reap_orphans,
    session_members,
    start_process,
    stop_processes,
)
from kit.stack.secrets import load_or_create, write_private
from kit.stack.settings import PORT_SETTINGS, StackSettings

ADMIN_USER = "admin"
COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer", "mlflow")
# The ports each component listens on (it cannot start when one is taken).
COMPONENT_PORTS = {
    "api-server": ("airflow_port",),
    "scheduler": ("scheduler_health_port", "worker_log_port"),
    "triggerer": ("trigger_log_port",),
    "dag-processor": (),
    "mlflow": ("mlflow_port",),
}


def _venv_bin(name: str) -> str:
    """A console script of the interpreter running the kit (the project's .venv)."""
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else name


class EmbeddedStack:
    """Airflow + MLflow as native processes. ``up`` is idempotent; ``down`` leaves nothing."""

    kind = "embedded"

    def __init__(self, settings: StackSettings | None = None) -> None:
        self.settings = settings or StackSettings.from_env()
        self.pids = PidFiles(self.settings.run_dir)

    # -- state ---------------------------------------------------------------------------------
    @property
    def state_file(self) -> Path:
        return self.settings.state_dir / "stack.json"

    def _write_state(self) -> None:
        s = self.settings
        state = {
            "kind": self.kind,
            "airflow_url": s.airflow_url,
            "mlflow_url": s.mlflow_url,
            "username": ADMIN_USER,
            "password_file": str(s.passwords_file),
            "dags_dir": str(s.dags_dir),
            "project_dir": str(s.project_dir),
            "ports": s.ports(),
            "parallelism": s.parallelism,
        }
        self.state_file.write_text(json.dumps(state, indent=2))

    @classmethod
    def from_state(cls, state_dir: Path) -> EmbeddedStack:
        """The stack whose state is in ``state_dir``, with the ports it was started with."""
        state = json.loads((state_dir / "stack.json").read_text())
        settings = StackSettings.from_env(
            state_dir=state_dir,
            project_dir=Path(state["project_dir"]),
            dags_dir=Path(state["dags_dir"]),
            parallelism=state.get("parallelism"),
            **state["ports"],
        )
        return cls(settings)

    def log_path(self, component: str) -> Path | None:
        if component not in (*COMPONENTS, "db-migrate"):
            return None
        return self.settings.logs_dir / f"{component}.log"

    # -- commands ------------------------------------------------------------------------------
    def _commands(self) -> dict[str, list[str]]:
        s = self.settings
        airflow = _venv_bin("airflow")
        return {
            "api-server": [airflow, "api-server"],
            "scheduler": [airflow, "scheduler"],
            "dag-processor": [airflow, "dag-processor"],
            "triggerer": [airflow, "triggerer"],
            "mlflow": [
                _venv_bin("mlflow"),
                "server",
                "--host", s.host,
                "--port", str(s.mlflow_port),
                "--backend-store-uri", f"sqlite:///{s.mlflow_dir / 'mlflow.db'}",
                "--artifacts-destination", str(s.mlflow_dir / "artifacts"),
                "--serve-artifacts",
                "--workers", "1",
            ],
        }  # fmt: skip

    def environment(self) -> dict[str, str]:
        """The full environment of the stack's Airflow processes (also used by `kit` helpers)."""
        secrets = load_or_create(self.settings.secrets_file)
        return {**os.environ, **airflow_environment(self.settings, secrets)}

    # -- up ------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        """One `up`/`down` at a time per state folder (two notebooks may click "up" together)."""
        self.settings.state_dir.mkdir(parents=True, exist_ok=True)
        with open(self.settings.state_dir / ".lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _prepare(self) -> dict[str, str]:
        s = self.settings
        if not s.config_file.is_file():
            raise StackError(f"{s.config_file} is missing: the stack reads its settings from it.")
        for folder in (s.state_dir, s.airflow_home, s.logs_dir, s.run_dir, s.mlflow_dir):
            folder.mkdir(parents=True, exist_ok=True)
        os.chmod(s.state_dir, 0o700)
        s.dags_dir.mkdir(parents=True, exist_ok=True)
        s.artifacts_dir.mkdir(parents=True, exist_ok=True)
        secrets = load_or_create(s.secrets_file)
        # SimpleAuthManager reads the admin password from here; we write it so it is never printed.
        wanted = json.dumps({ADMIN_USER: secrets.admin_password})
        if not s.passwords_file.exists() or s.passwords_file.read_text().strip() != wanted:
            write_private(s.passwords_file, wanted + "\n")
        return {**os.environ, **airflow_environment(s, secrets)}

    def _migrate(self, env: dict[str, str]) -> None:
        """Create or upgrade the metadata database, once per Airflow version."""
        from importlib.metadata import version

        marker = self.settings.airflow_home / f".migrated-{version('apache-airflow')}"
        if marker.exists() and (self.settings.airflow_home / "airflow.db").exists():
            return
        log = self.log_path("db-migrate")
        assert log is not None
        with open(log, "ab") as fh:
            done = subprocess.run(
                [_venv_bin("airflow"), "db", "migrate"],
                env=env,
                cwd=self.settings.state_dir,
                stdout=fh,
                stderr=subprocess.STDOUT,
                timeout=600,
            )
        if done.returncode != 0:
            raise StackError(
                f"`airflow db migrate` failed (exit {done.returncode}).\n"
                f"--- last lines of {log} ---\n{health.tail(log)}"
            )
        marker.touch()

    def _check_ports(self, components: list[str]) -> None:
        for component in components:
            for port_name in COMPONENT_PORTS[component]:
                port = getattr(self.settings, port_name)
                if not port_is_free(self.settings.host, port):
                    env_var, _, label = PORT_SETTINGS[port_name]
                    raise PortBusyError(port, label, env_var)

    def _running(self) -> dict[str, bool]:
        return {
            name: (rec := self.pids.read(name)) is not None and rec.alive for name in COMPONENTS
        }

    def _adopt_running_settings(self) -> None:
        """A stack already running keeps its ports: reuse them rather than start a second one."""
        if not self.state_file.exists() or not any(self._running().values()):
            return
        running = EmbeddedStack.from_state(self.settings.state_dir).settings
        if running.ports() != self.settings.ports() or running.dags_dir != self.settings.dags_dir:
            self.settings = running
            self.pids = PidFiles(self.settings.run_dir)

    def up(self, *, timeout: float = 180.0, progress: bool = True) -> Endpoints:
        with self._lock():
            self._adopt_running_settings()
            env = self._prepare()
            running = self._running()
            to_start = [name for name in COMPONENTS if not running[name]]
            if to_start:
                # A dead component's pid file is stale; what its group left behind goes with it.
                for name in to_start:
                    if (record := self.pids.read(name)) is not None:
                        reap_orphans(record)
                    self.pids.remove(name)
                self._check_ports(to_start)
                if "api-server" in to_start or "scheduler" in to_start:
                    self._migrate(env)
                commands = self._commands()
                for name in to_start:
                    component_env = (
                        env
                        if name != "mlflow"
                        else {**os.environ, **mlflow_environment(self.settings)}
                    )
                    start_process(
                        name,
                        commands[name],
                        env=component_env,
                        log_file=self.log_path(name),  # type: ignore[arg-type]
                        cwd=self.settings.state_dir,
                        pid_files=self.pids,
                    )
            self._write_state()
            self._wait_healthy(timeout=timeout, progress=progress)
        return self.endpoints()

    def _wait_healthy(self, *, timeout: float, progress: bool) -> float:
        probes = {
            **health.airflow_probes(self.settings.airflow_url),
            "mlflow": health.mlflow_probe(self.settings.mlflow_url),
        }
        logs = {name: self.log_path(name) for name in COMPONENTS}

        def died() -> str | None:
            return next((name for name, alive in self._running().items() if not alive), None)

        return health.wait_healthy(probes, timeout=timeout, logs=logs, died=died, progress=progress)

    # -- down ----------------------------------------------------------------------------------
    def down(self, *, timeout: float = 30.0) -> None:
        with self._lock():
            records = self.pids.all()
            stop_processes(records, marker=(STACK_MARKER, stack_id(self.settings)), timeout=timeout)
            for record in records:
                self.pids.remove(record.name)

    def leftover_processes(self) -> list[int]:
        """Pids of any process of this stack still running (empty after a clean `down`)."""
        marked = processes_with_marker(STACK_MARKER, stack_id(self.settings))
        return sorted({p.pid for p in [*marked, *session_members(self.pids.all())]})

    # -- status --------------------------------------------------------------------------------
    def endpoints(self) -> Endpoints:
        if not any(self._running().values()):
            raise StackNotRunning(
                f"no embedded stack is running with its state in {self.settings.state_dir}; "
                "start it with `kit up` (or `make up`)."
            )
        s = self.settings
        return Endpoints(s.airflow_url, s.mlflow_url, ADMIN_USER, s.passwords_file)

    def status(self) -> StackStatus:
        if self.state_file.exists():
            with contextlib.suppress(ValueError, KeyError, OSError):
                self.settings = EmbeddedStack.from_state(self.settings.state_dir).settings
        probes = {
            **health.airflow_probes(self.settings.airflow_url),
            "mlflow": health.mlflow_probe(self.settings.mlflow_url),
        }
        components = []
        any_running = False
        for name in COMPONENTS:
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

    def describe(self) -> dict[str, object]:
        return asdict(self.settings)

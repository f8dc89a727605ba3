"""The Compose stack: Airflow 3 + MLflow in containers, from docker-compose.airflow.yml."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from kit.stack import engine_api, parse_request, podman, standin_images
from kit.stack.base import (
    ComponentStatus,
    ConfigError,
    Endpoints,
    HealthTimeoutError,
    PortBusyError,
    ReadyCallback,
    StackError,
    StackNotRunning,
    StackStatus,
    Wait,
)
from kit.stack.compose_env import (
    ADMIN_USER,
    ENV_FILE_NAME,
    PASSWORDS_FILE_NAME,
    SECRET_KEYS,
    ensure_env,
    ensure_host_dirs,
    ensure_password_file,
    read_env_file,
)
from kit.stack.config_check import check_config_file
from kit.stack.health import once_each
from kit.stack.state import StackState, read_state, write_state

COMPOSE_FILE = "docker-compose.airflow.yml"
# Beside it, included when present: local changes (other images, an extra service, more memory)
# without editing the main file, as `docker compose` does with compose.override.yaml.
OVERRIDE_FILE = "docker-compose.airflow.override.yml"
AIRFLOW_CONFIG = Path("config") / "airflow.cfg"

# Compose profiles can only add services; what a profile changes in the always-on Airflow services
# is a KIT_* variable of docker-compose.airflow.yml, set here when the profile is asked for.
PROFILE_SWITCHES: dict[str, dict[str, str]] = {
    "celery": {"KIT_EXECUTOR": "CeleryExecutor"},
    "remote-logs": {"KIT_REMOTE_LOGGING": "True"},
    "email": {},
}

# The services whose HTTP endpoint `up` waits for, and the setting that moves each port.
AIRFLOW_SERVICE, MLFLOW_SERVICE = "airflow-apiserver", "mlflow"
DAG_PROCESSOR_SERVICE = "airflow-dag-processor"
AIRFLOW_HEALTH_PATH, MLFLOW_HEALTH_PATH = "/api/v2/monitor/health", "/health"
PORT_SETTINGS = {
    AIRFLOW_SERVICE: ("KIT_AIRFLOW_PORT", 8080),
    MLFLOW_SERVICE: ("KIT_MLFLOW_PORT", 5000),
}

# The celery profile's workers: one container each (`up --scale`), as many as the native stack's.
WORKER_SERVICE, WORKERS_SETTING, DEFAULT_WORKERS = "airflow-worker", "KIT_CELERY_WORKERS", 2

ENGINE_TIMEOUT = 5.0
LOG_TAIL_LINES = 40


def _run(
    cmd: Sequence[str],
    *,
    timeout: float,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess:
    """Run a command, capturing its output; a missing program or a hang become a StackError."""
    try:
        return subprocess.run(
            list(cmd), capture_output=True, text=True, timeout=timeout, env=env, cwd=cwd
        )
    except FileNotFoundError as exc:
        raise StackError(f"`{cmd[0]}` was not found: install the Docker client") from exc
    except subprocess.TimeoutExpired as exc:
        raise StackError(f"`{' '.join(cmd)}` did not finish within {timeout:.0f} s") from exc


def environment_docker_host() -> str:
    """The engine the environment names (DOCKER_HOST), else Docker's usual socket."""
    return os.environ.get("DOCKER_HOST") or engine_api.DEFAULT_HOST


def docker_engine_problem(timeout: float = ENGINE_TIMEOUT, host: str | None = None) -> str | None:
    """Why no Docker engine answers at ``host`` (default: DOCKER_HOST), or None when one does.
    Asked through the Engine API itself: no `docker` program is needed (podman has none)."""
    return engine_api.problem(host or environment_docker_host(), timeout=timeout)


def docker_engine_available(timeout: float = ENGINE_TIMEOUT) -> bool:
    """True when a Docker engine answers within ``timeout`` seconds."""
    return docker_engine_problem(timeout) is None


def compose_cli() -> list[str]:
    """The Compose program: the v2 plugin (`docker compose`), else the v1 `docker-compose`."""
    if shutil.which("docker") is not None:
        # `docker compose version` needs no engine; it fails only when the plugin is missing.
        done = _run(["docker", "compose", "version"], timeout=ENGINE_TIMEOUT)
        if done.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose") is not None:
        return ["docker-compose"]
    raise StackError(
        "neither `docker compose` (v2 plugin) nor `docker-compose` (v1) is installed; "
        "install the Compose plugin, or Debian's docker-compose package"
    )


def parse_ps_json(text: str) -> list[dict[str, Any]]:
    """Rows of `docker compose ps --format json`: a JSON array (older v2) or one object a line."""
    text = text.strip()
    if not text:
        return []
    if text.startswith("["):
        return list(json.loads(text))
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def rows_from_inspect(containers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`docker inspect` output shaped like `compose ps` rows (v1 `ps` has no JSON output)."""
    rows = []
    for c in containers:
        state = c.get("State") or {}
        labels = (c.get("Config") or {}).get("Labels") or {}
        rows.append(
            {
                "Service": labels.get("com.docker.compose.service", ""),
                "State": state.get("Status", ""),
                "Health": (state.get("Health") or {}).get("Status", ""),
                "ExitCode": state.get("ExitCode", 0),
                "Number": labels.get("com.docker.compose.container-number", ""),
                "Name": c.get("Name", ""),
            }
        )
    return rows


def replica_number(row: dict[str, Any]) -> int:
    """Which container of a scaled service a row is (1 when Compose does not say)."""
    number = str(row.get("Number") or "")
    if not number:
        match = re.search(r"[-_](\d+)$", str(row.get("Name") or ""))
        number = match.group(1) if match else "1"
    return int(number)


def components_of_service(name: str, rows: list[dict[str, Any]]) -> list[ComponentStatus]:
    """A service's status: one component, or one per container when it is scaled
    (``airflow-worker-1``, ``airflow-worker-2``)."""
    if len(rows) <= 1:
        return [component_from_row(name, rows[0] if rows else None)]
    ordered = sorted(rows, key=replica_number)
    return [component_from_row(f"{name}-{replica_number(row)}", row) for row in ordered]


def component_from_row(name: str, row: dict[str, Any] | None) -> ComponentStatus:
    """One service's status from its `ps` row; no row means no container."""
    if row is None:
        return ComponentStatus(name=name, running=False, healthy=False, detail="no container")
    running = row.get("State") == "running"
    health = row.get("Health") or ""
    # A service without a health check is as healthy as it is running.
    healthy = health == "healthy" if health else running
    detail = row.get("State", "")
    if health:
        detail += f" ({health})"
    if not running and row.get("ExitCode"):
        detail += f", exit code {row['ExitCode']}"
    return ComponentStatus(name=name, running=running, healthy=healthy, detail=detail)


def _http_ok(url: str, timeout: float = 3.0) -> tuple[bool, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 (loopback URL)
            return True, f"HTTP {resp.status}", resp.read()
    except urllib.error.HTTPError as exc:
        return False, f"HTTP {exc.code}", b""
    except (urllib.error.URLError, OSError) as exc:
        return False, f"no answer ({getattr(exc, 'reason', exc)})", b""


def airflow_health(base_url: str) -> tuple[bool, str]:
    """Whether every component in Airflow's /api/v2/monitor/health reports healthy, and why not."""
    ok, why, body = _http_ok(base_url + AIRFLOW_HEALTH_PATH)
    if not ok:
        return False, why
    try:
        report = json.loads(body)
    except ValueError:
        return False, "the health endpoint did not return JSON"
    bad = {
        name: (part or {}).get("status")
        for name, part in report.items()
        if isinstance(part, dict) and part.get("status") != "healthy"
    }
    if bad:
        return False, ", ".join(f"{name} is {status}" for name, status in bad.items())
    return True, "healthy"


def mlflow_health(base_url: str) -> tuple[bool, str]:
    """Whether MLflow's /health answers."""
    ok, why, _ = _http_ok(base_url + MLFLOW_HEALTH_PATH)
    return ok, "healthy" if ok else why


class ComposeStack:
    """Airflow 3 + MLflow run by Docker Compose from ``compose_file`` in ``project_dir``."""

    kind = "compose"

    def __init__(
        self,
        project_dir: Path,
        state_dir: Path,
        compose_file: str | Path = COMPOSE_FILE,
        profiles: Sequence[str] | None = None,
        *,
        airflow_port: int | None = None,
        mlflow_port: int | None = None,
        build: bool = True,
        cli: Sequence[str] | None = None,
    ) -> None:
        self.project_dir = Path(project_dir).resolve()
        self.state_dir = Path(state_dir)
        self.compose_path = (self.project_dir / compose_file).resolve()
        # Explicit ports win over KIT_*_PORT of the environment and .env.
        self._ports = {
            name: str(port)
            for name, port in (("KIT_AIRFLOW_PORT", airflow_port), ("KIT_MLFLOW_PORT", mlflow_port))
            if port is not None
        }
        if profiles is None:
            # Compose's own variable, from the environment or .env: the kit and a manual
            # `docker compose` then agree on the profiles.
            listed = self.setting("COMPOSE_PROFILES", "")
            profiles = [p.strip() for p in listed.split(",") if p.strip()]
        unknown = sorted(set(profiles) - set(PROFILE_SWITCHES))
        if unknown:
            raise StackError(
                f"unknown Compose profile(s) {', '.join(unknown)}; "
                f"known: {', '.join(PROFILE_SWITCHES)}"
            )
        self.profiles = tuple(dict.fromkeys(profiles))
        self.build = build  # rebuild the image on `up` (cached layers make it quick)
        self._cli = list(cli) if cli else None
        # podman's API socket, when the kit starts one (no DOCKER_HOST and no Docker answering).
        self.podman_dir = self.state_dir / "podman"

    # ------------------------------------------------------------------ commands
    @property
    def cli(self) -> list[str]:
        if self._cli is None:
            self._cli = compose_cli()
        return self._cli

    def command(self, *args: str, profiles: Sequence[str] | None = None) -> list[str]:
        """The full Compose command line for ``args`` (profiles default to the stack's)."""
        cmd = [*self.cli]
        for path in self.compose_files():
            cmd += ["-f", str(path)]
        for profile in self.profiles if profiles is None else profiles:
            cmd += ["--profile", profile]
        return cmd + list(args)

    def compose_files(self) -> list[Path]:
        """The Compose file, and its override beside it when there is one."""
        override = self.compose_path.parent / OVERRIDE_FILE
        return [self.compose_path, *([override] if override.is_file() else [])]

    def celery_workers(self) -> int:
        """How many worker containers the celery profile starts (``KIT_CELERY_WORKERS``)."""
        value = self.setting(WORKERS_SETTING, str(DEFAULT_WORKERS))
        if not value.isdigit() or int(value) < 1:
            raise StackError(
                f"{WORKERS_SETTING}={value!r}: give the number of Celery worker containers, "
                f"a whole number from 1 (default {DEFAULT_WORKERS})"
            )
        return int(value)

    def up_args(self) -> list[str]:
        args = ["up", "-d", *(["--build"] if self.build else [])]
        if "celery" in self.profiles:
            args += ["--scale", f"{WORKER_SERVICE}={self.celery_workers()}"]
        return args

    def down_args(self, timeout: float = 30.0) -> list[str]:
        return ["down", "--remove-orphans", "-t", str(int(timeout))]

    def up_command(self) -> list[str]:
        """`compose up -d [--build]` with this stack's profiles."""
        return self.command(*self.up_args())

    def down_command(self, timeout: float = 30.0) -> list[str]:
        """`compose down` with every profile, so services a profile started stop too."""
        return self.command(*self.down_args(timeout), profiles=self.all_profiles())

    def docker_host(self) -> str:
        """The engine this stack uses: DOCKER_HOST when set, else the podman socket the kit
        started in the state folder when it answers, else Docker's usual socket."""
        if os.environ.get("DOCKER_HOST"):
            return os.environ["DOCKER_HOST"]
        if podman.answers(self.podman_dir):
            return podman.docker_host(self.podman_dir)
        return engine_api.DEFAULT_HOST

    def environment(self) -> dict[str, str]:
        """The environment Compose runs in: ours, minus secrets (so .env decides), plus switches,
        the engine and the stand-in images the kit built (unless set in the environment or .env)."""
        env = {k: v for k, v in os.environ.items() if k not in SECRET_KEYS}
        env.update(self._ports)
        env["DOCKER_HOST"] = self.docker_host()
        for name, image in standin_images.recorded(self.state_dir).items():
            if not self.setting(name, ""):
                env[name] = image
        # Links Airflow writes (failure e-mails) point where people open it, unless set already
        # (in the environment or .env).
        env["KIT_AIRFLOW_URL"] = self.setting("KIT_AIRFLOW_URL", self._urls()[0])
        for profile in self.profiles:
            env.update(PROFILE_SWITCHES[profile])
        return env

    def _compose(
        self, *args: str, timeout: float, profiles: Sequence[str] | None = None
    ) -> subprocess.CompletedProcess:
        return _run(
            self.command(*args, profiles=profiles),
            timeout=timeout,
            env=self.environment(),
            cwd=self.project_dir,
        )

    # ------------------------------------------------------------------ the compose file
    def _services(self) -> dict[str, dict[str, Any]]:
        """The services of the Compose file and its override (an override's keys win)."""
        services: dict[str, dict[str, Any]] = {}
        for path in self.compose_files():
            found = (yaml.safe_load(path.read_text()) or {}).get("services") or {}
            for name, service in found.items():
                services[name] = {**services.get(name, {}), **(service or {})}
        return services

    def all_profiles(self) -> list[str]:
        found = {p for svc in self._services().values() for p in svc.get("profiles") or ()}
        return sorted(found)

    def _in_profiles(self, service: dict[str, Any]) -> bool:
        wanted = service.get("profiles")
        return not wanted or bool(set(wanted) & set(self.profiles))

    def long_running_services(self) -> list[str]:
        """Services that should stay up under this stack's profiles (one-shots left out)."""
        return [
            name
            for name, svc in self._services().items()
            if self._in_profiles(svc)
            and svc.get("restart") in ("always", "unless-stopped", "on-failure")
        ]

    # ------------------------------------------------------------------ settings
    def setting(self, name: str, default: str) -> str:
        """A variable as Compose sees it: the environment, then .env, then the file's default."""
        if name in self._ports:
            return self._ports[name]
        if name in os.environ and name not in SECRET_KEYS:
            return os.environ[name]
        return read_env_file(self.project_dir / ENV_FILE_NAME).get(name, default)

    def _host(self) -> str:
        bind = self.setting("KIT_BIND_ADDRESS", "127.0.0.1")
        return "127.0.0.1" if bind in ("", "0.0.0.0", "::") else bind

    def _port(self, service: str) -> int:
        name, default = PORT_SETTINGS[service]
        return int(self.setting(name, str(default)))

    def _urls(self) -> tuple[str, str]:
        host = self._host()
        return (
            f"http://{host}:{self._port(AIRFLOW_SERVICE)}",
            f"http://{host}:{self._port(MLFLOW_SERVICE)}",
        )

    def _endpoints(self) -> Endpoints:
        airflow_url, mlflow_url = self._urls()
        return Endpoints(
            airflow_url=airflow_url,
            mlflow_url=mlflow_url,
            username=ADMIN_USER,
            password_file=self.state_dir / PASSWORDS_FILE_NAME,
        )

    def check_ports(self) -> None:
        """Raise PortBusyError when a port the stack publishes is taken by another program."""
        components = {AIRFLOW_SERVICE: "Airflow API server", MLFLOW_SERVICE: "MLflow server"}
        for service, component in components.items():
            port = self._port(service)
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                # Lets a port in TIME_WAIT count as free; a listening one still fails.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    sock.bind((self._host(), port))
                except OSError as exc:
                    raise PortBusyError(port, component, PORT_SETTINGS[service][0]) from exc

    # ------------------------------------------------------------------ state
    def _write_state(self) -> None:
        airflow_url, mlflow_url = self._urls()
        write_state(
            self.state_dir,
            StackState(
                kind=self.kind,
                airflow_url=airflow_url,
                mlflow_url=mlflow_url,
                username=ADMIN_USER,
                password_file=self.state_dir / PASSWORDS_FILE_NAME,
                dags_dir=self.project_dir / "dags",
                project_dir=self.project_dir,
                task_logs_dir=self.project_dir / "logs",  # bind-mounted at /opt/airflow/logs
                compose_file=str(self.compose_path),
                profiles=list(self.profiles),
                ports={
                    "airflow_port": self._port(AIRFLOW_SERVICE),
                    "mlflow_port": self._port(MLFLOW_SERVICE),
                },
            ),
        )

    @classmethod
    def from_state(cls, state_dir: Path, **overrides: Any) -> ComposeStack:
        """The Compose stack last started with ``state_dir``: its file, profiles and ports
        (``overrides`` that are not None replace them)."""
        state = read_state(state_dir)
        if state.kind != cls.kind:
            raise StackError(f"the stack of {state_dir} is a {state.kind} stack, not a Compose one")
        backend = state.backend()
        values: dict[str, Any] = {
            "compose_file": backend.get("compose_file", COMPOSE_FILE),
            "profiles": backend.get("profiles"),
            **(backend.get("ports") or {}),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(project_dir=state.project_dir, state_dir=Path(state_dir), **values)

    def request_parse(self, relative_fileloc: str, bundle: str = "dags-folder") -> None:
        """Ask Airflow to parse a file now, from inside the dag-processor's container."""
        done = self._compose(
            "exec", "-T", DAG_PROCESSOR_SERVICE, *parse_request.command(relative_fileloc, bundle),
            timeout=120,
        )  # fmt: skip
        parse_request.outcome(done.returncode, done.stdout, done.stderr, relative_fileloc)

    # ------------------------------------------------------------------ Stack protocol
    def _require_engine(self, progress: bool = False) -> None:
        """An engine that answers: DOCKER_HOST's or Docker's; else, where podman is installed,
        podman's API started by the kit in the state folder (``kit down`` stops it)."""
        problem = docker_engine_problem(host=self.docker_host())
        if problem is None:
            return
        if not os.environ.get("DOCKER_HOST") and podman.installed():
            if progress:
                print(f"starting podman's API at {self.podman_dir}", file=sys.stderr)
            podman.start(self.podman_dir)
            return
        raise StackError(
            f"no Docker engine answers: {problem}\n"
            "Start Docker (or point DOCKER_HOST at a running engine), install podman "
            "(`sudo scripts/container-engine.sh install`: the kit then starts it), "
            "or run the embedded stack: `kit up --stack embedded`."
        )

    def _require_images(self, progress: bool = False) -> None:
        """Where the engine is podman, no image is named by the user and no image registry
        answers: build the stand-in images (scripts/build-images.sh) and record them."""
        if self.setting("KIT_AIRFLOW_BASE_IMAGE", ""):
            return  # the user (or an earlier build, through .env) chose the images
        if not engine_api.is_podman(self.docker_host(), timeout=ENGINE_TIMEOUT):
            return
        if standin_images.registry_answers():
            return
        if progress:
            print("no image registry answers: building the stand-in images", file=sys.stderr)
        standin_images.build(self.state_dir, progress=progress)

    def up(
        self,
        *,
        timeout: float = 180.0,
        progress: bool = True,
        wait: Wait = "all",
        on_ready: ReadyCallback | None = None,
    ) -> Endpoints:
        """Build and start the containers (idempotent); wait until Airflow answers healthy
        (``wait="airflow"``) or until every container is (``"all"``). Compose starts them all at
        once: the engine, not the kit, decides their order (``depends_on``)."""
        if not (self.project_dir / AIRFLOW_CONFIG).is_file():
            raise StackError(f"{self.project_dir / AIRFLOW_CONFIG} is missing: the stack mounts it")
        if not self.compose_path.is_file():
            raise StackError(f"{self.compose_path} is missing")
        # The containers get their AIRFLOW__* variables from the Compose file, not from us.
        if problems := [str(p) for p in check_config_file(self.project_dir / AIRFLOW_CONFIG)]:
            raise ConfigError(problems)
        ensure_env(self.project_dir, self.state_dir)
        ensure_password_file(self.project_dir, self.state_dir)
        ensure_host_dirs(self.project_dir)
        self._require_engine(progress)
        self._require_images(progress)
        if not self.status().running:
            self.check_ports()
        if progress:
            print(f"starting the Compose stack: {' '.join(self.up_command())}", file=sys.stderr)
        # Building the image the first time takes minutes; the health wait has its own timeout.
        done = self._compose(*self.up_args(), timeout=max(timeout, 1800))
        if done.returncode != 0:
            raise StackError(f"`docker compose up` failed:\n{done.stderr.strip()[-4000:]}")
        self.wait_healthy(timeout=timeout, progress=progress, wait=wait, on_ready=on_ready)
        self._write_state()
        return self._endpoints()

    def wait_healthy(
        self,
        *,
        timeout: float,
        progress: bool = False,
        wait: Wait = "all",
        on_ready: ReadyCallback | None = None,
    ) -> None:
        """Poll Airflow's and MLflow's health endpoints; on timeout, raise with the logs."""
        airflow_url, mlflow_url = self._urls()
        deadline = time.monotonic() + timeout
        ready = once_each(on_ready)
        while True:
            checks = {
                AIRFLOW_SERVICE: airflow_health(airflow_url),
                MLFLOW_SERVICE: mlflow_health(mlflow_url),
            }
            for name in (n for n, (ok, _) in checks.items() if ok):
                ready(name, 0.0)
            if wait == "airflow" and checks[AIRFLOW_SERVICE][0]:
                return
            if all(ok for ok, _ in checks.values()):
                # ... and every container's own health check, so that `kit status` right after
                # `kit up` says healthy too (a check that has not run yet says "starting").
                waiting = [c for c in self.status().components if not c.healthy]
                if not waiting:
                    return
                checks.update({c.name: (False, c.detail) for c in waiting})
            if time.monotonic() >= deadline:
                break
            if progress:
                waiting = ", ".join(name for name, (ok, _) in checks.items() if not ok)
                print(f"waiting for {waiting} ...", file=sys.stderr)
            time.sleep(3)
        unhealthy = {name: why for name, (ok, why) in checks.items() if not ok}
        for comp in self.status().components:
            if not comp.healthy:
                unhealthy.setdefault(comp.name, comp.detail or "not healthy")
        raise HealthTimeoutError(unhealthy, self.log_tails(list(unhealthy)), timeout)

    def log_tails(self, services: Sequence[str], lines: int = LOG_TAIL_LINES) -> dict[str, str]:
        """The last ``lines`` of each service's log (`docker compose logs --tail`)."""
        tails = {}
        for service in services:
            done = self._compose(
                "logs",
                "--no-color",
                "--tail",
                str(lines),
                service,
                timeout=30,
                profiles=self.all_profiles(),
            )
            if done.returncode == 0:
                tails[service] = done.stdout
            else:
                # Compose v1 answers a missing engine with a traceback: its last lines say why.
                failure = done.stderr.strip().splitlines()[-3:]
                tails[service] = "`logs` failed: " + "\n".join(failure)
        return tails

    def down(self, *, timeout: float = 30.0) -> None:
        """Stop and remove the containers of every profile; volumes (data) are kept. Then the
        podman API the kit started for this stack, if it did."""
        if docker_engine_problem(host=self.docker_host()) is None:
            done = self._compose(
                *self.down_args(timeout), timeout=timeout + 60, profiles=self.all_profiles()
            )
            if done.returncode != 0:
                raise StackError(f"`docker compose down` failed:\n{done.stderr.strip()[-4000:]}")
        # (No engine: no container of ours can be running.)
        podman.stop(self.podman_dir)

    def _ps_rows(self) -> list[dict[str, Any]]:
        if self.cli[0] == "docker-compose":
            ids = self._compose("ps", "-q", timeout=30, profiles=self.all_profiles())
            container_ids = ids.stdout.split()
            if ids.returncode != 0 or not container_ids:
                return []
            try:
                inspected = engine_api.inspect_containers(
                    self.docker_host(), container_ids, timeout=30
                )
            except engine_api.EngineError as exc:
                raise StackError(str(exc)) from exc
            return rows_from_inspect(inspected)
        done = self._compose(
            "ps", "--all", "--format", "json", timeout=30, profiles=self.all_profiles()
        )
        return parse_ps_json(done.stdout) if done.returncode == 0 else []

    def status(self) -> StackStatus:
        """Each long-running service's state; never raises because the stack or engine is down."""
        services = self.long_running_services()
        problem = docker_engine_problem(host=self.docker_host())
        if problem is not None:
            detail = f"no Docker engine answers: {problem}"
            components = [ComponentStatus(n, running=False, detail=detail) for n in services]
            return StackStatus(kind=self.kind, running=False, components=components)
        try:
            rows = self._ps_rows()
        except (StackError, ValueError) as exc:
            components = [ComponentStatus(n, running=False, detail=str(exc)) for n in services]
            return StackStatus(kind=self.kind, running=False, components=components)
        components = [
            component
            for name in services
            for component in components_of_service(
                name, [row for row in rows if row.get("Service") == name]
            )
        ]
        by_name = {c.name: c for c in components}
        running = all(
            by_name.get(name) is not None and by_name[name].running
            for name in (AIRFLOW_SERVICE, MLFLOW_SERVICE)
        )
        return StackStatus(
            kind=self.kind,
            running=running,
            endpoints=self._endpoints() if running else None,
            components=components,
        )

    def endpoints(self) -> Endpoints:
        """URLs and login of the running stack; StackNotRunning when its containers are down."""
        if not self.status().running:
            raise StackNotRunning(
                "the Compose stack is not running; start it with `kit up --stack compose`"
            )
        return self._endpoints()

    def log_path(self, component: str) -> Path | None:
        """None: container logs are read with `docker compose logs <service>`."""
        return None

    def log_names(self) -> list[str]:
        """The services whose logs `kit logs NAME` shows (the one-shots too)."""
        return [name for name, svc in self._services().items() if self._in_profiles(svc)]

    def log_tail(self, component: str, lines: int = 25) -> str | None:
        """The last ``lines`` of a service's container log; None for an unknown service."""
        if component not in self._services():
            return None
        return self.log_tails([component], lines)[component]

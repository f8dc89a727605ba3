"""The Compose stack: Airflow 3 + MLflow in containers, from docker-compose.airflow.yml.

Its engine and the Compose program are found by ``kit.stack.compose_engine``, its ``.env`` and
host folders written by ``kit.stack.compose_env``, `compose ps` read by ``kit.stack.compose_ps``,
and its health waited for by ``kit.stack.compose_health`` (the embedded stack's probes).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from kit.bundle.config import BUNDLE_NAME
from kit.bundle.deploy import ensure as ensure_bundle
from kit.bundle.repo import repo_path
from kit.stack import compose_health, engine_api, parse_request, podman, standin_images
from kit.stack.base import (
    ComponentStatus,
    ConfigError,
    Endpoints,
    PortBusyError,
    ReadyCallback,
    StackError,
    StackNotRunning,
    StackStatus,
    Wait,
)
from kit.stack.compose_engine import ENGINE_TIMEOUT, compose_cli, engine, run
from kit.stack.compose_engine import docker_host as engine_docker_host
from kit.stack.compose_env import (
    ADMIN_USER,
    ENV_FILE_NAME,
    PASSWORDS_FILE_NAME,
    SECRET_KEYS,
    ensure_env,
    ensure_host_dirs,
    ensure_mlflow_password_file,
    ensure_password_file,
)
from kit.stack.compose_inputs import inputs_digest
from kit.stack.compose_project import (
    AIRFLOW_CONFIG,
    AIRFLOW_SERVICE,
    COMPOSE_FILE,
    DAG_PROCESSOR_SERVICE,
    MLFLOW_SERVICE,
    PORT_SETTINGS,
    PROFILE_SWITCHES,
    WORKER_SERVICE,
    ComposeProject,
)
from kit.stack.compose_ps import parse_ps_json, rows_from_inspect, stack_status
from kit.stack.config_check import check_config_file
from kit.stack.db_roles import LEGACY_WARNING
from kit.stack.mlflow_auth import ADMIN_USER as MLFLOW_ADMIN
from kit.stack.mlflow_auth import PASSWORDS_FILE_NAME as MLFLOW_PASSWORDS_FILE_NAME
from kit.stack.settings import StackSettings
from kit.stack.state import StackState, read_state, write_state

LOG_TAIL_LINES = 40
# Every Airflow service and MLflow run the one image of the Compose file's x-kit-image, and each
# names its build: Compose v1 (`up --build`) built it again for each of the 8 services (minutes
# on 2 cores, all from the cache). Built once, through one service with no profile.
BUILD_SERVICE = "airflow-init"


class ComposeStack(ComposeProject):
    """Airflow 3 + MLflow run by Docker Compose from ``compose_file`` in ``project_dir``, with its
    state (and the podman socket the kit may start) in ``state_dir``."""

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
        super().__init__(
            project_dir, compose_file, profiles, airflow_port=airflow_port, mlflow_port=mlflow_port
        )
        self.state_dir = Path(state_dir)
        self.build = build  # rebuild the image on `up` (cached layers make it quick)
        self._cli = list(cli) if cli else None
        # podman's API socket, when the kit starts one (no DOCKER_HOST and no Docker answering).
        self.podman_dir = self.state_dir / "podman"

    # ------------------------------------------------------------------ commands
    @property
    def cli(self) -> list[str]:
        """The Compose program, found on first use (`docker compose` or `docker-compose`)."""
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

    def build_command(self) -> list[str]:
        """`compose build SERVICE`: the kit's image, once for every service that runs it."""
        return self.command("build", BUILD_SERVICE)

    def up_args(self) -> list[str]:
        """`up -d`, scaled to the Celery workers under the celery profile (the image is built
        before, by ``build_command``, when ``build``)."""
        args = ["up", "-d"]
        if "celery" in self.profiles:
            args += ["--scale", f"{WORKER_SERVICE}={self.celery_workers()}"]
        return args

    def down_args(self, timeout: float = 30.0) -> list[str]:
        """`down --remove-orphans -t SECONDS`."""
        return ["down", "--remove-orphans", "-t", str(int(timeout))]

    def up_command(self) -> list[str]:
        """`compose up -d` with this stack's profiles."""
        return self.command(*self.up_args())

    def down_command(self, timeout: float = 30.0) -> list[str]:
        """`compose down` with every profile, so services a profile started stop too."""
        return self.command(*self.down_args(timeout), profiles=self.all_profiles())

    def docker_host(self) -> str:
        """The engine this stack uses: DOCKER_HOST when set, else the podman socket the kit
        started in the state folder when it answers, else Docker's usual socket."""
        return engine_docker_host(self.podman_dir)

    def engine_problem(self) -> str | None:
        """Why the engine this stack uses does not answer (None: it does), asked once."""
        return engine(self.podman_dir)[1]

    def environment(self) -> dict[str, str]:
        """The environment Compose runs in: ours, minus secrets (so .env decides), plus switches,
        the engine and the stand-in images the kit built (unless set in the environment or .env)."""
        env = {k: v for k, v in os.environ.items() if k not in SECRET_KEYS}
        env.update(self._ports)
        env["DOCKER_HOST"] = self.docker_host()
        env["KIT_BUNDLE_REPO"] = str(repo_path(self.state_dir))
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
        return run(
            self.command(*args, profiles=profiles),
            timeout=timeout,
            env=self.environment(),
            cwd=self.project_dir,
        )

    def _endpoints(self) -> Endpoints:
        airflow_url, mlflow_url = self._urls()
        return Endpoints(
            airflow_url=airflow_url,
            mlflow_url=mlflow_url,
            username=ADMIN_USER,
            password_file=self.state_dir / PASSWORDS_FILE_NAME,
            mlflow_username=MLFLOW_ADMIN,
            mlflow_password_file=self.state_dir / MLFLOW_PASSWORDS_FILE_NAME,
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
    def inputs_digest(self) -> str:
        """What `compose up` would start the stack from, one digest (kit.stack.compose_inputs)."""
        return inputs_digest(
            self.compose_files(),
            self.project_dir / ENV_FILE_NAME,
            self.up_args(),
            self.environment(),
            build_context=self.project_dir if self.build else None,
        )

    def running_from(self, inputs: str, status: StackStatus | None = None) -> bool:
        """Whether every container of the stack is running (``status``, else asked now), started
        by `kit up` from ``inputs``."""
        try:
            recorded = read_state(self.state_dir).backend().get("compose_inputs")
        except (StackError, OSError, ValueError):
            return False
        if recorded != inputs:
            return False
        status = status or self.status()
        return status.running and all(c.running for c in status.components)

    def _write_state(self, inputs: str | None = None) -> None:
        airflow_url, mlflow_url = self._urls()
        write_state(
            self.state_dir,
            StackState(
                kind=self.kind,
                airflow_url=airflow_url,
                mlflow_url=mlflow_url,
                username=ADMIN_USER,
                password_file=self.state_dir / PASSWORDS_FILE_NAME,
                mlflow_username=MLFLOW_ADMIN,
                mlflow_password_file=self.state_dir / MLFLOW_PASSWORDS_FILE_NAME,
                dags_dir=self.project_dir / "dags",
                project_dir=self.project_dir,
                task_logs_dir=self.project_dir / "logs",  # bind-mounted at /opt/airflow/logs
                compose_file=str(self.compose_path),
                profiles=list(self.profiles),
                compose_inputs=inputs,
                ports={
                    "airflow_port": self._port(AIRFLOW_SERVICE),
                    "mlflow_port": self._port(MLFLOW_SERVICE),
                },
            ),
        )

    @classmethod
    def from_settings(
        cls, settings: StackSettings, *, ports: Mapping[str, int], shape: Mapping[str, object]
    ) -> ComposeStack:
        """A Compose stack for the project and state folder of ``settings``, publishing the
        Airflow and MLflow ``ports`` asked for (it runs no other server of the kit's)."""
        _refuse_shape(shape)
        return cls(settings.project_dir, settings.state_dir, **_own_ports(ports))

    @classmethod
    def from_state(
        cls,
        state_dir: Path,
        *,
        ports: Mapping[str, int] | None = None,
        shape: Mapping[str, object] | None = None,
    ) -> ComposeStack:
        """The Compose stack last started with ``state_dir``: its file, profiles and ports
        (Airflow's and MLflow's ``ports`` that are not None replace them)."""
        _refuse_shape(shape or {})
        state = read_state(state_dir)
        if state.kind != cls.kind:
            raise StackError(f"the stack of {state_dir} is a {state.kind} stack, not a Compose one")
        backend = state.backend()
        values: dict[str, Any] = {
            "compose_file": backend.get("compose_file", COMPOSE_FILE),
            "profiles": backend.get("profiles"),
            **(backend.get("ports") or {}),
        }
        values.update({k: v for k, v in _own_ports(ports or {}).items() if v is not None})
        return cls(project_dir=state.project_dir, state_dir=Path(state_dir), **values)

    @property
    def shape(self) -> None:
        """None: its services and profiles (COMPOSE_PROFILES) are its shape."""
        return None

    @property
    def database(self) -> None:
        """None: the Compose file decides the metadata database."""
        return None

    def fast_path_report(self) -> None:
        """None: the containers run Airflow's own commands, none of the kit's fast paths."""
        return None

    def request_parse(self, relative_fileloc: str, bundle: str = BUNDLE_NAME) -> None:
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
        problem = self.engine_problem()
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
        self.prepare()
        self._require_engine(progress)
        self._require_images(progress)
        inputs, status = self.inputs_digest(), self.status()
        if self.running_from(inputs, status):
            if progress:
                print("the Compose stack is up from these files already", file=sys.stderr)
            self.wait_healthy(timeout=timeout, progress=progress, wait=wait, on_ready=on_ready)
            return self._endpoints()
        if not status.running:
            self.check_ports()
        # Building the image the first time takes minutes; the health wait has its own timeout.
        if self.build:
            if progress:
                print(f"building the image: {' '.join(self.build_command())}", file=sys.stderr)
            done = self._compose("build", BUILD_SERVICE, timeout=max(timeout, 1800))
            if done.returncode != 0:
                raise StackError(f"`docker compose build` failed:\n{done.stderr.strip()[-4000:]}")
        if progress:
            print(f"starting the Compose stack: {' '.join(self.up_command())}", file=sys.stderr)
        done = self._compose(*self.up_args(), timeout=max(timeout, 1800))
        if done.returncode != 0:
            raise StackError(f"`docker compose up` failed:\n{done.stderr.strip()[-4000:]}")
        self.wait_healthy(timeout=timeout, progress=progress, wait=wait, on_ready=on_ready)
        self._write_state(inputs)
        if warning := self.legacy_roles_warning():
            print(warning, file=sys.stderr)
        return self._endpoints()

    def prepare(self) -> None:
        """Write what Compose needs before it can start the file: `.env`, the login files, the
        bind-mounted folders and the bundle (each only when missing), after the exposure check."""
        ensure_env(self.project_dir, self.state_dir)
        # Beyond loopback only with logins: before anything starts.
        self.check_exposure(self.project_dir / AIRFLOW_CONFIG)
        ensure_password_file(self.project_dir, self.state_dir)
        ensure_mlflow_password_file(self.project_dir, self.state_dir)
        ensure_host_dirs(self.project_dir)
        # Bind-mounted read-only into every Airflow container: made (once) before they start.
        ensure_bundle(self.state_dir, self.project_dir, self.project_dir / "dags")

    def legacy_roles_warning(self) -> str | None:
        """What airflow-init said of a database volume made before the least-privilege roles
        (kit.stack.db_roles), else None."""
        said = self.log_tails(["airflow-init"], 200).get("airflow-init") or ""
        return LEGACY_WARNING if LEGACY_WARNING[:80] in said.replace("\n", " ") else None

    def wait_healthy(
        self,
        *,
        timeout: float,
        progress: bool = False,
        wait: Wait = "all",
        on_ready: ReadyCallback | None = None,
    ) -> None:
        """Poll Airflow's and MLflow's health endpoints, then the containers' checks; on timeout,
        raise with the logs (kit.stack.compose_health)."""
        compose_health.wait_healthy(
            self._urls(), self.status, self.log_tails,
            timeout=timeout, progress=progress, wait=wait, on_ready=on_ready,
        )  # fmt: skip

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
        if self.engine_problem() is None:
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
        problem = self.engine_problem()
        if problem is not None:
            detail = f"no Docker engine answers: {problem}"
            components = [ComponentStatus(n, running=False, detail=detail) for n in services]
            return StackStatus(kind=self.kind, running=False, components=components)
        try:
            rows = self._ps_rows()
        except (StackError, ValueError) as exc:
            components = [ComponentStatus(n, running=False, detail=str(exc)) for n in services]
            return StackStatus(kind=self.kind, running=False, components=components)
        return stack_status(self.kind, services, rows, self._endpoints)

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


def _refuse_shape(shape: Mapping[str, object]) -> None:
    """A StackError for a shape asked of the Compose stack (it has profiles instead)."""
    if any(value is not None for value in shape.values()):
        raise StackError(
            "--sqlite/--postgres/--celery choose the shape of the embedded stack; the Compose "
            "stack has its own (COMPOSE_PROFILES=celery, see docs/compose.md)."
        )


def _own_ports(ports: Mapping[str, int | None]) -> dict[str, int | None]:
    """The ports the Compose stack publishes, of those asked for (it runs no PostgreSQL or Redis
    of the kit's, so their ports are not its to use)."""
    return {name: ports.get(name) for name in ("airflow_port", "mlflow_port")}

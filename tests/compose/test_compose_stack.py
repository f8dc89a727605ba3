"""ComposeStack against the real docker client, with no engine behind it (none exists here)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from kit.stack import engine_api, podman, standin_images
from kit.stack.base import HealthTimeoutError, PortBusyError, Stack, StackError, StackNotRunning
from kit.stack.compose import BUILD_SERVICE, ComposeStack
from kit.stack.compose_engine import compose_cli, docker_engine_available, docker_engine_problem
from kit.stack.compose_env import ensure_env
from kit.stack.compose_project import COMPOSE_FILE, OVERRIDE_FILE
from kit.stack.compose_ps import (
    component_from_row,
    components_of_service,
    parse_ps_json,
    replica_number,
    rows_from_inspect,
)
from kit.stack.health import airflow_probe

from . import live
from .conftest import REPO, compose_model


@pytest.fixture
def no_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point the real docker client at a socket nobody listens on, whatever this machine has."""
    host = f"unix://{tmp_path}/no-engine.sock"
    monkeypatch.setenv("DOCKER_HOST", host)
    return host


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project folder like the repository's: the Compose file and config/airflow.cfg."""
    folder = tmp_path / "project"
    (folder / "config").mkdir(parents=True)
    shutil.copy(REPO / COMPOSE_FILE, folder / COMPOSE_FILE)
    shutil.copy(REPO / "config" / "airflow.cfg", folder / "config" / "airflow.cfg")
    return folder


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_implements_the_stack_protocol(tmp_path: Path) -> None:
    stack = ComposeStack(REPO, tmp_path, profiles=())
    assert isinstance(stack, Stack) and stack.kind == "compose"
    assert stack.log_path("airflow-scheduler") is None


def test_engine_is_asked_for_real(no_engine: str) -> None:
    assert docker_engine_available(timeout=10) is False
    problem = docker_engine_problem(timeout=10)
    assert problem and "no-engine.sock" in problem  # where it asked (the Engine API, no client)


def test_compose_program_prefers_v2_and_falls_back_to_v1() -> None:
    # Asked for real: Docker's client with its v2 plugin where there is one; on a fresh machine
    # (no `docker` program: podman needs none) or a client without the plugin, v1.
    has_plugin = shutil.which("docker") is not None and (
        subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0
    )
    expected = ["docker", "compose"] if has_plugin else ["docker-compose"]
    assert compose_cli() == expected


def test_building_one_service_builds_the_image_of_every_service_with_a_build() -> None:
    """`kit up` builds BUILD_SERVICE only: every service that names a build names the same image
    and build, and BUILD_SERVICE is in no profile (so it is built whatever the profiles)."""
    services = compose_model()["services"]
    built = {name: (s["image"], s["build"]) for name, s in services.items() if "build" in s}
    assert len(built) >= 7, built
    assert all(both == built[BUILD_SERVICE] for both in built.values()), built
    assert "profiles" not in services[BUILD_SERVICE]


def test_commands_v1_and_v2(tmp_path: Path) -> None:
    compose = str(REPO / COMPOSE_FILE)
    v1 = ComposeStack(REPO, tmp_path, profiles=["celery"], cli=["docker-compose"])
    assert v1.up_command() == [
        "docker-compose",
        "-f",
        compose,
        "--profile",
        "celery",
        "up",
        "-d",
        "--scale",
        "airflow-worker=2",
    ]
    # The image once, through a service every profile has (not once per service that runs it).
    assert v1.build_command() == [
        "docker-compose", "-f", compose, "--profile", "celery", "build", "airflow-init"
    ]  # fmt: skip
    v2 = ComposeStack(
        REPO, tmp_path, profiles=("email", "email"), build=False, cli=["docker", "compose"]
    )
    assert v2.up_command() == ["docker", "compose", "-f", compose, "--profile", "email", "up", "-d"]
    every = ["--profile", "celery", "--profile", "email", "--profile", "remote-logs"]
    assert v2.down_command(timeout=12) == [
        "docker", "compose", "-f", compose, *every, "down", "--remove-orphans", "-t", "12"
    ]  # fmt: skip


def test_celery_workers_are_containers_of_their_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIT_CELERY_WORKERS", "3")
    stack = ComposeStack(REPO, tmp_path, profiles=["celery"], cli=["docker-compose"])
    assert stack.up_args()[-2:] == ["--scale", "airflow-worker=3"]
    monkeypatch.setenv("KIT_CELERY_WORKERS", "two")
    with pytest.raises(StackError, match="KIT_CELERY_WORKERS='two'.*whole number"):
        stack.up_args()
    # Without the profile there is no worker to scale.
    assert "--scale" not in ComposeStack(REPO, tmp_path, profiles=[]).up_args()


def test_a_scaled_service_shows_each_container() -> None:
    rows = rows_from_inspect(
        [
            {
                "Name": f"proj_airflow-worker_{n}",
                "State": {"Status": "running", "Health": {"Status": health}},
                "Config": {"Labels": {"com.docker.compose.service": "airflow-worker",
                                      "com.docker.compose.container-number": str(n)}},
            }
            for n, health in ((2, "starting"), (1, "healthy"))
        ]
    )  # fmt: skip
    shown = components_of_service("airflow-worker", rows)
    assert [(c.name, c.healthy) for c in shown] == [
        ("airflow-worker-1", True),
        ("airflow-worker-2", False),
    ]
    # Compose v2's rows carry the number only in the container's name.
    assert replica_number({"Name": "proj-airflow-worker-7"}) == 7
    assert [c.name for c in components_of_service("redis", rows[:1])] == ["redis"]


def test_an_override_file_beside_the_compose_file_is_included(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(REPO / COMPOSE_FILE, project / COMPOSE_FILE)
    stack = ComposeStack(project, tmp_path / "state", profiles=["email"], cli=["docker-compose"])
    assert stack.up_command()[:3] == ["docker-compose", "-f", str(project / COMPOSE_FILE)]
    (project / OVERRIDE_FILE).write_text(
        "services:\n  s3:\n    profiles: [email]\n    image: moto\n    restart: always\n"
        "  mailpit:\n    image: my/mailpit\n"
    )
    assert stack.up_command()[:5] == [
        "docker-compose", "-f", str(project / COMPOSE_FILE), "-f", str(project / OVERRIDE_FILE)
    ]  # fmt: skip
    # Its services count: the stack waits for them and shows them.
    assert "s3" in stack.long_running_services()
    assert "mailpit" in stack.long_running_services()


def test_unknown_profile_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StackError, match="unknown Compose profile"):
        ComposeStack(REPO, tmp_path, profiles=["kafka"])


def test_environment_keeps_secrets_to_env_file_and_sets_switches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POSTGRES_PASSWORD", "from-my-shell")
    monkeypatch.setenv("KIT_BIND_ADDRESS", "127.0.0.2")
    env = ComposeStack(REPO, tmp_path, profiles=["celery", "remote-logs"]).environment()
    assert "POSTGRES_PASSWORD" not in env  # .env decides: it made the database volume
    assert env["KIT_BIND_ADDRESS"] == "127.0.0.2"
    assert env["KIT_EXECUTOR"] == "CeleryExecutor" and env["KIT_REMOTE_LOGGING"] == "True"
    monkeypatch.delenv("KIT_EXECUTOR", raising=False)
    assert "KIT_EXECUTOR" not in ComposeStack(REPO, tmp_path, profiles=()).environment()


def test_up_without_engine_is_a_clear_error(no_engine: str, project: Path, tmp_path: Path) -> None:
    stack = ComposeStack(project, tmp_path / "state", cli=["docker-compose"])
    with pytest.raises(StackError) as caught:
        stack.up(timeout=5, progress=False)
    message = str(caught.value)
    assert "no Docker engine answers" in message and "no-engine.sock" in message
    assert "`kit up --stack embedded`" in message
    # What can be prepared without an engine was: .env, the password copy, the folders.
    assert (project / ".env").stat().st_mode & 0o777 == 0o600
    assert json.loads((tmp_path / "state" / "compose_passwords.json").read_text())["admin"]
    assert (project / "logs").is_dir() and (project / "dags").is_dir()


def test_up_needs_airflow_cfg(tmp_path: Path) -> None:
    (tmp_path / COMPOSE_FILE).write_text((REPO / COMPOSE_FILE).read_text())
    with pytest.raises(StackError, match="airflow.cfg is missing"):
        ComposeStack(tmp_path, tmp_path / "state", cli=["docker-compose"]).up(progress=False)


def test_status_reports_not_running(no_engine: str, tmp_path: Path) -> None:
    stack = ComposeStack(REPO, tmp_path, profiles=["celery"], cli=["docker-compose"])
    status = stack.status()
    assert status.kind == "compose" and status.running is False and status.healthy is False
    names = [c.name for c in status.components]
    assert {"airflow-apiserver", "airflow-scheduler", "mlflow", "airflow-worker"} <= set(names)
    assert "airflow-init" not in names  # a one-shot is not a component
    assert all(not c.running and "no Docker engine answers" in c.detail for c in status.components)
    with pytest.raises(StackNotRunning):
        stack.endpoints()
    stack.down()  # nothing to stop, and no error either


def test_busy_port_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        monkeypatch.setenv("KIT_AIRFLOW_PORT", str(taken.getsockname()[1]))
        monkeypatch.setenv("KIT_MLFLOW_PORT", str(free_port()))
        with pytest.raises(PortBusyError) as caught:
            ComposeStack(REPO, tmp_path, profiles=()).check_ports()
    assert caught.value.setting == "KIT_AIRFLOW_PORT"
    ComposeStack(REPO, tmp_path, profiles=()).check_ports()  # free again


def test_ports_and_bind_address_from_env_file(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("KIT_AIRFLOW_PORT=18080\nKIT_BIND_ADDRESS=0.0.0.0\n")
    endpoints = ComposeStack(tmp_path, tmp_path / "state")._endpoints()
    assert endpoints.airflow_url == "http://127.0.0.1:18080"
    assert endpoints.mlflow_url == "http://127.0.0.1:5000"
    assert endpoints.username == "admin"
    assert endpoints.password_file == tmp_path / "state" / "compose_passwords.json"


def test_ps_output_both_formats() -> None:
    row = {"Service": "mlflow", "State": "running", "Health": "healthy"}
    assert parse_ps_json(json.dumps([row])) == [row]
    assert parse_ps_json(json.dumps(row) + "\n" + json.dumps(row) + "\n") == [row, row]
    assert parse_ps_json("") == []
    inspected = [
        {
            "State": {"Status": "exited", "ExitCode": 3},
            "Config": {"Labels": {"com.docker.compose.service": "airflow-scheduler"}},
        }
    ]
    (shaped,) = rows_from_inspect(inspected)
    status = component_from_row("airflow-scheduler", shaped)
    assert not status.running and not status.healthy and "exit code 3" in status.detail
    assert component_from_row("mlflow", row).healthy is True
    starting = component_from_row("mlflow", {**row, "Health": "starting"})
    assert starting.running and starting.healthy is False
    assert component_from_row("redis", {"Service": "redis", "State": "running"}).healthy is True
    assert component_from_row("redis", None).detail == "no container"


class _Health(BaseHTTPRequestHandler):
    body = b"{}"

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(type(self).body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def health_server() -> Iterator[tuple[str, type[_Health]]]:
    handler = type("Handler", (_Health,), {})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()


def test_airflow_health_reads_every_component(health_server) -> None:
    url, handler = health_server
    healthy = {"status": "healthy"}
    handler.body = json.dumps({"metadatabase": healthy, "scheduler": healthy}).encode()
    assert airflow_probe(url)() is None
    handler.body = json.dumps(
        {"metadatabase": healthy, "scheduler": {"status": "unhealthy"}}
    ).encode()
    assert airflow_probe(url)() == "scheduler is unhealthy"


def test_health_timeout_names_services_and_carries_logs(
    no_engine: str, project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIT_AIRFLOW_PORT", str(free_port()))
    monkeypatch.setenv("KIT_MLFLOW_PORT", str(free_port()))
    ensure_env(project, tmp_path / "state")
    stack = ComposeStack(project, tmp_path / "state", cli=["docker-compose"])
    with pytest.raises(HealthTimeoutError) as caught:
        stack.wait_healthy(timeout=0.1)
    error = caught.value
    assert error.unhealthy["airflow-apiserver"].startswith("not answering")
    assert error.unhealthy["mlflow"].startswith("not answering")
    assert set(error.log_tails) == set(error.unhealthy)
    # The tail is what `docker-compose logs` said; here, that no engine answers.
    assert "DockerException" in error.log_tails["mlflow"]
    assert len(error.log_tails["mlflow"].splitlines()) <= 4
    assert "did not become healthy within" in str(error)


def test_profiles_come_from_compose_profiles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COMPOSE_PROFILES", raising=False)
    assert ComposeStack(tmp_path, tmp_path).profiles == ()
    (tmp_path / ".env").write_text("COMPOSE_PROFILES=email\n")
    assert ComposeStack(tmp_path, tmp_path).profiles == ("email",)
    monkeypatch.setenv("COMPOSE_PROFILES", "celery, remote-logs")
    stack = ComposeStack(tmp_path, tmp_path)
    assert stack.profiles == ("celery", "remote-logs")
    assert stack.environment()["KIT_EXECUTOR"] == "CeleryExecutor"
    assert ComposeStack(tmp_path, tmp_path, profiles=()).profiles == ()  # explicit wins


def test_explicit_ports_win(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIT_AIRFLOW_PORT", "9999")
    stack = ComposeStack(tmp_path, tmp_path, airflow_port=18080, mlflow_port=15000)
    assert stack.environment()["KIT_AIRFLOW_PORT"] == "18080"
    assert stack.environment()["KIT_MLFLOW_PORT"] == "15000"
    assert stack._endpoints().airflow_url == "http://127.0.0.1:18080"
    assert stack._endpoints().mlflow_url == "http://127.0.0.1:15000"


def test_the_podman_socket_path_is_absolute_whatever_the_folder_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`scripts/container-engine.sh start .kit/podman` once handed podman `unix://.kit/...`,
    which it read as host `.kit`: the socket is now always given by its absolute path."""
    monkeypatch.chdir(tmp_path)
    assert podman.docker_host(Path(".kit/podman")) == f"unix://{tmp_path}/.kit/podman/podman.sock"
    live.engine_installed()
    script = REPO / "scripts" / "container-engine.sh"
    started = subprocess.run(
        [str(script), "start", ".kit/podman"], capture_output=True, text=True, check=True
    )
    try:
        assert started.stdout.strip() == f"DOCKER_HOST=unix://{tmp_path}/.kit/podman/podman.sock"
        assert podman.answers(tmp_path / ".kit" / "podman")
    finally:
        subprocess.run([str(script), "stop", ".kit/podman"], check=True)
    assert not (tmp_path / ".kit" / "podman" / "podman.sock").exists()


def test_the_engine_address_and_the_built_images_are_read_strictly() -> None:
    with pytest.raises(engine_api.EngineError, match="DOCKER_HOST='ssh://me@host'.*unix://"):
        engine_api.get("ssh://me@host", "/_ping", timeout=1)
    printed = "build-images: localhost/kit-redis:7-abc\nKIT_REDIS_IMAGE=localhost/kit-redis:7-abc\n"
    printed += "OTHER=x\nAIRFLOW_IMAGE_NAME=\n"
    assert standin_images.parse_variables(printed) == {
        "KIT_REDIS_IMAGE": "localhost/kit-redis:7-abc"
    }

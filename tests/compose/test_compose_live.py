"""The seed's Compose stack, really run: podman with docker-compose (scripts/container-engine.sh),
images built from Debian and PyPI where no registry is reachable (scripts/build-images.sh).

One stack for the module, in a copy of the project: up to healthy, every CLI command through
``kit.cli.main()``, the lifecycle to a champion with papermill inside the containers, runs and the
registry surviving ``kit down``/``kit up``, a killed scheduler container restarted, and ``kit down``
leaving no container and no network behind.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import mlflow
import pytest

from kit.cli import main
from kit.client import connect
from kit.stack.compose import ComposeStack
from kit.stack.ports import free_ports
from tests.compose.conftest import REPO

pytestmark = pytest.mark.compose

# What the Compose file mounts, and what its build context needs (identical files: the image
# scripts/build-images.sh made is reused from the build cache).
PROJECT_PARTS = ("dags", "config", "notebooks", "pipelines", "plugins", "kit")
PROJECT_FILES = (
    "docker-compose.airflow.yml",
    "Dockerfile",
    ".dockerignore",
    "requirements.lock",
    "pyproject.toml",
    "README.md",
)


@pytest.fixture(scope="session")
def container_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """podman's Docker-compatible API, installed and configured when missing: its DOCKER_HOST."""
    script = REPO / "scripts" / "container-engine.sh"
    subprocess.run([str(script), "install"], check=True)
    folder = tmp_path_factory.mktemp("podman")
    started = subprocess.run(
        [str(script), "start", str(folder)], check=True, capture_output=True, text=True
    )
    docker_host = started.stdout.strip().splitlines()[-1].removeprefix("DOCKER_HOST=")
    try:
        yield docker_host
    finally:
        subprocess.run([str(script), "stop", str(folder)], check=False)


@pytest.fixture(scope="session")
def compose_images(container_engine: str) -> dict[str, str]:
    """The images' variables: stand-ins built here (cached by content between runs)."""
    done = subprocess.run(
        [str(REPO / "scripts" / "build-images.sh")], capture_output=True, text=True, timeout=1800
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return dict(line.split("=", 1) for line in done.stdout.split())


@pytest.fixture(scope="module")
def compose_env(
    container_engine: str, compose_images: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    """A project copy and the environment the kit and Compose see (restored afterwards)."""
    # A name of its own: Compose names containers, networks and volumes after the folder.
    project = tmp_path_factory.mktemp("compose") / f"kitcompose{uuid.uuid4().hex[:8]}"
    project.mkdir()
    for part in PROJECT_PARTS:
        if (REPO / part).is_dir():
            shutil.copytree(REPO / part, project / part)
    for name in PROJECT_FILES:
        shutil.copy(REPO / name, project / name)
    airflow_port, mlflow_port = free_ports(2)
    env = {
        **compose_images,
        "DOCKER_HOST": container_engine,
        "KIT_PROJECT_DIR": str(project),
        "KIT_STATE_DIR": str(project / ".kit"),
        "KIT_DAGS_DIR": str(project / "dags"),
        "KIT_AIRFLOW_PORT": str(airflow_port),
        "KIT_MLFLOW_PORT": str(mlflow_port),
    }
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        yield env
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def containers(project: Path) -> list[str]:
    """Names of the containers Compose made for ``project`` (its folder's name is the prefix)."""
    done = subprocess.run(
        ["podman", "ps", "-a", "--format", "{{.Names}}"], capture_output=True, text=True, check=True
    )
    return [n for n in done.stdout.split() if n.startswith(f"{project.name}_")]


def volumes(project: Path) -> list[str]:
    done = subprocess.run(
        ["podman", "volume", "ls", "--format", "{{.Name}}"],
        capture_output=True,
        text=True,
        check=True,
    )
    return [n for n in done.stdout.split() if n.startswith(f"{project.name}_")]


def networks(project: Path) -> list[str]:
    done = subprocess.run(
        ["podman", "network", "ls", "--format", "{{.Name}}"],
        capture_output=True,
        text=True,
        check=True,
    )
    return [n for n in done.stdout.split() if n.startswith(f"{project.name}_")]


@pytest.fixture(scope="module")
def compose_stack(compose_env: dict[str, str]) -> Iterator[ComposeStack]:
    project = Path(compose_env["KIT_PROJECT_DIR"])
    started = time.monotonic()
    assert main(["up", "--stack", "compose", "--quiet"]) == 0
    print(f"compose up: healthy in {time.monotonic() - started:.1f} s")
    stack = ComposeStack.from_state(project / ".kit")
    try:
        yield stack
    finally:
        main(["down"])
        assert containers(project) == [] and networks(project) == []
        # `kit down` keeps the data volumes, as it should; the test's go with it.
        subprocess.run(
            [*stack.command("down", "-v", profiles=stack.all_profiles())],
            cwd=project, env=stack.environment(), capture_output=True, check=True,
        )  # fmt: skip
        assert volumes(project) == []


def test_every_cli_command_works_on_the_compose_stack(
    compose_stack: ComposeStack, capsys: pytest.CaptureFixture
) -> None:
    assert main(["status"]) == 0
    status = capsys.readouterr().out
    assert "compose stack: running" in status and "airflow-scheduler" in status
    assert main(["credentials"]) == 0
    password = json.loads(compose_stack.endpoints().password_file.read_text())["admin"]
    assert password in capsys.readouterr().out
    assert main(["logs", "airflow-scheduler"]) == 0
    assert capsys.readouterr().out.strip()
    assert main(["export", "pipelines/example_pipeline.yaml"]) == 0
    assert main(["run", "example_pipeline", "--wait", "--timeout", "600"]) == 0
    out = capsys.readouterr().out
    assert "Run state: success" in out and "logs/dag_id=example_pipeline" in out


def test_the_lifecycle_reaches_a_champion_in_the_containers(
    compose_stack: ComposeStack, capsys: pytest.CaptureFixture
) -> None:
    started = time.monotonic()
    assert main(["demo"]) == 0
    print(f"kit demo on compose: {time.monotonic() - started:.1f} s")
    out = capsys.readouterr().out
    assert "Champion:" in out and "Smoke test: models:/breast_cancer_classifier@champion" in out
    client = connect()
    run = client.latest_run("ml_lifecycle")
    assert run is not None and run.state == "success"
    folder = compose_stack.project_dir / "artifacts" / "ml_lifecycle" / run.run_id
    for name in ("ingest.try1", "features.try1", "train[0].try1"):
        assert (folder / f"{name}.ipynb").exists() and (folder / f"{name}.html").exists(), name
    mlflow.set_tracking_uri(compose_stack.endpoints().mlflow_url)
    champion = mlflow.MlflowClient().get_model_version_by_alias(
        "breast_cancer_classifier", "champion"
    )
    assert champion.status == "READY"


def test_runs_and_the_registry_survive_down_and_up(compose_stack: ComposeStack) -> None:
    before = connect().latest_run("ml_lifecycle")
    assert main(["down"]) == 0
    assert containers(compose_stack.project_dir) == []
    assert main(["up", "--quiet"]) == 0  # the saved state says: the Compose stack
    after = connect().latest_run("ml_lifecycle")
    assert after is not None and (after.run_id, after.state) == (before.run_id, "success")
    mlflow.set_tracking_uri(compose_stack.endpoints().mlflow_url)
    versions = mlflow.MlflowClient().search_model_versions("name='breast_cancer_classifier'")
    assert versions


def test_a_crashed_scheduler_is_restarted_by_its_restart_policy(
    compose_stack: ComposeStack,
) -> None:
    """The scheduler process dies (SIGKILL from the host, as the OOM killer would): its container
    exits on its own, so `restart: always` applies (`podman kill` would be a stop by hand)."""
    import psutil

    (scheduler,) = [c for c in containers(compose_stack.project_dir) if "airflow-scheduler" in c]
    inspected = subprocess.run(
        ["podman", "inspect", "--format", "{{.State.Pid}} {{.RestartCount}}", scheduler],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    init_pid, restarts = (int(x) for x in inspected.stdout.split())
    for child in psutil.Process(init_pid).children():  # dumb-init's child: the scheduler
        child.kill()
    deadline = time.monotonic() + 240
    while True:
        healthy = {c.name: c.healthy for c in compose_stack.status().components}
        counted = subprocess.run(
            ["podman", "inspect", "--format", "{{.RestartCount}}", scheduler],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        if int(counted) > restarts and healthy.get("airflow-scheduler"):
            break
        assert time.monotonic() < deadline, f"the scheduler was not restarted: {healthy}"
        time.sleep(3)
    run = connect().run("example_pipeline", timeout=600, progress=False)
    assert run.state == "success"

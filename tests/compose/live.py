"""What the live Compose tests share: podman's Docker-compatible API (scripts/container-engine.sh),
the images (scripts/build-images.sh, built once per run and cached by content), a throw-away copy
of the project per stack, and what is left of a stack on the engine (containers, networks,
volumes). The fixtures built on these are in conftest.py; the stacks are one per module."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from kit.cli import main
from kit.stack.compose import ComposeStack
from kit.stack.ports import free_ports

REPO = Path(__file__).resolve().parents[2]

BUCKET, PREFIX = "airflow-logs", "kit"

# The tests' S3 server, as a user adds a local MinIO: the main file stays as it is.
OVERRIDE = f"""\
services:
  s3:
    profiles: [remote-logs]
    image: ${{KIT_S3_IMAGE}}
    environment:
      S3_BUCKETS: {BUCKET}
    ports:
      - "127.0.0.1:${{KIT_S3_PORT}}:5000"
    healthcheck:
      test: ["CMD", "curl", "-fs", "-o", "/dev/null", "http://127.0.0.1:5000/{BUCKET}"]
      interval: 5s
      timeout: 10s
      retries: 30
    restart: always
"""

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


def install_engine() -> None:
    """podman, runc, docker-compose, mmdebstrap and their configuration, when missing."""
    subprocess.run([str(REPO / "scripts" / "container-engine.sh"), "install"], check=True)


def start_engine(folder: Path) -> str:
    """Start podman's API in ``folder`` once the background job has installed it: its DOCKER_HOST.
    (Installing here too would run a second apt-get beside the first, which dpkg's lock refuses.)"""
    script = REPO / "scripts" / "container-engine.sh"
    build_images_in_background()
    _engine_installed.wait()
    started = subprocess.run(
        [str(script), "start", str(folder)], check=True, capture_output=True, text=True
    )
    return started.stdout.strip().splitlines()[-1].removeprefix("DOCKER_HOST=")


def stop_engine(folder: Path) -> None:
    subprocess.run([str(REPO / "scripts" / "container-engine.sh"), "stop", str(folder)])


@dataclass(frozen=True)
class Images:
    """What building the images gave: the KIT_*_IMAGE variables, or why it failed; and how long
    it took and what the build said (for the test's output)."""

    variables: dict[str, str]
    seconds: float
    log: str
    failure: str | None = None


def _install_and_build() -> Images:
    started = time.monotonic()
    try:
        try:
            install_engine()
        finally:
            _engine_installed.set()  # or failed: starting the engine then says why
        done = subprocess.run(
            [str(REPO / "scripts" / "build-images.sh")],
            capture_output=True, text=True, timeout=2400,
        )  # fmt: skip
    except (subprocess.SubprocessError, OSError) as exc:
        return Images({}, time.monotonic() - started, "", f"{type(exc).__name__}: {exc}")
    seconds = time.monotonic() - started
    if done.returncode != 0:
        return Images({}, seconds, done.stderr, done.stderr[-4000:] or f"exit {done.returncode}")
    return Images(dict(line.split("=", 1) for line in done.stdout.split()), seconds, done.stderr)


_building: Future[Images] | None = None
_engine_installed = threading.Event()


def build_images_in_background() -> None:
    """Start installing the engine and building the images, once per run. The live Compose tests
    run last (tests/conftest.py), so a cold build (~6-8 min) overlaps the rest of the suite."""
    global _building
    if _building is None:
        _building = ThreadPoolExecutor(1, thread_name_prefix="kit-images").submit(
            _install_and_build
        )


def built_images() -> Images:
    """The images, waiting for the build started by ``build_images_in_background``."""
    build_images_in_background()
    assert _building is not None
    return _building.result()


def _names(kind: str, project: Path) -> list[str]:
    """Names of the ``kind`` (container, network, volume) Compose made for ``project``: its
    folder's name is their prefix."""
    if kind == "container":
        args = ["podman", "ps", "-a", "--format", "{{.Names}}"]
    else:
        args = ["podman", kind, "ls", "--format", "{{.Name}}"]
    done = subprocess.run(args, capture_output=True, text=True, check=True)
    return [n for n in done.stdout.split() if n.startswith(f"{project.name}_")]


def containers(project: Path) -> list[str]:
    return _names("container", project)


def started_at(project: Path, service: str) -> str:
    """When the (first) container of ``service`` in ``project`` last started, as podman says."""
    (name,) = [c for c in containers(project) if c.startswith(f"{project.name}_{service}_")][:1]
    done = subprocess.run(
        ["podman", "inspect", "--format", "{{.State.StartedAt}}", name],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout.strip()


def networks(project: Path) -> list[str]:
    return _names("network", project)


def volumes(project: Path) -> list[str]:
    return _names("volume", project)


@contextmanager
def compose_project(
    base: Path, engine: str, images: dict[str, str], **settings: str
) -> Iterator[Path]:
    """A copy of the project under ``base`` with the environment the kit and Compose see:
    the engine, the images, free ports and ``settings`` (KIT_* variables); restored afterwards."""
    # A name of its own: Compose names containers, networks and volumes after the folder.
    project = base / f"kitcompose{uuid.uuid4().hex[:8]}"
    project.mkdir(parents=True)
    for part in PROJECT_PARTS:
        if (REPO / part).is_dir():
            shutil.copytree(REPO / part, project / part)
    for name in PROJECT_FILES:
        shutil.copy(REPO / name, project / name)
    airflow_port, mlflow_port, mail_port = free_ports(3)
    env = {
        **images,
        "DOCKER_HOST": engine,
        "KIT_PROJECT_DIR": str(project),
        "KIT_STATE_DIR": str(project / ".kit"),
        "KIT_DAGS_DIR": str(project / "dags"),
        "KIT_AIRFLOW_PORT": str(airflow_port),
        "KIT_MLFLOW_PORT": str(mlflow_port),
        "KIT_MAILPIT_PORT": str(mail_port),
        **settings,
    }
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        yield project


@contextmanager
def running_compose_stack(project: Path) -> Iterator[ComposeStack]:
    """`kit up --stack compose` in ``project`` (its environment set); on the way out, even when
    `up` failed half-way, `compose down` leaves nothing behind, and then the volumes go too."""
    # The profiles and ports come from the environment, as for `kit up`.
    stack = ComposeStack(project, project / ".kit")
    started = time.monotonic()
    try:
        assert main(["up", "--stack", "compose", "--wait", "all", "--quiet"]) == 0
        print(f"compose up: healthy in {time.monotonic() - started:.1f} s")
        yield ComposeStack.from_state(project / ".kit")
    finally:
        started = time.monotonic()
        stack.down()
        print(f"compose down: {time.monotonic() - started:.1f} s")
        assert containers(project) == [] and networks(project) == []
        remove_volumes(stack)
        assert volumes(project) == []


def remove_volumes(stack: ComposeStack) -> None:
    """The data volumes of a stack that is down (`kit down` keeps them, as it should)."""
    subprocess.run(
        [*stack.command("down", "-v", profiles=stack.all_profiles())],
        cwd=stack.project_dir, env=stack.environment(), capture_output=True, check=True,
    )  # fmt: skip


def engine_installed() -> None:
    """Wait until podman and the rest are installed: by the background job when the run started
    one (two apt-gets at once are refused by dpkg's lock), else here."""
    if _building is not None:
        _engine_installed.wait()
    else:
        install_engine()


def log_in_to_compose_mlflow(stack: ComposeStack, patch: pytest.MonkeyPatch) -> None:
    """This process's MLflow clients log in to the containers' MLflow as its admin."""
    for key, value in stack.endpoints().mlflow_environment().items():
        if key != "MLFLOW_TRACKING_URI":
            patch.setenv(key, value)

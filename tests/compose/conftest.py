"""Fixtures of the Compose tests: the real docker-compose (v1) and a throw-away project folder."""

from __future__ import annotations

import configparser
import contextlib
import io
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from kit.cli import main
from kit.stack.compose import ComposeStack
from kit.stack.compose_env import ensure_env
from kit.stack.compose_project import COMPOSE_FILE, OVERRIDE_FILE
from kit.stack.ports import free_ports

from . import live

REPO = live.REPO


def lock_pins() -> dict[str, str]:
    """``name -> version`` of every pin in requirements.lock (names normalised as pip does)."""
    pins = {}
    for line in (REPO / "requirements.lock").read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)", line)
        if match:
            pins[normalise(match.group(1))] = match.group(2)
    return pins


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def compose_model() -> dict[str, Any]:
    """docker-compose.airflow.yml as YAML data, anchors and merge keys resolved."""
    return yaml.safe_load((REPO / COMPOSE_FILE).read_text())


def airflow_cfg() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(REPO / "config" / "airflow.cfg")
    return parser


def _install_docker_compose() -> None:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-qq", "docker-compose"]
    if subprocess.run(install, env=env, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], env=env, check=True, capture_output=True)
        subprocess.run(install, env=env, check=True, capture_output=True)


@pytest.fixture(scope="session")
def docker_compose() -> str:
    """Path of Debian's docker-compose 1.29, which validates a Compose file with no engine."""
    exe = shutil.which("docker-compose")
    if exe is None:
        if os.geteuid() != 0:
            pytest.fail(
                "docker-compose is not installed and these tests cannot install it without root: "
                "run `sudo apt-get install -y docker-compose` once"
            )
        _install_docker_compose()
        exe = shutil.which("docker-compose")
    assert exe is not None, "apt-get installed docker-compose but it is not on PATH"
    return exe


def clean_env(**extra: str) -> dict[str, str]:
    """A minimal environment, so that nothing from the caller's shell leaks into interpolation."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/")}
    env.update(extra)
    return env


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project folder holding a copy of the Compose file and a .env written by the kit."""
    folder = tmp_path / "project"
    folder.mkdir()
    shutil.copy(REPO / COMPOSE_FILE, folder / COMPOSE_FILE)
    ensure_env(folder, tmp_path / "state")
    return folder


def run_config(
    docker_compose: str, folder: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """`docker-compose -f FILE [args] config` in ``folder``."""
    return subprocess.run(
        [docker_compose, "-f", str(folder / COMPOSE_FILE), *args, "config"],
        cwd=folder,
        env=env if env is not None else clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


# ------------------------------------------------------------------ the live Compose tests
@pytest.fixture(scope="session")
def container_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """podman's Docker-compatible API, installed and configured when missing: its DOCKER_HOST."""
    folder = tmp_path_factory.mktemp("podman")
    try:
        yield live.start_engine(folder)
    finally:
        live.stop_engine(folder)


@pytest.fixture(scope="session")
def compose_images(container_engine: str) -> dict[str, str]:
    """The images' variables: stand-ins built here, once per run (cached by content), started in
    the background when the run began."""
    images = live.built_images()
    print(f"images ready after {images.seconds:.0f} s of building:\n{images.log}")
    assert images.failure is None, images.failure
    return images.variables


@pytest.fixture(scope="session")
def compose_stack(
    container_engine: str, compose_images: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ComposeStack]:
    """The run's one Compose stack, with every profile (two Celery workers, remote logs to the
    tests' S3 server, e-mail to the mail catcher), in a project copy of its own: one start and
    one lifecycle for all the live Compose modules, instead of one stack per module (the default
    shape's LocalExecutor is the embedded stack's, tested there)."""
    (s3_port,) = free_ports(1)
    settings = {
        "COMPOSE_PROFILES": "celery,remote-logs,email",
        "KIT_CELERY_WORKERS": "2",
        "KIT_S3_PORT": str(s3_port),
        "KIT_S3_ENDPOINT_URL": "http://s3:5000",
        "KIT_S3_ACCESS_KEY_ID": "kit-test",
        "KIT_S3_SECRET_ACCESS_KEY": "kit-test",
        "KIT_REMOTE_LOG_FOLDER": f"s3://{live.BUCKET}/{live.PREFIX}",
    }
    base = tmp_path_factory.mktemp("compose")
    with live.compose_project(base, container_engine, compose_images, **settings) as project:
        (project / OVERRIDE_FILE).write_text(live.OVERRIDE)
        with live.running_compose_stack(project) as stack:
            yield stack


@pytest.fixture(scope="session")
def lifecycle_demo(compose_stack: ComposeStack) -> str:
    """`kit demo` once in the containers (what it printed): the lifecycle's run is what the
    tests of the lifecycle, the team's logins, the workers and the remote logs read. The stack
    is up already, so `kit demo` starts nothing again (airflow-init is not run a second time)."""
    init_started = live.started_at(compose_stack.project_dir, "airflow-init")
    started = time.monotonic()
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main(["demo"])
    print(f"kit demo on compose: {time.monotonic() - started:.1f} s")
    assert code == 0, printed.getvalue()[-3000:]
    assert live.started_at(compose_stack.project_dir, "airflow-init") == init_started
    return printed.getvalue()

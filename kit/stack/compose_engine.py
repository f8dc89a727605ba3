"""The container engine the Compose stack talks to, and the Compose program that drives it.

The engine is asked through its own API (``kit.stack.engine_api``): no `docker` program is needed
to know whether one answers (podman has none). Where DOCKER_HOST is not set and no Docker engine
answers, the kit runs podman's API in the stack's state folder (``kit.stack.podman``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from kit.stack import engine_api, podman
from kit.stack.base import StackError

ENGINE_TIMEOUT = 5.0


def run(
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


def docker_host(podman_dir: Path) -> str:
    """The engine a stack with its podman folder ``podman_dir`` uses: DOCKER_HOST when set, else
    the podman socket the kit started there when it answers, else Docker's usual socket."""
    if os.environ.get("DOCKER_HOST"):
        return os.environ["DOCKER_HOST"]
    if podman.answers(podman_dir):
        return podman.docker_host(podman_dir)
    return engine_api.DEFAULT_HOST


def engine(podman_dir: Path) -> tuple[str, str | None]:
    """``docker_host(podman_dir)`` and why no engine answers there (None: one does), asking the
    engine once: a podman socket chosen because it answered is not asked again."""
    host = docker_host(podman_dir)
    if not os.environ.get("DOCKER_HOST") and host == podman.docker_host(podman_dir):
        return host, None
    return host, docker_engine_problem(host=host)


def compose_cli() -> list[str]:
    """The Compose program: the v2 plugin (`docker compose`), else the v1 `docker-compose`."""
    if shutil.which("docker") is not None:
        # `docker compose version` needs no engine; it fails only when the plugin is missing.
        done = run(["docker", "compose", "version"], timeout=ENGINE_TIMEOUT)
        if done.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose") is not None:
        return ["docker-compose"]
    raise StackError(
        "neither `docker compose` (v2 plugin) nor `docker-compose` (v1) is installed; "
        "install the Compose plugin, or Debian's docker-compose package"
    )

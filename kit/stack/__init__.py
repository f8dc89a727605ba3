"""Bring the Airflow + MLflow stack up, watch it, take it down.

The backends are registered by name here (``kit.stack.backends``): the embedded stack of native
processes, and Docker Compose. ``get_stack()`` picks one: the one last started with the state
folder, else Compose when a Docker engine answers, else the embedded stack. Each follows the
``Stack`` protocol of ``kit.stack.base`` and records where it answers in one state
(``kit.stack.state``), which ``open_stack()`` and ``kit.client.connect()`` read.
"""

from __future__ import annotations

from pathlib import Path

from kit.stack.backends import (
    AUTO,
    Backend,
    auto_backend,
    choices,
    default_backend,
    get_backend,
    register_backend,
)
from kit.stack.base import (
    ComponentStatus,
    ConfigError,
    Endpoints,
    HealthTimeoutError,
    PortBusyError,
    Stack,
    StackError,
    StackNotRunning,
    StackStatus,
)
from kit.stack.embedded import EmbeddedStack
from kit.stack.settings import StackSettings
from kit.stack.state import StackState, read_state, saved_kind

__all__ = [
    "Backend",
    "ComponentStatus",
    "ConfigError",
    "EmbeddedStack",
    "Endpoints",
    "HealthTimeoutError",
    "PortBusyError",
    "Stack",
    "StackError",
    "StackNotRunning",
    "StackSettings",
    "StackState",
    "StackStatus",
    "get_stack",
    "open_stack",
    "read_state",
    "register_backend",
    "saved_kind",
]


def _embedded() -> type[Stack]:
    return EmbeddedStack


def _compose() -> type[Stack]:
    from kit.stack.compose import ComposeStack  # only when asked for: Compose's own modules

    return ComposeStack


def _docker_engine_answers() -> bool:
    from kit.stack.compose_engine import docker_engine_available

    return docker_engine_available()


# The backends, in the order `kit up --stack` lists them; `auto` asks Compose's engine first.
register_backend(
    Backend(
        "embedded",
        "Airflow and MLflow as native processes of this virtualenv (shapes: --sqlite ...)",
        _embedded,
        default=True,
    )
)
register_backend(
    Backend(
        "compose",
        "Airflow and MLflow in containers (docker-compose.airflow.yml); auto's pick when a "
        "Docker engine answers",
        _compose,
        answers=_docker_engine_answers,
    )
)


def get_stack(
    kind: str = AUTO,
    settings: StackSettings | None = None,
    *,
    shape: dict[str, object] | None = None,
    ports: dict[str, int | None] | None = None,
) -> Stack:
    """The stack to use: a backend by name (``kit.stack.backends``), or ``auto``.

    ``auto`` is the stack last started with the state folder, with the ports and shape it was
    started with; if none was, the first backend that answers (Compose when a Docker engine
    does), else the default (embedded). ``shape`` (database, executor, workers) asks for the
    default backend in that shape; ``ports`` that are not None replace the saved ones.
    """
    if kind not in choices():
        raise ValueError(f"unknown stack kind {kind!r}; choose one of {', '.join(choices())}")
    ports = {k: v for k, v in (ports or {}).items() if v is not None}
    shape = {k: v for k, v in (shape or {}).items() if v is not None}
    if settings is None:
        settings = StackSettings.from_env(**ports)
    saved = saved_kind(settings.state_dir)
    if kind == AUTO:
        # A shape asked for means the default (native) stack, unless another one was started.
        kind = saved or (default_backend().name if shape else auto_backend().name)
    stack_class = get_backend(kind).load()
    if kind == saved:
        return stack_class.from_state(settings.state_dir, ports=ports, shape=shape)
    return stack_class.from_settings(settings, ports=ports, shape=shape)


def open_stack(state_dir: Path | None = None) -> Stack:
    """The stack last started with ``state_dir`` (default: $KIT_STATE_DIR or .kit/), whatever
    its backend; StackNotRunning if none was."""
    settings = StackSettings.from_env(state_dir=state_dir)
    kind = read_state(settings.state_dir).kind
    return get_stack(kind, settings)

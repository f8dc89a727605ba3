"""Bring the Airflow + MLflow stack up, watch it, take it down.

``get_stack()`` picks the backend: the one last started with the state folder, else Docker Compose
when a Docker engine answers, else the embedded stack of native processes. Both follow the
``Stack`` protocol of ``kit.stack.base`` and record where they answer in one state
(``kit.stack.state``), which ``open_stack()`` and ``kit.client.connect()`` read.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

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
    "saved_kind",
]

KINDS = ("auto", "embedded", "compose")


def get_stack(
    kind: str = "auto",
    settings: StackSettings | None = None,
    *,
    shape: dict[str, object] | None = None,
    ports: dict[str, int | None] | None = None,
) -> Stack:
    """The stack to use: ``embedded``, ``compose``, or ``auto``.

    ``auto`` is the stack last started with the state folder, with the ports and shape it was
    started with; if none was, Compose when a Docker engine answers, else the embedded stack.
    ``shape`` (database, executor, workers) asks for the embedded stack in that shape; ``ports``
    that are not None replace the saved ones.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown stack kind {kind!r}; choose one of {', '.join(KINDS)}")
    ports = {k: v for k, v in (ports or {}).items() if v is not None}
    shape = {k: v for k, v in (shape or {}).items() if v is not None}
    if settings is None:
        settings = StackSettings.from_env(**ports)
    saved = saved_kind(settings.state_dir)
    if kind == "auto":
        kind = saved or "auto"
    if shape:
        if kind == "compose":
            raise StackError(
                "--sqlite/--postgres/--celery choose the shape of the embedded stack; the Compose "
                "stack has its own (COMPOSE_PROFILES=celery, see docs/compose.md)."
            )
        kind = "embedded"  # a shape asked for means the native stack
    if kind == saved == "embedded":
        return EmbeddedStack.from_state(settings.state_dir, **ports, **shape)
    if kind == "embedded":
        return EmbeddedStack(replace(settings, **shape))
    from kit.stack.compose import ComposeStack, docker_engine_available

    compose_ports = {k: v for k, v in ports.items() if k in ("airflow_port", "mlflow_port")}
    if kind == saved == "compose":
        return ComposeStack.from_state(settings.state_dir, **compose_ports)
    if kind == "compose" or docker_engine_available():
        return ComposeStack(
            project_dir=settings.project_dir,
            state_dir=settings.state_dir,
            airflow_port=ports.get("airflow_port"),
            mlflow_port=ports.get("mlflow_port"),
        )
    return EmbeddedStack(replace(settings, **shape))


def open_stack(state_dir: Path | None = None) -> Stack:
    """The stack last started with ``state_dir`` (default: $KIT_STATE_DIR or .kit/), whatever
    its backend; StackNotRunning if none was."""
    settings = StackSettings.from_env(state_dir=state_dir)
    kind = read_state(settings.state_dir).kind
    return get_stack(kind, settings)

"""Bring the Airflow + MLflow stack up, watch it, take it down.

``get_stack()`` picks the backend: Docker Compose when a Docker engine answers, else the embedded
stack of native processes. Both follow the ``Stack`` protocol of ``kit.stack.base``.
"""

from __future__ import annotations

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
    "StackStatus",
    "get_stack",
    "saved_kind",
]

KINDS = ("auto", "embedded", "compose")


def saved_kind(state_dir: Path) -> str | None:
    """The kind (``embedded`` or ``compose``) of the stack last started with ``state_dir``."""
    import json

    try:
        return json.loads((state_dir / "stack.json").read_text()).get("kind")
    except (FileNotFoundError, ValueError, AttributeError):
        return None


def get_stack(kind: str = "auto", settings: StackSettings | None = None) -> Stack:
    """The stack to use: ``embedded``, ``compose``, or ``auto`` (Compose if an engine answers)."""
    if kind not in KINDS:
        raise ValueError(f"unknown stack kind {kind!r}; choose one of {', '.join(KINDS)}")
    if settings is None:
        settings = StackSettings.from_env()
        # A stack started before keeps its shape (ports, database, executor): reuse it.
        saved = saved_kind(settings.state_dir) if kind in ("auto", "embedded") else None
        if saved == "embedded":
            return EmbeddedStack.from_state(settings.state_dir)
        if saved == "compose":
            kind = "compose"
    if kind in ("auto", "compose"):
        from kit.stack.compose import ComposeStack, docker_engine_available

        if kind == "compose" or docker_engine_available():
            return ComposeStack(
                project_dir=settings.project_dir,
                state_dir=settings.state_dir,
                airflow_port=settings.airflow_port,
                mlflow_port=settings.mlflow_port,
            )
    return EmbeddedStack(settings)

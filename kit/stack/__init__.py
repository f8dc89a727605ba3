"""Bring the Airflow + MLflow stack up, watch it, take it down.

The backends are registered by name in ``kit.stack.backends``: the embedded stack of native
processes, and Docker Compose. ``get_stack()`` (``kit.stack.choose``) picks one: the one last
started with the state folder, else Compose when a Docker engine answers, else the embedded stack.
Each follows the ``Stack`` protocol of ``kit.stack.base`` and records where it answers in one state
(``kit.stack.state``), which ``open_stack()`` and ``kit.client.connect()`` read.

The names below are loaded on first use, so that importing the package (the CLI's parser reads
the registry) costs no backend, pydantic or settings import.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from kit.stack.backends import Backend, register_backend
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

if TYPE_CHECKING:
    from kit.stack.choose import get_stack, open_stack
    from kit.stack.embedded import EmbeddedStack
    from kit.stack.settings import StackSettings
    from kit.stack.state import StackState, read_state, saved_kind

# name -> the module that defines it, imported when the name is first asked for
_LAZY = {
    "EmbeddedStack": "kit.stack.embedded",
    "StackSettings": "kit.stack.settings",
    "StackState": "kit.stack.state",
    "get_stack": "kit.stack.choose",
    "open_stack": "kit.stack.choose",
    "read_state": "kit.stack.state",
    "saved_kind": "kit.stack.state",
}

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


def __getattr__(name: str) -> Any:
    """Load one of the package's heavier names on first use (PEP 562)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'kit.stack' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))

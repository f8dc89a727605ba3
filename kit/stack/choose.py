"""Which stack to use: a backend by name, ``auto``, or the one last started with a state folder."""

from __future__ import annotations

from pathlib import Path

from kit.stack.backends import AUTO, auto_backend, choices, default_backend, get_backend
from kit.stack.base import Stack
from kit.stack.settings import StackSettings
from kit.stack.state import read_state, saved_kind


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

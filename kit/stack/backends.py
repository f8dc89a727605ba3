"""The stack backends by name: the one list that `kit up --stack`, the state and ``get_stack`` read.

A backend is a class following ``kit.stack.base.Stack`` plus one ``register_backend`` call: the
built-in ones are at the end of this module. Its class is named by import path and loaded on first
use, so a command that never needs a backend never imports it (`kit --help` imports no backend;
Compose's modules stay out of `kit status` of an embedded stack). This module imports nothing but
``base``: the state and the CLI's parser read it cheaply.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kit.stack.base import Stack

AUTO = "auto"  # not a backend: the one last started with the state folder, else the first to answer


@dataclass(frozen=True)
class Backend:
    """A named way to run the stack."""

    name: str
    summary: str  # one line for `kit up --help`
    load: Callable[[], type[Stack]]  # its class, imported when first asked for
    # Whether `auto` picks it for a state folder with no stack yet, asked in registration order;
    # None: only when nothing else answers and it is the default.
    answers: Callable[[], bool] | None = None
    default: bool = False  # what `auto` falls back to, and what a shape (--sqlite ...) asks for


_BACKENDS: dict[str, Backend] = {}


def by_path(target: str) -> Callable[[], Any]:
    """A loader for ``"package.module:name"``: imports the module when called, returns the name."""
    module_name, _, attribute = target.partition(":")

    def load() -> Any:
        return getattr(importlib.import_module(module_name), attribute)

    return load


def register_backend(backend: Backend, *, replace: bool = False) -> None:
    """Make a backend known to `kit up --stack`, the state and ``get_stack``."""
    if backend.name == AUTO:
        raise ValueError(f"{AUTO!r} chooses a backend; it cannot name one")
    if backend.name in _BACKENDS and not replace:
        raise ValueError(f"stack backend {backend.name!r} is already registered")
    if backend.default and any(b.default for b in _BACKENDS.values() if b.name != backend.name):
        raise ValueError(f"only one default backend: {default_backend().name!r} is already")
    _BACKENDS[backend.name] = backend


def unregister_backend(name: str) -> None:
    """Forget a backend (tests, plugins being reloaded)."""
    _BACKENDS.pop(name, None)


def backend_names() -> tuple[str, ...]:
    """The registered backends' names, in registration order."""
    return tuple(_BACKENDS)


def choices() -> tuple[str, ...]:
    """What `--stack` accepts: ``auto`` and every backend."""
    return (AUTO, *_BACKENDS)


def get_backend(name: str) -> Backend:
    """The backend called ``name``; ValueError naming the known ones otherwise."""
    try:
        return _BACKENDS[name]
    except KeyError:
        known = ", ".join(_BACKENDS)
        raise ValueError(f"unknown stack backend {name!r}; known backends: {known}") from None


def default_backend() -> Backend:
    """The backend `auto` falls back to (the embedded one)."""
    return next(b for b in _BACKENDS.values() if b.default)


def auto_backend() -> Backend:
    """What `auto` starts where no stack was started yet: the first backend that answers (Compose
    when a Docker engine does), else the default."""
    for backend in _BACKENDS.values():
        if backend.answers is not None and backend.answers():
            return backend
    return default_backend()


def help_text() -> str:
    """`--stack`'s help: how auto chooses, then a line per backend."""
    auto = (
        "auto: the one started last with the state folder, else the first backend that answers, "
        f"else {default_backend().name}"
    )
    return "; ".join([auto, *(f"{b.name}: {b.summary}" for b in _BACKENDS.values())])


# The built-in backends, in the order `kit up --stack` lists them (`auto` asks Compose first).
register_backend(
    Backend(
        "embedded",
        "Airflow and MLflow as native processes of this virtualenv (shapes: --sqlite ...)",
        by_path("kit.stack.embedded:EmbeddedStack"),
        default=True,
    )
)
register_backend(
    Backend(
        "compose",
        "Airflow and MLflow in containers (docker-compose.airflow.yml); auto's pick when a "
        "Docker engine answers",
        by_path("kit.stack.compose:ComposeStack"),
        answers=lambda: by_path("kit.stack.compose_engine:docker_engine_available")()(),
    )
)

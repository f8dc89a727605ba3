"""Task kinds: the settings model of each kind, and the registry new kinds plug into.

A kind is registered with ``register_kind(name, settings_model, renderer)``. The renderer turns a
task of that kind into code (see ``kit.codegen.kinds``); it may be given as ``"module:function"``
so that this pure module does not import the code generator.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from kit.spec.problems import Problem, error
from kit.spec.values import ParamRef, ResultRef, Value, iter_refs

if TYPE_CHECKING:
    from kit.spec.model import PipelineSpec, TaskSpec

# "package.module:function" - it is written into an import statement, so it must be exactly this.
CALLABLE_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*$"
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class CheckContext:
    """What a kind's checks may look at: the whole spec and the project folder."""

    spec: PipelineSpec
    project_dir: Path


class KindSettings(BaseModel):
    """Base of every kind's settings. Subclasses add fields and may override the hooks."""

    model_config = ConfigDict(extra="forbid")
    # The field holding the named values (literals or references) passed to the task's code.
    values_field: ClassVar[str | None] = None

    def values(self) -> dict[str, Any]:
        """The named values (literals or references) this task passes to its code."""
        return dict(getattr(self, self.values_field)) if self.values_field else {}

    def references(self) -> list[tuple[str, ParamRef | ResultRef]]:
        """``(field path, reference)`` pairs, checked by the core validator."""
        return [(f"{self.values_field}.{name}", ref) for name, ref in iter_refs(self.values())]

    def check(self, task: TaskSpec, ctx: CheckContext) -> list[Problem]:
        """Kind-specific problems (files, types); the core checks ids, graph and references."""
        return []


class NotebookSettings(KindSettings):
    """Run a notebook with papermill; ``parameters`` are injected after its ``parameters`` cell."""

    notebook: str = Field(min_length=1, description="Notebook path, relative to the project.")
    parameters: dict[str, Value] = Field(default_factory=dict)
    kernel: str | None = Field(
        default=None, description="Kernel name; the notebook's own if unset."
    )
    values_field: ClassVar[str | None] = "parameters"

    def check(self, task: TaskSpec, ctx: CheckContext) -> list[Problem]:
        from kit.spec.notebooks import check_notebook_task

        return check_notebook_task(task, self, ctx)


class PythonSettings(KindSettings):
    """Call an importable function with keyword arguments; its return value is the task's result."""

    callable: str = Field(pattern=CALLABLE_PATTERN, description="'package.module:function'")
    kwargs: dict[str, Value] = Field(default_factory=dict)
    values_field: ClassVar[str | None] = "kwargs"

    def check(self, task: TaskSpec, ctx: CheckContext) -> list[Problem]:
        from kit.spec.imports import check_callable

        return check_callable(task.id, "settings.callable", self.callable)


class BashSettings(KindSettings):
    """Run a shell command (an Airflow template: ``{{ ds }}``, ``{{ params.x }}`` work)."""

    command: str = Field(min_length=1)
    env: dict[str, str] | None = None
    cwd: str | None = None

    @field_validator("env")
    @classmethod
    def _env_names(cls, env: dict[str, str] | None) -> dict[str, str] | None:
        for name in env or {}:
            if not ENV_NAME.match(name):
                raise ValueError(f"{name!r} is not a valid environment variable name")
        return env

    def check(self, task: TaskSpec, ctx: CheckContext) -> list[Problem]:
        problems: list[Problem] = []
        if task.fan_out is not None:
            for combo in task.fan_out.combinations():
                for name in combo:
                    if not ENV_NAME.match(name):
                        problems.append(
                            error(
                                task.id,
                                "fan_out",
                                f"{name!r} is not a valid environment variable name; "
                                "bash tasks fan out over environment variables.",
                                "use names made of letters, digits and underscores.",
                            )
                        )
        return problems


Renderer = Callable[..., Any]


@dataclass(frozen=True)
class Kind:
    name: str
    settings_model: type[KindSettings]
    renderer: Renderer | str

    def resolve_renderer(self) -> Renderer:
        if callable(self.renderer):
            return self.renderer
        module, _, attr = self.renderer.partition(":")
        return getattr(import_module(module), attr)


_KINDS: dict[str, Kind] = {}


def register_kind(
    name: str,
    settings_model: type[KindSettings],
    renderer: Renderer | str,
    *,
    replace: bool = False,
) -> None:
    """Make a task kind known to the spec model, the validator and the code generator."""
    if not issubclass(settings_model, KindSettings):
        raise TypeError("a kind's settings model must subclass KindSettings")
    if name in _KINDS and not replace:
        raise ValueError(f"task kind {name!r} is already registered")
    _KINDS[name] = Kind(name, settings_model, renderer)


def unregister_kind(name: str) -> None:
    """Forget a kind (tests, plugins being reloaded)."""
    _KINDS.pop(name, None)


def get_kind(name: str) -> Kind:
    try:
        return _KINDS[name]
    except KeyError:
        raise KeyError(
            f"unknown task kind {name!r}; known kinds: {', '.join(kind_names())}"
        ) from None


def kind_names() -> list[str]:
    return sorted(_KINDS)


register_kind("notebook", NotebookSettings, "kit.codegen.kinds:render_notebook")
register_kind("python", PythonSettings, "kit.codegen.kinds:render_python")
register_kind("bash", BashSettings, "kit.codegen.kinds:render_bash")

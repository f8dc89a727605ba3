"""The built-in task kinds (notebook, python, bash), and the registry new kinds plug into.

A kind is registered with ``register_kind(name, settings_model, renderer)``. The renderer turns a
task of that kind into code (see ``kit.codegen.kinds``); it may be given as ``"module:function"``
so that this pure module does not import the code generator. The base class ``KindSettings`` and
the registry itself are in ``kit.spec.model`` (a task holds its kind's settings); they are
re-exported here, where a new kind looks for them.
"""

from __future__ import annotations

import re
from typing import ClassVar

from pydantic import Field, field_validator

from kit.spec.model import (
    CALLABLE_PATTERN,
    CheckContext,
    Kind,
    KindSettings,
    Renderer,
    TaskSpec,
    get_kind,
    kind_names,
    register_kind,
    unregister_kind,
)
from kit.spec.problems import Problem, error
from kit.spec.values import Value

__all__ = [
    "CALLABLE_PATTERN",
    "ENV_NAME",
    "BashSettings",
    "CheckContext",
    "Kind",
    "KindSettings",
    "NotebookSettings",
    "PythonSettings",
    "Renderer",
    "get_kind",
    "kind_names",
    "register_kind",
    "unregister_kind",
]

ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class NotebookSettings(KindSettings):
    """Run a notebook with papermill; ``parameters`` are injected after its ``parameters`` cell."""

    notebook: str = Field(min_length=1, description="Notebook path, relative to the project.")
    parameters: dict[str, Value] = Field(default_factory=dict)
    kernel: str | None = Field(
        default=None, description="Kernel name; the notebook's own if unset."
    )
    values_field: ClassVar[str | None] = "parameters"

    def check(self, task: TaskSpec, ctx: CheckContext) -> list[Problem]:
        """The notebook exists; what it is given matches its ``parameters`` cell (names, types)."""
        from kit.spec.notebooks import check_notebook_task

        return check_notebook_task(task, ctx, self.notebook, self.parameters)


class PythonSettings(KindSettings):
    """Call an importable function with keyword arguments; its return value is the task's result."""

    callable: str = Field(
        pattern=CALLABLE_PATTERN,
        description="'package.module:function', or 'package.module:object.attribute' to call an "
        "attribute of an imported object (e.g. 'flows.etl:load.function', the plain function "
        "of a module-level @task)",
    )
    kwargs: dict[str, Value] = Field(default_factory=dict)
    values_field: ClassVar[str | None] = "kwargs"

    def check(self, task: TaskSpec, ctx: CheckContext) -> list[Problem]:
        """The callable's module can be found here (without running it)."""
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
        """Fan-out names are environment variable names (a bash task fans out over its env)."""
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


register_kind("notebook", NotebookSettings, "kit.codegen.kinds:render_notebook")
register_kind("python", PythonSettings, "kit.codegen.kinds:render_python")
register_kind("bash", BashSettings, "kit.codegen.kinds:render_bash")

"""The pipeline model: a DAG's settings, its run parameters and its tasks (pydantic v2).

A task's ``settings`` are typed by its ``kind``: the base of every kind's settings
(``KindSettings``) and the registry of kinds live here, beside ``TaskSpec``, because a task holds
settings and a kind's ``check`` looks at the task: one module, so neither imports the other. The
built-in kinds are in ``kit.spec.kinds``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from importlib import import_module
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    SerializeAsAny,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from kit.spec.access import ROLE_NAME_SCHEMA, AccessLevel
from kit.spec.problems import Problem
from kit.spec.values import ParamRef, ResultRef, iter_refs

# "package.module:function" - it is written into an import statement, so it must be exactly this.
# The name may go on with attributes ("module:obj.attr"): the first name is imported, the rest is
# looked up on it (e.g. "flows.etl:load.function", the plain function of a module-level @task).
CALLABLE_PATTERN = (
    r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*"
    r"(\.[A-Za-z_][A-Za-z0-9_]*)*$"
)


# Task kinds: what every kind's settings model is, and the registry kinds plug into.


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


Renderer = Callable[..., Any]


@dataclass(frozen=True)
class Kind:
    """A registered task kind: its name, settings model and renderer."""

    name: str
    settings_model: type[KindSettings]
    renderer: Renderer | str

    def resolve_renderer(self) -> Renderer:
        """The renderer function, imported now if it was named as ``module:function``."""
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
    """The registered kind of this name; KeyError naming the known kinds otherwise."""
    try:
        return _KINDS[name]
    except KeyError:
        raise KeyError(
            f"unknown task kind {name!r}; known kinds: {', '.join(kind_names())}"
        ) from None


def kind_names() -> list[str]:
    """The names of the registered kinds, sorted."""
    return sorted(_KINDS)


TriggerRuleName = Literal[
    "all_success",
    "all_failed",
    "all_done",
    "all_done_min_one_success",
    "all_done_setup_success",
    "one_success",
    "one_failed",
    "one_done",
    "none_failed",
    "none_skipped",
    "always",
    "none_failed_min_one_success",
    "all_skipped",
]
ParamType = Literal["string", "integer", "number", "boolean", "array", "object"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RunParam(_Model):
    """A typed run parameter: an Airflow ``Param`` shown in the trigger form, filled by ``conf``."""

    type: ParamType = "string"
    default: JsonValue = None
    description: str | None = None
    minimum: int | float | None = None
    maximum: int | float | None = None
    enum: list[JsonValue] | None = None


class IntervalSchedule(_Model):
    """Run every fixed interval (``{every: PT6H}`` in YAML)."""

    every: timedelta

    @field_validator("every")
    @classmethod
    def _positive(cls, every: timedelta) -> timedelta:
        if every <= timedelta(0):
            raise ValueError("the interval must be positive")
        return every


class AssetSchedule(_Model):
    """Run when Airflow assets are updated: all of them (default) or any of them."""

    assets: list[str] = Field(min_length=1)
    mode: Literal["all", "any"] = "all"


Schedule = AssetSchedule | IntervalSchedule | str | None


class FanOut(_Model):
    """Expand a task over values (Airflow dynamic task mapping): an explicit list or a grid."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    # "list" in YAML; not the attribute name, as it would shadow the builtin in this class body.
    items: list[dict[str, JsonValue]] | None = Field(default=None, min_length=1, alias="list")
    grid: dict[str, list[JsonValue]] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> FanOut:
        if (self.items is None) == (self.grid is None):
            raise ValueError("give exactly one of 'list' (combinations) or 'grid' (name: values)")
        if self.grid is not None:
            if not self.grid:
                raise ValueError("'grid' needs at least one name")
            for name, values in self.grid.items():
                if not values:
                    raise ValueError(f"'grid.{name}' needs at least one value")
        return self

    def combinations(self) -> list[dict[str, Any]]:
        """One mapping of values per mapped task instance, in a stable order."""
        if self.items is not None:
            return [dict(item) for item in self.items]
        names = list(self.grid or {})
        values = [self.grid[name] for name in names] if self.grid else []
        return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*values)]


class Position(_Model):
    """Where the canvas draws a task box (its centre, in the canvas's units)."""

    x: float
    y: float


class CanvasLayout(_Model):
    """Task positions placed by hand on the designer's canvas. Only the canvas reads them: code
    generation and the spec's digest leave them out, so moving a box never changes the DAG."""

    positions: dict[str, Position] = Field(default_factory=dict)


class TaskSpec(_Model):
    """One task: its kind and kind settings, its upstream tasks and per-task overrides."""

    id: str
    kind: str
    settings: SerializeAsAny[KindSettings]
    upstream: list[str] = Field(default_factory=list)
    fan_out: FanOut | None = None
    retries: int | None = Field(default=None, ge=0)
    retry_delay: timedelta | None = None
    execution_timeout: timedelta | None = None
    pool: str | None = None
    trigger_rule: TriggerRuleName | None = None
    doc: str | None = None
    outlets: list[str] = Field(
        default_factory=list,
        description="URIs of the Airflow assets this task updates when it succeeds (its "
        "'outlets'): DAGs scheduled on those assets run after it.",
    )
    depends_on_past: bool | None = Field(
        default=None,
        description="Run only if this task succeeded (or was skipped) in the previous run "
        "(Airflow's depends_on_past).",
    )

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, kind: str) -> str:
        get_kind_or_error(kind)
        return kind

    @field_validator("settings", mode="before")
    @classmethod
    def _kind_settings(cls, value: Any, info: ValidationInfo) -> Any:
        kind_name = info.data.get("kind")
        if kind_name is None:  # the kind itself is wrong; that error is already reported
            raise PydanticCustomError("kind_settings", "settings of an unknown kind", {})
        model = get_kind(kind_name).settings_model
        if isinstance(value, model):
            return value
        if isinstance(value, KindSettings):
            value = value.model_dump(by_alias=True, exclude_unset=True)
        try:
            return model.model_validate(value)
        except ValidationError as exc:
            # Keep each nested error so the caller can report them one by one, with their field.
            raise PydanticCustomError(
                "kind_settings",
                "invalid {kind} settings ({count} problem(s))",
                {"kind": kind_name, "count": exc.error_count(), "errors": exc.errors()},
            ) from None


def get_kind_or_error(kind: str) -> None:
    """ValueError naming the known kinds if ``kind`` is not registered."""
    try:
        get_kind(kind)
    except KeyError as exc:
        raise ValueError(str(exc).strip("'\"")) from None


class PipelineSpec(_Model):
    """A pipeline: DAG settings, run parameters and tasks. Saved as ``pipelines/<dag_id>.yaml``."""

    dag_id: str
    display_name: str | None = Field(
        default=None,
        description="The name Airflow's UI shows for the DAG instead of its id (dag_display_name).",
    )
    description: str | None = None
    doc: str | None = Field(
        default=None,
        description="Documentation of the DAG, in Markdown, shown on its page in Airflow's UI "
        "(the DAG's doc_md). 'description' stays the one-line summary.",
    )
    schedule: Schedule = None
    start_date: date | datetime | None = None
    timezone: str = "UTC"
    catchup: bool = False
    tags: list[str] = Field(default_factory=list)
    owner: str = "airflow"
    retries: int = Field(default=0, ge=0)
    retry_delay: timedelta = timedelta(minutes=5)
    execution_timeout: timedelta | None = None
    depends_on_past: bool | None = Field(
        default=None,
        description="Every task runs only if it succeeded (or was skipped) in the previous run, "
        "unless the task says otherwise (default_args['depends_on_past']; left out if unset).",
    )
    dagrun_timeout: timedelta | None = Field(
        default=None,
        description="How long a run may take before Airflow fails it (the DAG's dagrun_timeout).",
    )
    max_active_runs: int | None = Field(default=None, ge=1)
    max_active_tasks: int | None = Field(default=None, ge=1)
    failure_email: list[str] = Field(default_factory=list)
    access: dict[str, AccessLevel] = Field(
        default_factory=dict,
        description="Per-DAG access for Airflow's FAB roles: role name -> read (the DAG, its "
        "runs, logs and output notebooks), edit (also pause and unpause) or run (also trigger). "
        "Admin needs no entry.",
        json_schema_extra={"propertyNames": ROLE_NAME_SCHEMA},
    )
    params: dict[str, RunParam] = Field(default_factory=dict)
    tasks: list[TaskSpec] = Field(default_factory=list)
    layout: CanvasLayout | None = None

    @field_validator("schedule", mode="before")
    @classmethod
    def _none_schedule(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().lower() in ("none", "null", ""):
            return None
        return value

    @field_validator("start_date", mode="before")
    @classmethod
    def _naive_start(cls, value: Any) -> Any:
        if isinstance(value, str):
            # A bare date stays a date; anything longer is a date-time (checked for a zone below).
            value = value.strip()
            try:
                value = (
                    date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
                )
            except ValueError:
                return value  # pydantic reports it
        if isinstance(value, datetime) and value.tzinfo is not None:
            raise ValueError("give start_date without a time zone and set 'timezone' instead")
        return value

    def task(self, task_id: str) -> TaskSpec:
        """The task with this id (the first one, if ids are duplicated)."""
        for task in self.tasks:
            if task.id == task_id:
                return task
        raise KeyError(task_id)

    @property
    def task_ids(self) -> list[str]:
        """The tasks' ids in spec order (duplicates kept)."""
        return [task.id for task in self.tasks]

    def edges(self) -> list[tuple[str, str]]:
        """``(upstream, downstream)`` pairs in spec order."""
        return [(up, task.id) for task in self.tasks for up in task.upstream]

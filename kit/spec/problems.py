"""Problems found in a pipeline spec, and the exceptions that carry them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ValidationError

Level = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a spec: where it is (task, field), what it is, and how to fix it."""

    level: Level
    task_id: str | None
    field: str
    message: str
    fix: str = ""

    @property
    def is_error(self) -> bool:
        """True for an error (export refuses), False for a warning."""
        return self.level == "error"

    def __str__(self) -> str:
        where = f"task {self.task_id!r}" if self.task_id is not None else "pipeline"
        text = f"{self.level}: {where}, {self.field}: {self.message}"
        return f"{text} Fix: {self.fix}" if self.fix else text


def error(task_id: str | None, field: str, message: str, fix: str = "") -> Problem:
    """A problem that stops validation and export."""
    return Problem("error", task_id, field, message, fix)


def warning(task_id: str | None, field: str, message: str, fix: str = "") -> Problem:
    """A problem that is reported but lets export go ahead."""
    return Problem("warning", task_id, field, message, fix)


def errors_only(problems: Iterable[Problem]) -> list[Problem]:
    """The errors among ``problems``, warnings left out."""
    return [p for p in problems if p.is_error]


class SpecError(Exception):
    """A spec could not be loaded or used; ``problems`` lists every reason."""

    def __init__(self, problems: Sequence[Problem], source: str | None = None) -> None:
        self.problems = list(problems)
        self.source = source
        head = f"{source}: " if source else ""
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"{head}{len(self.problems)} problem(s)\n{lines}")


class ValidationFailed(SpecError):
    """Validation found errors (warnings alone never raise)."""


def problems_from_pydantic(exc: ValidationError, raw: Any = None) -> list[Problem]:
    """Turn pydantic's errors into Problems that name the task (by id when the input has one)."""
    problems: list[Problem] = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        nested = (err.get("ctx") or {}).get("errors")
        if err["type"] == "kind_settings":
            # No nested errors: the kind is unknown, which its own error already says.
            for sub in nested or []:
                problems.append(_one(loc + tuple(sub["loc"]), sub["msg"], raw, _fix_for(sub)))
        else:
            problems.append(_one(loc, err["msg"], raw, _fix_for(err)))
    return problems


def _one(loc: tuple[Any, ...], msg: str, raw: Any, fix: str) -> Problem:
    task_id: str | None = None
    rest = loc
    if len(loc) >= 2 and loc[0] == "tasks" and isinstance(loc[1], int):
        task_id = _task_id_at(raw, loc[1])
        rest = loc[2:]
    field = ".".join(str(part) for part in rest) or "(task)"
    if task_id is None and loc and loc[0] != "tasks":
        field = ".".join(str(part) for part in loc)
    msg = msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return error(task_id, field, msg.rstrip(".") + ".", fix)


def _task_id_at(raw: Any, index: int) -> str:
    if isinstance(raw, Mapping):
        tasks = raw.get("tasks")
        if isinstance(tasks, list) and 0 <= index < len(tasks):
            item = tasks[index]
            if isinstance(item, Mapping) and isinstance(item.get("id"), str):
                return item["id"]
    return f"tasks[{index}]"


def _fix_for(err: Mapping[str, Any]) -> str:
    """What to write instead, from pydantic's error type (its message says what is wrong)."""
    kind, ctx = err.get("type", ""), err.get("ctx") or {}
    if kind == "missing":
        return "add this field."
    if kind == "extra_forbidden":
        return "remove this field or check its spelling."
    if kind.startswith("time_delta"):
        return "give seconds (e.g. 300) or an ISO 8601 duration (e.g. PT5M, PT1H30M)."
    if kind == "greater_than_equal":
        return f"give a number of at least {ctx.get('ge')}, or remove the field."
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return "give a whole number."
    if kind == "literal_error" and ctx.get("expected"):
        return f"use one of {ctx['expected']}."
    return "correct the value."

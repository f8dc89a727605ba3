"""What a notebook declares in its ``parameters`` cell, and the checks of notebook tasks."""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kit.spec.problems import Problem, error, warning
from kit.spec.values import ParamRef, ResultRef

if TYPE_CHECKING:
    from kit.spec.kinds import CheckContext, NotebookSettings
    from kit.spec.model import TaskSpec

PARAMETERS_TAG = "parameters"
UNKNOWN = object()  # a declared parameter whose default is not a literal

# JSON-schema type of a run parameter -> the Python type its value has at run time.
PARAM_PY_TYPES: dict[str, type] = {
    "string": str,
    "integer": int,
    "number": float,
    "boolean": bool,
    "array": list,
    "object": dict,
}


@dataclass(frozen=True)
class NotebookParameters:
    """The names and literal defaults of a notebook's ``parameters`` cell (None: no such cell)."""

    defaults: dict[str, Any] | None


def read_parameters(path: Path) -> NotebookParameters:
    """Read the cell tagged ``parameters``; ValueError if the file is not a notebook."""
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
        cells = nb["cells"]
    except (json.JSONDecodeError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path} is not a readable notebook ({exc})") from exc
    for cell in cells:
        tags = (cell.get("metadata") or {}).get("tags") or []
        if cell.get("cell_type") == "code" and PARAMETERS_TAG in tags:
            source = cell.get("source", "")
            text = "".join(source) if isinstance(source, list) else str(source)
            return NotebookParameters(parse_parameters_source(text))
    return NotebookParameters(None)


def parse_parameters_source(text: str) -> dict[str, Any]:
    """Names assigned in a parameters cell, with their literal default (UNKNOWN if not literal)."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return {}
    declared: dict[str, Any] = {}
    for node in tree.body:
        targets: list[ast.expr] = []
        value: ast.expr | None = None
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign):
            targets, value = [node.target], node.value
        for target in targets:
            if isinstance(target, ast.Name):
                declared[target.id] = _literal(value)
    return declared


def _literal(node: ast.expr | None) -> Any:
    if node is None:
        return UNKNOWN
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return UNKNOWN


def type_matches(default: Any, value: Any) -> bool:
    """Whether ``value`` can replace a notebook default without changing its type."""
    if default is UNKNOWN or default is None:
        return True
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, int):
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, int | float) and not isinstance(value, bool)
    if isinstance(default, str):
        return isinstance(value, str)
    if isinstance(default, list | tuple):
        return isinstance(value, list | tuple)
    if isinstance(default, dict):
        return isinstance(value, dict)
    return True


def _sample(py_type: type) -> Any:
    return {str: "", int: 0, float: 0.0, bool: False, list: [], dict: {}}[py_type]


def _type_name(value: Any) -> str:
    return type(value).__name__


def resolve_notebook(project_dir: Path, notebook: str) -> Path:
    path = Path(notebook)
    return path if path.is_absolute() else project_dir / path


def check_notebook_task(
    task: TaskSpec, settings: NotebookSettings, ctx: CheckContext
) -> list[Problem]:
    """The notebook exists, has a parameters cell, declares what it gets, with matching types."""
    path = resolve_notebook(ctx.project_dir, settings.notebook)
    field = "settings.notebook"
    if not path.is_file():
        return [
            error(
                task.id,
                field,
                f"notebook {settings.notebook!r} does not exist (looked at {path}).",
                "correct the path (relative to the project folder) or create the notebook.",
            )
        ]
    try:
        declared = read_parameters(path).defaults
    except ValueError as exc:
        return [error(task.id, field, str(exc), "save the notebook again from Jupyter.")]
    if declared is None:
        return [
            error(
                task.id,
                field,
                f"notebook {settings.notebook!r} has no cell tagged 'parameters'.",
                "in Jupyter, add the tag 'parameters' to the cell that sets the defaults "
                "(View > Cell Toolbar > Tags).",
            )
        ]
    given: list[tuple[str, str, Any]] = [
        (f"settings.parameters.{name}", name, value) for name, value in settings.parameters.items()
    ]
    if task.fan_out is not None:
        for combo in task.fan_out.combinations():
            given.extend(("fan_out", name, value) for name, value in combo.items())
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    for where, name, value in given:
        if name not in declared:
            if (where, name) not in seen:
                problems.append(
                    warning(
                        task.id,
                        where if where != "fan_out" else f"fan_out.{name}",
                        f"notebook {settings.notebook!r} does not declare a parameter {name!r}; "
                        "papermill will add it anyway.",
                        f"declare {name} in the notebook's parameters cell, or check the spelling.",
                    )
                )
                seen.add((where, name))
            continue
        problem = _type_problem(task, ctx, where, name, value, declared[name], settings.notebook)
        if problem is not None and (where, name) not in seen:
            problems.append(problem)
            seen.add((where, name))
    return problems


def _type_problem(
    task: TaskSpec,
    ctx: CheckContext,
    where: str,
    name: str,
    value: Any,
    default: Any,
    notebook: str,
) -> Problem | None:
    if isinstance(value, ResultRef):
        return None  # known only at run time
    shown = repr(value)
    if isinstance(value, ParamRef):
        param = ctx.spec.params.get(value.param)
        if param is None:
            return None  # reported by the reference check
        shown = f"run parameter {value.param!r} ({param.type})"
        value = _sample(PARAM_PY_TYPES[param.type])
    if type_matches(default, value):
        return None
    return error(
        task.id,
        where if where != "fan_out" else f"fan_out.{name}",
        f"{name!r} gets {shown} but the notebook's default is {default!r} ({_type_name(default)}).",
        f"give a {_type_name(default)}, or change the default in {notebook}.",
    )

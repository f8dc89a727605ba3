"""The checks of notebook tasks: the notebook exists, and gets what its ``parameters`` cell
declares (read as papermill reads it: ``kit.spec.notebook_parameters``)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kit.spec.notebook_parameters import (
    PARAM_PY_TYPES,
    UNKNOWN,
    DeclaredParameter,
    NotebookParameters,
    read_parameters,
    type_matches,
)
from kit.spec.problems import Problem, error, warning
from kit.spec.values import ParamRef, ResultRef

if TYPE_CHECKING:
    from kit.spec.model import CheckContext, TaskSpec

__all__ = ["PARAM_PY_TYPES", "UNKNOWN", "check_notebook_task", "read_parameters", "type_matches"]


def _sample(py_type: type) -> Any:
    return {str: "", int: 0, float: 0.0, bool: False, list: [], dict: {}}[py_type]


def resolve_notebook(project_dir: Path, notebook: str) -> Path:
    path = Path(notebook)
    return path if path.is_absolute() else project_dir / path


def check_notebook_task(
    task: TaskSpec, ctx: CheckContext, notebook: str, parameters: Mapping[str, Any]
) -> list[Problem]:
    """The notebook exists and is readable; what it is given is declared, with matching types."""
    path = resolve_notebook(ctx.project_dir, notebook)
    field = "settings.notebook"
    if not path.is_file():
        return [
            error(
                task.id,
                field,
                f"notebook {notebook!r} does not exist (looked at {path}).",
                "correct the path (relative to the project folder) or create the notebook.",
            )
        ]
    try:
        declared = read_parameters(path)
    except ValueError as exc:
        return [error(task.id, field, str(exc), "save the notebook again from Jupyter.")]
    given: list[tuple[str, str, Any]] = [
        (f"settings.parameters.{name}", name, value) for name, value in parameters.items()
    ]
    if task.fan_out is not None:
        for combo in task.fan_out.combinations():
            given.extend((f"fan_out.{name}", name, value) for name, value in combo.items())
    if not declared.has_cell:
        return _no_cell(task, notebook, given)
    problems = _cell_problems(task, notebook, declared)
    seen: set[tuple[str, str]] = set()
    for where, name, value in given:
        if (where, name) in seen:
            continue
        problem = _given_problem(task, ctx, where, name, value, declared, notebook)
        if problem is not None:
            problems.append(problem)
            seen.add((where, name))
    return problems


def _no_cell(task: TaskSpec, notebook: str, given: list[tuple[str, str, Any]]) -> list[Problem]:
    """Nothing given: the notebook runs as it is. Something given: papermill puts it first."""
    names = sorted({name for _where, name, _value in given})
    if not names:
        return []
    return [
        warning(
            task.id,
            "settings.notebook",
            f"notebook {notebook!r} has no cell tagged 'parameters': papermill will insert "
            f"{', '.join(names)} in a new first cell, before the notebook's own code.",
            "tag the cell that sets the defaults 'parameters' (JupyterLab: the property "
            "inspector's cell tags), so the given values replace them.",
        )
    ]


def _cell_problems(task: TaskSpec, notebook: str, declared: NotebookParameters) -> list[Problem]:
    """Lines of the parameters cell that papermill could not read, said once."""
    if not declared.unreadable and (declared.parameters or not declared.cell_has_code):
        return []
    lines = "; ".join(f"line {n}: {text.strip()!r}" for n, text in declared.unreadable)
    what = (
        f"papermill cannot read the parameters cell of {notebook!r}"
        if not declared.parameters
        else f"papermill cannot read part of the parameters cell of {notebook!r}"
    )
    return [
        warning(
            task.id,
            "settings.notebook",
            f"{what} ({lines or 'no line is a plain assignment'}): what is set there is not "
            "checked, and not listed by `papermill --help-notebook`.",
            "write one `name = value` per line in the parameters cell (an annotation and a "
            "comment as help are fine: `rate: float = 0.1  # learning rate`).",
        )
    ]


def _given_problem(
    task: TaskSpec,
    ctx: CheckContext,
    where: str,
    name: str,
    value: Any,
    declared: NotebookParameters,
    notebook: str,
) -> Problem | None:
    parameter = declared.parameters.get(name)
    if parameter is not None:
        return _type_problem(task, ctx, where, value, parameter, notebook)
    if declared.unreadable_line_of(name) is not None:
        return None  # said once, for the whole cell, by _cell_problems
    return warning(
        task.id,
        where,
        f"notebook {notebook!r} does not declare a parameter {name!r}; "
        "papermill will add it anyway.",
        f"declare {name} in the notebook's parameters cell, or check the spelling.",
    )


def _type_problem(
    task: TaskSpec,
    ctx: CheckContext,
    where: str,
    value: Any,
    parameter: DeclaredParameter,
    notebook: str,
) -> Problem | None:
    expected = parameter.expected
    if expected is None or isinstance(value, ResultRef):
        return None  # nothing to check against, or known only at run time
    shown = f"{value!r} ({type(value).__name__})"
    if isinstance(value, ParamRef):
        param = ctx.spec.params.get(value.param)
        if param is None:
            return None  # reported by the reference check
        shown = f"run parameter {value.param!r} ({param.type})"
        value = _sample(PARAM_PY_TYPES[param.type])
    if expected.accepts(value):
        return None
    name = parameter.name
    if expected.from_annotation:
        declaration = f"the notebook declares {name}: {expected.declared_as}"
        change = "the annotation"
    else:
        declaration = f"the notebook's default is {parameter.default!r} ({expected.declared_as})"
        change = "the default"
    return error(
        task.id,
        where,
        f"{name!r} gets {shown} but {declaration}.",
        f"give {expected.a_value}, or change {change} in {notebook}.",
    )

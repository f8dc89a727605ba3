"""Reading a DAG file's source with ``ast``: where a task is written, and what the kit's own
generated ``@task`` functions call. Airflow records no line number for a task, so we find it."""

from __future__ import annotations

import ast
import inspect
import textwrap
from functools import cache
from pathlib import Path
from typing import Any

from kit.dagview.model import task_lines


@cache
def _text(path: str) -> str | None:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, ValueError):
        return None


@cache
def _tree(path: str) -> ast.Module | None:
    text = _text(path)
    try:
        return ast.parse(text) if text is not None else None
    except (SyntaxError, ValueError):
        return None


def task_line(fileloc: str, task: Any) -> int | None:
    """The line where ``task`` is created: its function's ``def`` for a TaskFlow task, else the
    first place the file writes its id (``kit.dagview.model.task_lines``: an operator's literal
    ``task_id=``, a decorated function), else an f-string ``task_id=`` that starts like it."""
    func = getattr(task, "python_callable", None)
    if func is not None and getattr(task, "operator_name", "") == "@task":
        try:
            return inspect.getsourcelines(func)[1]
        except (OSError, TypeError):
            pass
    text = _text(fileloc)
    if text is None:
        return None
    written = task_lines(text)
    # In a task group the code names the task without the group's prefix (its label).
    for name in (task.task_id, str(getattr(task, "label", task.task_id))):
        if written.get(name):
            return written[name][0]
    tree = _tree(fileloc)
    for node in ast.walk(tree) if tree is not None else ():
        if not isinstance(node, ast.Call):
            continue
        for kw in node.keywords:
            if kw.arg == "task_id" and isinstance(kw.value, ast.JoinedStr) and kw.value.values:
                head = kw.value.values[0]
                if isinstance(head, ast.Constant) and task.task_id.startswith(str(head.value)):
                    return node.lineno
    return None


def where(fileloc: str, line: int | None) -> str:
    """``file:line`` (``file`` alone when the line is unknown)."""
    return f"{fileloc}:{line}" if line else fileloc


@cache
def dag_line(fileloc: str, dag_id: str) -> int | None:
    """The line of the DAG's definition (``DAG(dag_id=...)`` or the ``@dag`` function)."""
    tree = _tree(fileloc)
    if tree is None:
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for kw in node.keywords:
                value = kw.value
                if kw.arg == "dag_id" and isinstance(value, ast.Constant) and value.value == dag_id:
                    return node.lineno
        if isinstance(node, ast.FunctionDef) and node.name == dag_id and node.decorator_list:
            return node.lineno
    return None


class Unreadable(Exception):
    """A function's body is not the call shape the kit generates."""


def function_def(func: Any) -> ast.FunctionDef:
    """The ``def`` of a Python function, parsed from its source."""
    try:
        text = textwrap.dedent(inspect.getsource(func))
    except (OSError, TypeError) as exc:
        raise Unreadable(f"its source cannot be read ({exc})") from None
    for node in ast.parse(text).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            return node  # type: ignore[return-value]
    raise Unreadable("no function definition in its source")


def generated_call(func: Any) -> tuple[str, ast.Call]:
    """``("module:function", call)`` of a kit-generated task function: its body is exactly
    ``from M import F [as G]`` then ``return G(...)``."""
    node = function_def(func)
    body = [s for s in node.body if not _is_docstring(s)]
    if len(body) != 2 or not isinstance(body[0], ast.ImportFrom):
        raise Unreadable("its body is not 'from module import function; return function(...)'")
    imp, ret = body
    if len(imp.names) != 1 or not imp.module:
        raise Unreadable("it imports more than one name")
    alias = imp.names[0]
    local = alias.asname or alias.name
    if not (isinstance(ret, ast.Return) and isinstance(ret.value, ast.Call)):
        raise Unreadable("it does not return one call")
    call = ret.value
    attrs: list[str] = []
    target = call.func
    while isinstance(target, ast.Attribute):  # "obj.attr(...)": module:obj.attr
        attrs.insert(0, target.attr)
        target = target.value
    if not (isinstance(target, ast.Name) and target.id == local):
        raise Unreadable("it does not return a call of the imported function")
    return f"{imp.module}:{'.'.join([alias.name, *attrs])}", call


def _is_docstring(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)


def is_task_decorator(node: ast.expr) -> bool:
    """Whether a decorator is written ``@task`` or ``@task(...)``."""
    if isinstance(node, ast.Call):
        node = node.func
    return isinstance(node, ast.Name) and node.id == "task"


def top_level_def_problem(fileloc: str, name: str, task_ok: bool = False) -> str | None:
    """Why ``name`` is not a plain function defined once at the top level of the file (blocks
    such as ``with DAG(...):`` count as top level), or None if it is. ``task_ok``: a function
    decorated only with ``@task``/``@task(...)`` counts too (the caller calls its ``.function``)."""
    tree = _tree(fileloc)
    if tree is None:
        return "the DAG file's source cannot be read"
    found: list[ast.FunctionDef | ast.AsyncFunctionDef] = []
    rebound = False
    stack: list[ast.stmt] = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
            found.append(node)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            rebound |= any(isinstance(t, ast.Name) and t.id == name for t in targets)
        elif isinstance(node, ast.With | ast.If | ast.Try | ast.For):
            for block in ("body", "orelse", "finalbody"):
                stack.extend(getattr(node, block, []))
    if not found:
        return f"{name!r} is not defined at the top level of the DAG file"
    if len(found) > 1 or rebound:
        return f"{name!r} is defined or assigned more than once in the DAG file"
    decorators = found[0].decorator_list
    if task_ok and len(decorators) == 1 and is_task_decorator(decorators[0]):
        return None
    if decorators:
        return (
            f"{name!r} is decorated in the DAG file (e.g. with @task), so the module holds "
            "the decorated object, not a function the kit's python kind can call"
        )
    return None

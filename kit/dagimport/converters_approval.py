"""Converters of Airflow's human-in-the-loop operators to the ``approval`` kind.

``ApprovalOperator`` (Approve / Reject) and ``HITLOperator`` (options of one's own). The kit's
own "ask only when a run parameter is true" is a ``pre_execute`` hook the code generator writes
(``kit/codegen/templates/kinds/approval_gate.py.j2``); it is read back from a file the kit
generated, and any other hook is refused. Airflow's serializer keeps only the subject and body
of these operators, so what it does not keep (options, defaults, timeout, respondents) is read
from the operator itself and the round trip cannot check it: each is converted or refused here.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from typing import Any

from kit.dagimport.converters import Converted, ImportContext, register_converter
from kit.dagimport.problems import Refuse

APPROVE_REJECT = ["Approve", "Reject"]
# What the serializer records of these operators that this conversion accounts for.
HANDLED = {"subject", "body", "_pre_execute_hook", "_can_skip_downstream"}


def convert_approval(task: Any, ctx: ImportContext) -> Converted:
    """ApprovalOperator / HITLOperator -> ``approval``."""
    if getattr(task, "is_mapped", False):
        raise Refuse("a mapped approval has no kit kind")
    reasons: list[str] = []
    settings: dict[str, Any] = {"subject": task.subject}
    if task.body is not None:
        settings["body"] = task.body
    is_approval = type(task).__name__ == "ApprovalOperator"
    if not is_approval:
        settings["options"] = list(task.options)
        if task.multiple:
            settings["multiple"] = True
    if task.defaults is not None:
        settings["defaults"] = list(task.defaults)
    if task.response_timeout is not None:
        settings["timeout"] = task.response_timeout
    users = task.assigned_users or []
    if users:
        settings["assigned_users"] = [{"id": u["id"], "name": u["name"]} for u in users]
    if is_approval:
        if getattr(task, "fail_on_reject", False):
            settings["fail_on_reject"] = True
        if getattr(task, "ignore_downstream_trigger_rules", True):
            reasons.append(
                "ignore_downstream_trigger_rules=True (a rejection skips every task after it); "
                "the kit's approval skips only the tasks right after it"
            )
    if task.notifiers:
        reasons.append("notifiers have no kit setting")
    if _hitl_params(task):
        reasons.append("params asked of the person (a form) have no kit setting")
    hook = getattr(task, "_pre_execute_hook", None)
    if hook is not None:
        required = _gate(hook) if ctx.generated else None
        if required is None:
            reasons.append("a pre_execute hook has no kit setting")
        else:
            settings["required"] = required
    if reasons:
        raise Refuse(*reasons)
    return Converted("approval", settings, handled=set(HANDLED))


def _hitl_params(task: Any) -> dict[str, Any]:
    # HITLOperator keeps its form's fields in ``params`` (a ParamsDict); empty by default.
    params = getattr(task, "params", None) or {}
    return dict(params) if not hasattr(params, "dump") else dict(params.dump())


def _gate(hook: Any) -> bool | dict[str, str] | None:
    """The ``required`` setting the kit's generated gate hook stands for: ``{"$param": name}``
    when it skips unless ``context["params"][name]``, False when it always skips; None when the
    hook is not the kit's."""
    try:
        source = textwrap.dedent(inspect.getsource(hook))
        (func,) = ast.parse(source).body
    except (OSError, TypeError, SyntaxError, ValueError):
        return None
    if not isinstance(func, ast.FunctionDef):
        return None
    body = [n for n in func.body if not (isinstance(n, ast.Expr) and _is_str(n.value))]
    if len(body) != 1:
        return None
    (node,) = body
    if isinstance(node, ast.Raise) and _raises_skip(node):
        return False
    if (
        isinstance(node, ast.If)
        and not node.orelse
        and len(node.body) == 1
        and isinstance(node.body[0], ast.Raise)
        and _raises_skip(node.body[0])
        and isinstance(node.test, ast.UnaryOp)
        and isinstance(node.test.op, ast.Not)
    ):
        name = _context_param(node.test.operand)
        return {"$param": name} if name else None
    return None


def _is_str(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _raises_skip(node: ast.Raise) -> bool:
    exc = node.exc
    return (
        isinstance(exc, ast.Call)
        and isinstance(exc.func, ast.Name)
        and exc.func.id == "AirflowSkipException"
    )


def _context_param(node: ast.expr) -> str | None:
    """``name`` of ``context["params"]["name"]``."""
    if not (isinstance(node, ast.Subscript) and _is_str(node.slice)):
        return None
    inner = node.value
    if (
        isinstance(inner, ast.Subscript)
        and isinstance(inner.value, ast.Name)
        and inner.value.id == "context"
        and _is_str(inner.slice)
        and inner.slice.value == "params"  # type: ignore[attr-defined]
    ):
        return node.slice.value  # type: ignore[attr-defined,no-any-return]
    return None


register_converter("ApprovalOperator", convert_approval)
register_converter("HITLOperator", convert_approval)

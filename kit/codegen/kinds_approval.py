"""Renderer of the ``approval`` kind: Airflow's ``ApprovalOperator`` (or ``HITLOperator`` for
options of one's own), preceded by a short-circuit task when the approval is not always asked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kit.codegen.render import RenderContext, RenderedTask
from kit.spec.kinds_approval import ApprovalSettings
from kit.spec.model import TaskSpec
from kit.spec.values import ParamRef

HITL_MODULE = "airflow.providers.standard.operators.hitl"


@dataclass(frozen=True)
class Gate:
    """The short-circuit task in front of an approval that is not always asked."""

    task_id: str
    func: str
    param: str | None  # the run parameter that says whether to ask; None: never ask
    doc: str


def gate_task_id(task_id: str) -> str:
    """The id of the short-circuit task of approval ``task_id`` (validation keeps it free)."""
    return f"{task_id}_required"


def operator_kwargs(task: TaskSpec, ctx: RenderContext) -> list[tuple[str, Any]]:
    """The operator's keyword arguments, in the order a person would write them."""
    settings = task.settings
    assert isinstance(settings, ApprovalSettings)
    kwargs = ctx.task_kwargs(task)
    kwargs.append(("subject", settings.subject))
    if settings.body is not None:
        kwargs.append(("body", settings.body))
    if settings.options is not None:
        kwargs.append(("options", list(settings.options)))
        if settings.multiple:
            kwargs.append(("multiple", True))
    if settings.assigned_users:
        kwargs.append(("assigned_users", [u.model_dump() for u in settings.assigned_users]))
    if settings.timeout is not None:
        kwargs.append(("response_timeout", settings.timeout))
    if settings.defaults is not None:
        kwargs.append(("defaults", list(settings.defaults)))
    if settings.fail_on_reject:
        kwargs.append(("fail_on_reject", True))
    return kwargs


def render_approval(task: TaskSpec, ctx: RenderContext) -> RenderedTask:
    """``ApprovalOperator(...)``/``HITLOperator(...)``; ``gate() >> ...`` when not always asked."""
    settings = task.settings
    assert isinstance(settings, ApprovalSettings)
    operator = "ApprovalOperator" if settings.approval else "HITLOperator"
    imports = {f"from {HITL_MODULE} import {operator}"}
    gate = None
    definition = ""
    if settings.required is not True:
        param = settings.required.param if isinstance(settings.required, ParamRef) else None
        doc = (
            f"Skip {task.id} (the tasks after it still run) unless {param!r} is true."
            if param
            else f"Skip {task.id} (the tasks after it still run): required is false."
        )
        gate = Gate(gate_task_id(task.id), f"{ctx.func_names[task.id]}_required", param, doc)
        definition = ctx.snippet("kinds/approval_gate.py.j2", gate=gate)
        imports.add("from airflow.sdk import task")
    instance = ctx.snippet(
        "kinds/approval.py.j2",
        gate=gate,
        operator=operator,
        kwargs=operator_kwargs(task, ctx),
    ).strip()
    return RenderedTask(
        definition=definition.rstrip(),
        instance=instance,
        imports=imports,
        is_operator=True,
    )

"""Renderer of the ``approval`` kind: Airflow's ``ApprovalOperator`` (or ``HITLOperator`` for
options of one's own). When the approval is not always asked, a ``pre_execute`` hook skips the
task (no answer asked; the tasks after it run on their ``none_failed`` rule): one spec task stays
one Airflow task."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kit.codegen.literals import Code
from kit.codegen.render import RenderContext, RenderedTask
from kit.spec.kinds_approval import ApprovalSettings
from kit.spec.model import TaskSpec
from kit.spec.values import ParamRef

HITL_MODULE = "airflow.providers.standard.operators.hitl"


@dataclass(frozen=True)
class Gate:
    """The ``pre_execute`` hook of an approval that is not always asked."""

    func: str
    param: str | None  # the run parameter that says whether to ask; None: never ask
    doc: str
    reason: str  # the skip's message, in the task's log


def operator_kwargs(
    task: TaskSpec, ctx: RenderContext, gate: Gate | None = None
) -> list[tuple[str, Any]]:
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
    if gate is not None:
        kwargs.append(("pre_execute", Code(gate.func)))
    return kwargs


def render_approval(task: TaskSpec, ctx: RenderContext) -> RenderedTask:
    """``ApprovalOperator(...)``/``HITLOperator(...)``, with its skip hook when not always asked."""
    settings = task.settings
    assert isinstance(settings, ApprovalSettings)
    operator = "ApprovalOperator" if settings.approval else "HITLOperator"
    imports = {f"from {HITL_MODULE} import {operator}"}
    gate = None
    definition = ""
    if settings.required is not True:
        param = settings.required.param if isinstance(settings.required, ParamRef) else None
        if param:
            doc = f"Skip {task.id} (the tasks after it still run) unless {param!r} is true."
            reason = f"{param} is false: no approval asked"
        else:
            doc = f"Skip {task.id} (the tasks after it still run): required is false."
            reason = "required is false: no approval asked"
        gate = Gate(f"{ctx.func_names[task.id]}_required", param, doc, reason)
        definition = ctx.snippet("kinds/approval_gate.py.j2", gate=gate)
        imports.add("from airflow.sdk.exceptions import AirflowSkipException")
    instance = ctx.snippet(
        "kinds/approval.py.j2", operator=operator, kwargs=operator_kwargs(task, ctx, gate)
    ).strip()
    return RenderedTask(
        definition=definition.rstrip(),
        instance=instance,
        imports=imports,
        is_operator=True,
    )

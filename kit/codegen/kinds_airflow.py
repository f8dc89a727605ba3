"""Renderers of the plain-operator kinds: ``empty`` and ``trigger_dag``."""

from __future__ import annotations

from typing import Any

from kit.codegen.render import RenderContext, RenderedTask
from kit.spec.kinds_airflow import TriggerDagSettings
from kit.spec.model import TaskSpec


def _operator(
    ctx: RenderContext, name: str, module: str, kwargs: list[tuple[str, Any]]
) -> RenderedTask:
    instance = ctx.snippet("kinds/operator.py.j2", operator=name, kwargs=kwargs).strip()
    return RenderedTask(
        definition="",
        instance=instance,
        imports={f"from {module} import {name}"},
        is_operator=True,
    )


def render_empty(task: TaskSpec, ctx: RenderContext) -> RenderedTask:
    """An ``EmptyOperator``."""
    return _operator(
        ctx, "EmptyOperator", "airflow.providers.standard.operators.empty", ctx.task_kwargs(task)
    )


def render_trigger_dag(task: TaskSpec, ctx: RenderContext) -> RenderedTask:
    """A ``TriggerDagRunOperator``."""
    settings = task.settings
    assert isinstance(settings, TriggerDagSettings)
    kwargs = ctx.task_kwargs(task) + list(settings.operator_kwargs().items())
    return _operator(
        ctx,
        "TriggerDagRunOperator",
        "airflow.providers.standard.operators.trigger_dagrun",
        kwargs,
    )

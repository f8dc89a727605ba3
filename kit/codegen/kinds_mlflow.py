"""Renderers of the MLflow kinds: each a ``@task`` calling ``kit.mlops.registry``."""

from __future__ import annotations

from kit.codegen.kinds import render_call
from kit.codegen.literals import Code, py_literal
from kit.codegen.render import RenderContext, RenderedTask
from kit.spec.kinds_mlflow import MlflowPromoteSettings, MlflowRegisterSettings
from kit.spec.model import TaskSpec


def render_register(task: TaskSpec, ctx: RenderContext) -> RenderedTask:
    """A ``@task`` calling ``kit.mlops.registry.register_model``."""
    settings = task.settings
    assert isinstance(settings, MlflowRegisterSettings)
    return render_call(task, ctx, "kit.mlops.registry:register_model", settings.call_kwargs())


def render_promote(task: TaskSpec, ctx: RenderContext) -> RenderedTask:
    """A ``@task`` calling ``promote_if_better``; it updates the Asset, if one is set."""
    settings = task.settings
    assert isinstance(settings, MlflowPromoteSettings)
    if settings.asset is None:
        return render_call(
            task, ctx, "kit.mlops.registry:promote_if_better", settings.call_kwargs()
        )
    return render_call(
        task,
        ctx,
        "kit.mlops.registry:promote_if_better",
        settings.call_kwargs(),
        extra_task_kwargs=[("outlets", [Code(f"Asset({py_literal(settings.asset)})")])],
        extra_imports={"from airflow.sdk import Asset"},
    )

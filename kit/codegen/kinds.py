"""Renderers of the built-in task kinds: a task spec -> the code that defines and creates it.

A renderer takes ``(task, ctx: RenderContext)`` and returns a ``RenderedTask``. New kinds register
their own with ``kit.spec.register_kind``; nothing here needs to change.
"""

from __future__ import annotations

import re
from typing import Any

from kit.codegen.literals import Code, is_plain_identifier, py_literal
from kit.codegen.render import RenderContext, RenderedTask
from kit.spec.kinds import CALLABLE_PATTERN, BashSettings, NotebookSettings, PythonSettings
from kit.spec.model import TaskSpec


def _function_args(
    task: TaskSpec, ctx: RenderContext, values: dict[str, Any], context: bool
) -> tuple[list[str], list[str]]:
    """Arguments of a task function, and the upstream ids passed to it as results."""
    results = ctx.result_ids(values)
    args = [ctx.result_arg(up) for up in results]
    if task.fan_out is not None:
        args.append("overrides")
    if context:
        args.append("**context")
    return args, results


def _call(
    task: TaskSpec, ctx: RenderContext, func: str, results: list[str]
) -> tuple[str, set[str]]:
    """The expression that creates the task: a call, or partial/expand over the fan-out."""
    passed = ", ".join(f"{ctx.result_arg(up)}={ctx.result_of(up)}" for up in results)
    if task.fan_out is None:
        return f"{func}({passed})", set()
    # literal(): Airflow would otherwise render strings in mapped arguments as Jinja templates.
    combos = [Code(f"literal({py_literal(combo)})") for combo in task.fan_out.combinations()]
    return f"{func}.partial({passed}).expand(overrides={py_literal(combos)})", {
        "from airflow.sdk import literal"
    }


def render_python(task: TaskSpec, ctx: RenderContext) -> RenderedTask:
    """A ``@task`` that imports the task's callable and calls it with its kwargs."""
    settings = task.settings
    assert isinstance(settings, PythonSettings)
    return render_call(task, ctx, settings.callable, settings.kwargs)


def render_call(
    task: TaskSpec,
    ctx: RenderContext,
    callable_path: str,
    kwargs: dict[str, Any],
    *,
    extra_task_kwargs: list[tuple[str, Any]] | None = None,
    extra_imports: set[str] | None = None,
) -> RenderedTask:
    """A ``@task`` that imports ``callable_path`` ("module:function") when it runs and calls it
    with ``kwargs`` (literals or references). Kinds that are "call this function" reuse it."""
    if not re.match(CALLABLE_PATTERN, callable_path):  # the model checks it too
        raise ValueError(f"task {task.id!r}: {callable_path!r} is not 'package.module:function'")
    module, _, path = callable_path.partition(":")
    name, dot, attrs = path.partition(".")  # "obj.attr": import obj, call obj.attr
    values = {key: ctx.value_code(value) for key, value in kwargs.items()}
    args, results = _function_args(task, ctx, kwargs, ctx.needs_context(kwargs))
    func = ctx.func_names[task.id]
    local_names = {arg.lstrip("*") for arg in args}
    local = name if name not in local_names else "_callable"
    import_name = name if local == name else f"{name} as {local}"
    call_name = local + dot + attrs
    plain = {k: v for k, v in values.items() if is_plain_identifier(k)}
    extra = {k: v for k, v in values.items() if not is_plain_identifier(k)}
    definition = ctx.snippet(
        "kinds/python.py.j2",
        task_kwargs=_merge_kwargs(ctx.task_kwargs(task), extra_task_kwargs or []),
        func=func,
        args=args,
        module=module,
        import_name=import_name,
        call_name=call_name,
        fan_out=task.fan_out is not None,
        kwargs=values if task.fan_out is not None else plain,
        extra_kwargs=extra,
    )
    instance, imports = _call(task, ctx, func, results)
    return RenderedTask(
        definition=definition.rstrip(),
        instance=instance,
        imports={"from airflow.sdk import task"} | imports | set(extra_imports or ()),
        data_upstream=set(results),
    )


def _merge_kwargs(
    common: list[tuple[str, Any]], extra: list[tuple[str, Any]]
) -> list[tuple[str, Any]]:
    """The common task arguments plus a kind's own; list values given by both (a kind's asset
    and the task's ``outlets``) are joined, the kind's first."""
    out = dict(common)
    for name, value in extra:
        if isinstance(out.get(name), list) and isinstance(value, list):
            known = {str(v) for v in value}
            value = value + [v for v in out[name] if str(v) not in known]
        out[name] = value
    return list(out.items())


def render_notebook(task: TaskSpec, ctx: RenderContext) -> RenderedTask:
    """A ``@task`` that runs the notebook with ``kit.runtime.notebook.run_notebook``."""
    settings = task.settings
    assert isinstance(settings, NotebookSettings)
    args, results = _function_args(task, ctx, settings.parameters, context=True)
    func = ctx.func_names[task.id]
    digest = ctx.notebook_digests.get(settings.notebook)
    task_kwargs = ctx.task_kwargs(task)
    if digest is not None:
        # In the serialized DAG, so a changed notebook is a new DAG version (Airflow hashes it).
        note = f"Runs `{settings.notebook}`, sha256 `{digest}`."
        task_kwargs = [(k, v) for k, v in task_kwargs if k != "doc_md"]
        task_kwargs.append(("doc_md", f"{task.doc}\n\n{note}" if task.doc else note))
    definition = ctx.snippet(
        "kinds/notebook.py.j2",
        task_kwargs=task_kwargs,
        sha256=digest,
        func=func,
        args=args,
        notebook=settings.notebook,
        parameters={k: ctx.value_code(v) for k, v in settings.parameters.items()},
        kernel=settings.kernel,
        fan_out=task.fan_out is not None,
    )
    instance, imports = _call(task, ctx, func, results)
    return RenderedTask(
        definition=definition.rstrip(),
        instance=instance,
        imports={"from airflow.sdk import task"} | imports,
        data_upstream=set(results),
    )


def render_bash(task: TaskSpec, ctx: RenderContext) -> RenderedTask:
    """A ``BashOperator`` (``.expand``-ed over the environment when the task fans out)."""
    settings = task.settings
    assert isinstance(settings, BashSettings)
    kwargs = ctx.task_kwargs(task)
    kwargs.append(("bash_command", settings.command))
    if settings.env is not None and task.fan_out is None:
        # With a fan-out the base env is merged into each expanded env: Airflow refuses an
        # argument given both to partial() and expand().
        kwargs.append(("env", dict(settings.env)))
    if settings.env is not None or task.fan_out is not None:
        kwargs.append(("append_env", True))  # keep PATH and the rest of the worker's environment
    if settings.cwd is not None:
        kwargs.append(("cwd", settings.cwd))
    fan_out = None
    if task.fan_out is not None:
        base = dict(settings.env or {})
        fan_out = [
            base | {k: _env_value(v) for k, v in combo.items()}
            for combo in task.fan_out.combinations()
        ]
    instance = ctx.snippet("kinds/bash.py.j2", kwargs=kwargs, fan_out=fan_out).strip()
    return RenderedTask(
        definition="",
        instance=instance,
        imports={"from airflow.providers.standard.operators.bash import BashOperator"},
        is_operator=True,
    )


def _env_value(value: Any) -> str:
    import json

    return value if isinstance(value, str) else json.dumps(value)

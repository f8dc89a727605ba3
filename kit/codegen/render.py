"""spec -> Airflow 3 DAG source (pure): Jinja2 template, Python literals, ruff format."""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from typing import Any

import jinja2

from kit.codegen.access import access_control
from kit.codegen.formatting import ruff_format
from kit.codegen.header import make_header
from kit.codegen.literals import Code, py_literal, to_identifier
from kit.spec.graph import find_cycles, topological_order
from kit.spec.io import spec_digest
from kit.spec.kinds import get_kind
from kit.spec.model import AssetSchedule, IntervalSchedule, PipelineSpec, RunParam, TaskSpec
from kit.spec.values import ParamRef, ResultRef

# Names the module or the DAG function binds; task names must not shadow them.
RESERVED = frozenset(
    {
        "dag",
        "task",
        "Param",
        "Asset",
        "literal",
        "pendulum",
        "timedelta",
        "BashOperator",
        "EmptyOperator",
        "TriggerDagRunOperator",
        "SmtpNotifier",
        "context",
        "overrides",
        "run_notebook",
    }
)


@dataclass
class RenderedTask:
    """What a kind's renderer returns: code to define the task, and the expression creating it."""

    definition: str  # code in the DAG function before the tasks are created ("" for operators)
    instance: str  # expression that creates the task (an XComArg or an operator)
    imports: set[str] = field(default_factory=set)  # module-level import lines
    data_upstream: set[str] = field(default_factory=set)  # upstream ids wired by passing results
    is_operator: bool = (
        False  # ``instance`` is an operator (its result is ``.output``), not an XComArg
    )


@dataclass
class RenderContext:
    """Names chosen for the generated code, and helpers the kinds' renderers share."""

    spec: PipelineSpec
    func_names: dict[str, str]
    var_names: dict[str, str]
    operators: set[str] = field(default_factory=set)  # ids of tasks created as classic operators
    # SHA-256 of each notebook a task runs (project-relative path -> digest), read by export: a
    # notebook-only change then changes the DAG, so Airflow records a new DAG version.
    notebook_digests: Mapping[str, str] = field(default_factory=dict)

    def snippet(self, template: str, **values: Any) -> str:
        """Render ``templates/<template>`` with the shared environment (``py`` filter)."""
        return _environment().get_template(template).render(**values)

    def task_kwargs(self, task: TaskSpec) -> list[tuple[str, Any]]:
        """Keyword arguments every task gets: its id and its per-task overrides."""
        kwargs: list[tuple[str, Any]] = [("task_id", task.id)]
        for name in ("retries", "retry_delay", "execution_timeout", "pool", "trigger_rule"):
            value = getattr(task, name)
            if value is not None:
                kwargs.append((name, value))
        if task.doc is not None:
            kwargs.append(("doc_md", task.doc))
        if task.depends_on_past is not None:
            kwargs.append(("depends_on_past", task.depends_on_past))
        if task.outlets:
            # ``render`` imports Asset for any task with outlets.
            kwargs.append(("outlets", [Code(f"Asset({py_literal(uri)})") for uri in task.outlets]))
        return kwargs

    def result_of(self, task_id: str) -> str:
        """Expression for a rendered task's result (an XComArg) in the DAG function."""
        var = self.var_names[task_id]
        return f"{var}.output" if task_id in self.operators else var

    def result_arg(self, upstream_id: str) -> str:
        """Argument name under which a task function receives an upstream task's result."""
        return f"{self.func_names[upstream_id]}_result"

    def value_code(self, value: Any) -> Any:
        """A literal stays a value (the template quotes it); a reference becomes code."""
        if isinstance(value, ParamRef):
            return Code(f'context["params"][{py_literal(value.param)}]')
        if isinstance(value, ResultRef):
            arg = self.result_arg(value.result)
            return Code(arg if value.key is None else f"{arg}[{py_literal(value.key)}]")
        return value

    @staticmethod
    def needs_context(values: dict[str, Any]) -> bool:
        """Whether any value reads a run parameter (from the task's context)."""
        return any(isinstance(v, ParamRef) for v in values.values())

    @staticmethod
    def result_ids(values: dict[str, Any]) -> list[str]:
        """Upstream ids whose results the values use, in first-use order."""
        seen: dict[str, None] = {}
        for value in values.values():
            if isinstance(value, ResultRef):
                seen.setdefault(value.result, None)
        return list(seen)


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("kit.codegen", "templates"),
        autoescape=False,  # noqa: S701 - we generate Python, not HTML; values go through ``py``
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["py"] = py_literal
    return env


def choose_names(spec: PipelineSpec) -> tuple[str, dict[str, str], dict[str, str]]:
    """Function name of the DAG, and per task a function name and a variable name."""
    taken = set(RESERVED)
    dag_func = to_identifier(spec.dag_id, taken=taken, fallback="pipeline")
    taken.add(dag_func)
    func_names: dict[str, str] = {}
    for task in spec.tasks:
        if task.id not in func_names:
            func_names[task.id] = to_identifier(task.id, taken=taken)
            taken.add(func_names[task.id])
    # "<name>_result" arguments must not collide with task names either.
    taken |= {f"{name}_result" for name in func_names.values()}
    var_names: dict[str, str] = {}
    for task_id, func in func_names.items():
        var_names[task_id] = to_identifier(f"{func}_task", taken=taken)
        taken.add(var_names[task_id])
    return dag_func, func_names, var_names


def render(spec: PipelineSpec, notebook_digests: Mapping[str, str] | None = None) -> str:
    """The complete DAG file for ``spec``, header included (pure, deterministic).

    ``notebook_digests``: the SHA-256 of the notebooks the tasks run (``notebook_digests()`` of
    kit.codegen.export reads them); each notebook task then names its digest in its ``doc_md`` and
    checks it when it runs.

    Raises ValueError if the task graph cannot be ordered (cycles, duplicate ids); run
    ``kit.spec.validate`` first to get every problem explained.
    """
    _check_renderable(spec)
    dag_func, func_names, var_names = choose_names(spec)
    ctx = RenderContext(
        spec=spec,
        func_names=func_names,
        var_names=var_names,
        notebook_digests=dict(notebook_digests or {}),
    )
    imports = {"from datetime import timedelta", "from airflow.sdk import dag"}
    rendered: list[tuple[TaskSpec, RenderedTask]] = []
    by_id = {task.id: task for task in spec.tasks}
    for task_id in topological_order(spec):
        task = by_id[task_id]
        out = get_kind(task.kind).resolve_renderer()(task, ctx)
        if out.is_operator:
            ctx.operators.add(task.id)
        imports |= out.imports
        if task.outlets:
            imports.add("from airflow.sdk import Asset")
        rendered.append((task, out))
    edges = _edges(rendered, var_names)
    # Bind a task to a name only when an edge or a later task uses it.
    used = {up for task, _out in rendered for up in task.upstream}
    used |= {task.id for task, out in rendered if set(task.upstream) - out.data_upstream}
    dag_kwargs = _dag_kwargs(spec, imports)
    source = (
        _environment()
        .get_template("dag.py.j2")
        .render(
            docstring=_docstring(spec),
            imports=_sorted_imports(imports),
            dag_kwargs=dag_kwargs,
            dag_func=dag_func,
            tasks=[
                (var_names[task.id] if task.id in used else None, out) for task, out in rendered
            ],
            edges=edges,
        )
    )
    body = ruff_format(source)
    ast.parse(body)  # formatting already parsed it; this makes the guarantee explicit
    header = make_header(f"pipelines/{spec.dag_id}.yaml", spec_digest(spec), body)
    return header + body


def _check_renderable(spec: PipelineSpec) -> None:
    if len(set(spec.task_ids)) != len(spec.task_ids):
        raise ValueError("task ids are not unique; validate the spec first")
    known = set(spec.task_ids)
    for task in spec.tasks:
        for up in task.upstream:
            if up not in known:
                raise ValueError(f"task {task.id!r} has unknown upstream {up!r}; validate first")
        for _name, ref in task.settings.references():
            if isinstance(ref, ResultRef) and ref.result not in task.upstream:
                raise ValueError(f"task {task.id!r} uses a result not upstream; validate first")
    if find_cycles(_graph(spec)):
        raise ValueError("the tasks form a cycle; validate the spec first")


def _graph(spec: PipelineSpec):  # noqa: ANN202 - networkx graph
    from kit.spec.graph import task_graph

    return task_graph(spec)


def _edges(rendered: list[tuple[TaskSpec, RenderedTask]], var_names: dict[str, str]) -> list[str]:
    """``up >> down`` lines for the dependencies not already made by passing results."""
    lines: list[str] = []
    for task, out in rendered:
        ups = [up for up in dict.fromkeys(task.upstream) if up not in out.data_upstream]
        if not ups:
            continue
        down = var_names[task.id]
        if len(ups) == 1:
            lines.append(f"{var_names[ups[0]]} >> {down}")
        else:
            lines.append(f"[{', '.join(var_names[up] for up in ups)}] >> {down}")
    return lines


def _docstring(spec: PipelineSpec) -> str:
    text = f"Pipeline {spec.dag_id}, generated from pipelines/{spec.dag_id}.yaml."
    if spec.description:
        text += f"\n\n{spec.description}"
    return text


def _dag_kwargs(spec: PipelineSpec, imports: set[str]) -> list[tuple[str, Any]]:
    kwargs: list[tuple[str, Any]] = [("dag_id", spec.dag_id)]
    if spec.display_name is not None:
        kwargs.append(("dag_display_name", spec.display_name))
    if spec.description is not None:
        kwargs.append(("description", spec.description))
    if spec.doc is not None:
        kwargs.append(("doc_md", spec.doc))
    kwargs.append(("schedule", _schedule(spec, imports)))
    if spec.start_date is not None:
        imports.add("import pendulum")
        kwargs.append(("start_date", _start_date(spec.start_date, spec.timezone)))
    kwargs.append(("catchup", spec.catchup))
    if spec.tags:
        kwargs.append(("tags", list(spec.tags)))
    if spec.dagrun_timeout is not None:
        kwargs.append(("dagrun_timeout", spec.dagrun_timeout))
    if spec.max_active_runs is not None:
        kwargs.append(("max_active_runs", spec.max_active_runs))
    if spec.max_active_tasks is not None:
        kwargs.append(("max_active_tasks", spec.max_active_tasks))
    kwargs.append(("default_args", _default_args(spec, imports)))
    if spec.access:
        kwargs.append(("access_control", access_control(spec.access)))
    if spec.params:
        imports.add("from airflow.sdk import Param")
        params = {name: _param(param) for name, param in spec.params.items()}
        kwargs.append(("params", params))
    return kwargs


def _schedule(spec: PipelineSpec, imports: set[str]) -> Any:
    schedule = spec.schedule
    if isinstance(schedule, IntervalSchedule):
        return schedule.every
    if isinstance(schedule, AssetSchedule):
        imports.add("from airflow.sdk import Asset")
        assets = [Code(f"Asset({py_literal(uri)})") for uri in schedule.assets]
        if schedule.mode == "any" and len(assets) > 1:
            return Code(" | ".join(assets))
        return assets
    return schedule


def _start_date(value: date, tz: str) -> Code:
    parts = [value.year, value.month, value.day]
    if isinstance(value, datetime):
        parts += [value.hour, value.minute, value.second]
        while len(parts) > 3 and parts[-1] == 0:
            parts.pop()
    numbers = ", ".join(str(int(p)) for p in parts)
    return Code(f"pendulum.datetime({numbers}, tz={py_literal(tz)})")


def _default_args(spec: PipelineSpec, imports: set[str]) -> dict[str, Any]:
    args: dict[str, Any] = {
        "owner": spec.owner,
        "retries": spec.retries,
        "retry_delay": spec.retry_delay,
    }
    if spec.execution_timeout is not None:
        args["execution_timeout"] = spec.execution_timeout
    if spec.depends_on_past is not None:
        args["depends_on_past"] = spec.depends_on_past
    if spec.failure_email:
        # Airflow 3 replaces the ``email`` arguments with notifiers.
        imports.add("from airflow.providers.smtp.notifications.smtp import SmtpNotifier")
        args["on_failure_callback"] = Code(
            f"SmtpNotifier(to={py_literal(list(spec.failure_email))})"
        )
    return args


def _param(param: RunParam) -> Code:
    args = [py_literal(param.default)]
    type_: Any = param.type if param.default is not None else ["null", param.type]
    args.append(f"type={py_literal(type_)}")
    for name in ("minimum", "maximum", "enum", "description"):
        value = getattr(param, name)
        if value is not None:
            args.append(f"{name}={py_literal(value)}")
    return Code(f"Param({', '.join(args)})")


def _sorted_imports(imports: set[str]) -> list[list[str]]:
    """Standard library, third party, then Airflow: one group each, sorted as isort would."""

    def group(line: str) -> int:
        module = line.split()[1]
        if module in ("datetime",):
            return 0
        return 2 if module.startswith("airflow") else 1

    merged: dict[str, set[str]] = {}
    plain: set[str] = set()
    for line in imports:
        if line.startswith("from "):
            module, names = line[5:].split(" import ")
            merged.setdefault(module, set()).update(n.strip() for n in names.split(","))
        else:
            plain.add(line)
    lines = [f"from {m} import {', '.join(sorted(n))}" for m, n in merged.items()]
    lines += sorted(plain)
    groups: list[list[str]] = [[], [], []]
    for line in sorted(lines, key=lambda line: (line.split()[1], line)):
        groups[group(line)].append(line)
    return [g for g in groups if g]

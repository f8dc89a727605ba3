"""The registry of converters: one function per operator class turns a task into a kind and its
settings. Adding an operator is one function and one ``register_converter`` call.

A converter gets the task object (as the DAG file built it) and an ``ImportContext`` and returns a
``Converted``, or raises ``Refuse`` with the reasons. The common task arguments (retries, pool,
trigger rule, doc...) are read by ``kit.dagimport.convert``, not here; a converter names the
serialized fields it accounts for in ``Converted.handled`` so that every other field the
serializer records is refused rather than silently dropped.
"""

from __future__ import annotations

import ast
import importlib.util
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kit.dagimport.problems import Refuse
from kit.dagimport.source import Unreadable, generated_call, top_level_def_problem

# Names Airflow passes from the task's context to a callable that asks for them.
CONTEXT_NAMES = frozenset(
    {
        "conf", "dag", "dag_run", "data_interval_end", "data_interval_start", "ds", "ds_nodash",
        "inlets", "logical_date", "macros", "outlets", "params", "run_id", "task",
        "task_instance", "task_instance_key_str", "templates_dict", "ti", "ts", "ts_nodash",
        "var", "conn", "triggering_asset_events", "inlet_events", "outlet_events",
    }
)  # fmt: skip


@dataclass(frozen=True)
class ImportContext:
    """What converters may look at besides the task: the DAG file and how it can be imported."""

    fileloc: str
    module: str | None  # the DAG file's importable module name, None if it has none
    generated: bool  # the file was written by the kit's code generator
    result_names: dict[str, str]  # "<name>_result" argument -> upstream task id (generated files)


@dataclass
class Converted:
    """A task as a kind: its settings, its fan-out (``list`` of combinations) if it is mapped,
    and the serialized fields of the operator this conversion accounts for."""

    kind: str
    settings: dict[str, Any]
    fan_out: list[dict[str, Any]] | None = None
    handled: set[str] = field(default_factory=set)


Converter = Callable[[Any, ImportContext], Converted]
_CONVERTERS: dict[str, Converter] = {}


def register_converter(operator: str, converter: Converter, *, replace: bool = False) -> None:
    """Convert tasks of the operator class named ``operator`` with ``converter``."""
    if operator in _CONVERTERS and not replace:
        raise ValueError(f"a converter for {operator!r} is already registered")
    _CONVERTERS[operator] = converter


def get_converter(operator: str) -> Converter | None:
    """The converter of this operator class, None if there is none."""
    return _CONVERTERS.get(operator)


def converter_names() -> list[str]:
    """The operator classes that can be imported, sorted."""
    return sorted(_CONVERTERS)


def operator_name(task: Any) -> str:
    """The operator's class name as the serializer records it (``task_type``)."""
    return str(getattr(task, "task_type", None) or type(task).__name__)


def _mapped_kwargs(task: Any) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The operator's arguments (partial ones for a mapped task) and what it expands over."""
    if not getattr(task, "is_mapped", False):
        return {}, None
    expand = getattr(task._get_specified_expand_input(), "value", None)
    if not isinstance(expand, dict):
        raise Refuse("it is mapped over something other than keyword lists (expand_kwargs)")
    for name, values in expand.items():
        if not isinstance(values, list):
            raise Refuse(f"it expands {name!r} over a task's result, not a literal list")
    return dict(task.partial_kwargs), expand


def _arg(task: Any, name: str, partial: dict[str, Any], default: Any = None) -> Any:
    if getattr(task, "is_mapped", False):
        return partial.get(name, default)
    return getattr(task, name, default)


def convert_empty(task: Any, ctx: ImportContext) -> Converted:
    """EmptyOperator -> ``empty``."""
    if getattr(task, "is_mapped", False):
        raise Refuse("a mapped EmptyOperator has no kit kind")
    return Converted("empty", {}, handled={"_is_empty"})


def convert_bash(task: Any, ctx: ImportContext) -> Converted:
    """BashOperator -> ``bash``; ``.expand(env=[...])`` -> fan-out over the environment."""
    partial, expand = _mapped_kwargs(task)
    settings: dict[str, Any] = {"command": _arg(task, "bash_command", partial)}
    env = _arg(task, "env", partial)
    append_env = bool(_arg(task, "append_env", partial, False))
    fan_out = None
    if expand is not None:
        if set(expand) != {"env"}:
            raise Refuse(f"it expands over {sorted(expand)}; the kit fans bash out over env only")
        if not append_env:
            raise Refuse("mapped over env without append_env=True; the kit keeps the environment")
        fan_out = [dict(item) for item in expand["env"]]
    elif env is not None and not append_env:
        raise Refuse(
            "env without append_env=True: the kit's bash kind always keeps the worker's "
            "environment (PATH...) when it sets variables"
        )
    if env is not None:
        if not isinstance(env, dict):
            raise Refuse("env is not a literal mapping")
        settings["env"] = env
    if append_env and env is None and expand is None:
        raise Refuse("append_env=True without env has no kit setting")
    cwd = _arg(task, "cwd", partial)
    if cwd is not None:
        settings["cwd"] = cwd
    if not isinstance(settings["command"], str):
        raise Refuse("bash_command is not a string")
    return Converted(
        "bash", settings, fan_out, handled={"bash_command", "env", "cwd", "append_env"}
    )


def importable_callable(func: Any, ctx: ImportContext, decorated: bool = False) -> str:
    """``module:function`` for a function the kit's python kind can import at run time.

    A function defined in the DAG file counts only if the file is a module importable from the
    project (or the environment) and the function is a plain top-level one there; a lambda, a
    nested function or closure, or a function the module binds to something else is refused.
    ``decorated`` (the task is a ``@task``): a top-level ``def`` decorated only with ``@task`` or
    ``@task(...)`` counts, as ``module:name.function`` (the module holds the task factory; its
    ``function`` attribute is the plain function).
    """
    name = getattr(func, "__qualname__", "")
    if name == "<lambda>" or "<lambda>" in name:
        raise Refuse("its callable is a lambda; the kit imports callables by 'module:function'")
    if "<locals>" in name or "." in name:
        raise Refuse(
            f"its callable {name!r} is defined inside another function (a closure); move it to "
            "the top level of a module"
        )
    if _is_dag_module(func, ctx):
        if ctx.module is None:
            raise Refuse(
                f"its callable {name!r} is defined in the DAG file, which is not an importable "
                "module; move it into a module of the project"
            )
        # Not imported here (that would run the DAG file again): its source must show a plain
        # top-level ``def`` that nothing rebinds.
        problem = top_level_def_problem(ctx.fileloc, name, task_ok=decorated)
        if problem:
            raise Refuse(problem)
        if decorated and top_level_def_problem(ctx.fileloc, name) is not None:
            # A module-level @task: the module holds the task factory; its plain function is
            # the factory's ``function`` attribute (Airflow's _TaskDecorator.function).
            return f"{ctx.module}:{name}.function"
        return f"{ctx.module}:{name}"
    module = func.__module__
    try:
        owner = importlib.import_module(module)
    except ImportError:
        raise Refuse(f"the module {module!r} of its callable cannot be imported") from None
    if getattr(owner, name, None) is not func:
        raise Refuse(
            f"{module}.{name} is not the plain function (it is decorated there, e.g. with "
            "@task); the kit's python kind needs a function it can call"
        )
    return f"{module}:{name}"


def _is_dag_module(func: Any, ctx: ImportContext) -> bool:
    try:
        return Path(inspect.getfile(func)).resolve() == Path(ctx.fileloc).resolve()
    except (TypeError, OSError):
        return False


def _check_signature(func: Any) -> None:
    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return
    for param in params:
        if param.kind is inspect.Parameter.VAR_KEYWORD:
            raise Refuse(
                f"its callable takes **{param.name}: Airflow passes it the task's context, the "
                "kit's python kind does not"
            )
        if param.name in CONTEXT_NAMES:
            raise Refuse(
                f"its callable asks for the context value {param.name!r}, which the kit's "
                "python kind does not pass"
            )


def convert_python(task: Any, ctx: ImportContext) -> Converted:
    """PythonOperator or ``@task`` -> ``python`` (a kit-generated task -> its own kind)."""
    func = getattr(task, "python_callable", None)
    if ctx.generated:
        try:
            return convert_generated(task, ctx)
        except Unreadable as exc:
            raise Refuse(f"a kit-generated task whose body was changed: {exc}") from None
    partial, expand = _mapped_kwargs(task)
    if _arg(task, "op_args", partial):
        raise Refuse("op_args (positional arguments); give them as op_kwargs")
    if _arg(task, "templates_dict", partial):
        raise Refuse("templates_dict has no kit setting")
    for flag in ("multiple_outputs", "show_return_value_in_logs"):
        default = flag == "show_return_value_in_logs"
        if bool(_arg(task, flag, partial, default)) != default:
            raise Refuse(f"{flag} has no kit setting")
    path = importable_callable(
        func, ctx, decorated=operator_name(task) == "_PythonDecoratedOperator"
    )
    _check_signature(func)
    kwargs = {k: _kwarg(k, v) for k, v in (_arg(task, "op_kwargs", partial) or {}).items()}
    fan_out = None
    if expand is not None:
        if set(expand) == {"op_kwargs"}:
            raise Refuse("it is mapped over whole op_kwargs; expand over named arguments instead")
        names = list(expand)
        fan_out = [{names[0]: value} for value in expand[names[0]]]
        if len(names) > 1:
            raise Refuse("it expands over several arguments (a cross product); use one list")
    return Converted(
        "python",
        {"callable": path, "kwargs": kwargs},
        fan_out,
        handled={"op_args", "op_kwargs", "python_callable_name", "templates_dict"},
    )


def _kwarg(name: str, value: Any) -> Any:
    """An op_kwargs value as a spec value: an upstream task's return value -> ``$result``."""
    from airflow.sdk.definitions.xcom_arg import PlainXComArg

    if isinstance(value, PlainXComArg):
        if value.key != "return_value":
            raise Refuse(f"op_kwargs[{name!r}] pulls the XCom key {value.key!r}, not a result")
        return {"$result": value.operator.task_id}
    if _templated(value):
        raise Refuse(
            f"op_kwargs[{name!r}] is a Jinja template; the kit passes python kwargs as literals "
            "(use a run parameter reference, {$param: ...})"
        )
    return value


def _templated(value: Any) -> bool:
    if isinstance(value, str):
        return "{{" in value or "{%" in value
    if isinstance(value, dict):
        return any(_templated(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_templated(v) for v in value)
    return False


def convert_papermill(task: Any, ctx: ImportContext) -> Converted:
    """PapermillOperator -> ``notebook``: same notebook, parameters and kernel; the kit writes
    the output notebook itself (artifacts/...), so ``output_nb`` is not kept."""
    if getattr(task, "is_mapped", False):
        raise Refuse("a mapped PapermillOperator is not converted; use a notebook fan-out")
    settings: dict[str, Any] = {"notebook": task.input_nb, "parameters": dict(task.parameters)}
    if _templated(task.parameters):
        raise Refuse(
            "its parameters use Jinja templates; the kit passes notebook parameters as "
            "literals or {$param: ...} references"
        )
    if getattr(task, "kernel_name", None):
        settings["kernel"] = task.kernel_name
    for name in ("language_name", "kernel_conn_id", "nbconvert_args"):
        if getattr(task, name, None):
            raise Refuse(f"{name} has no kit setting")
    if not isinstance(task.input_nb, str):
        raise Refuse("input_nb is not a path (a NoteBook inlet has no kit setting)")
    if _templated(task.input_nb):
        raise Refuse("input_nb is a Jinja template; the kit runs one notebook file per task")
    return Converted(
        "notebook",
        settings,
        handled={"input_nb", "output_nb", "parameters", "kernel_name", "language_name"}
        | {"kernel_conn_id", "nbconvert", "nbconvert_args", "log_output"},
    )


def convert_trigger(task: Any, ctx: ImportContext) -> Converted:
    """TriggerDagRunOperator -> ``trigger_dag``."""
    if getattr(task, "is_mapped", False):
        raise Refuse("a mapped TriggerDagRunOperator has no kit kind")
    settings: dict[str, Any] = {"trigger_dag_id": task.trigger_dag_id}
    if task.conf is not None:
        settings["conf"] = task.conf
    if task.trigger_run_id is not None:
        settings["trigger_run_id"] = task.trigger_run_id
    for name in ("wait_for_completion", "reset_dag_run"):
        if getattr(task, name):
            settings[name] = True
    from airflow.sdk.definitions._internal.types import is_arg_set

    if is_arg_set(getattr(task, "logical_date", None)):
        raise Refuse("logical_date has no kit setting")
    return Converted(
        "trigger_dag",
        settings,
        # skip_when_already_exists and the rest are left at their defaults by the kit's
        # renderer too; the round trip compares them.
        handled={"trigger_dag_id", "conf", "trigger_run_id", "wait_for_completion", "reset_dag_run"}
        | {"logical_date", "_trigger_dag_id", "skip_when_already_exists"},
    )


# What the kit's own generated "call a function" tasks call, and the kind each one is.
_NOTEBOOK = "kit.runtime.notebook:run_notebook"
_MLFLOW = {
    "kit.mlops.registry:register_model": "mlflow_register",
    "kit.mlops.registry:promote_if_better": "mlflow_promote",
}


def convert_generated(task: Any, ctx: ImportContext) -> Converted:
    """A ``@task`` the kit generated (notebook, python, mlflow kinds) back to its kind, read from
    its function body (see kit/codegen/templates/kinds/)."""
    path, call = generated_call(task.python_callable)
    kwargs = _call_kwargs(call, ctx)
    fan_out = None
    if getattr(task, "is_mapped", False):
        expand = task._get_specified_expand_input().value
        if set(expand) != {"overrides"}:
            raise Unreadable("a generated mapped task expands over 'overrides' only")
        # Each item is a ``literal({...})`` (a LiteralValue holding the mapping).
        fan_out = [dict(getattr(item, "value", item)) for item in expand["overrides"]]
    # A task's outlets are read as the spec's ``outlets`` (kit.dagimport.convert), except an
    # mlflow task's, which are its asset.
    handled = {"op_args", "op_kwargs", "python_callable_name", "templates_dict"}
    if path == _NOTEBOOK:
        settings = {"notebook": kwargs.pop("notebook"), "parameters": kwargs.pop("parameters")}
        if "kernel" in kwargs:
            settings["kernel"] = kwargs.pop("kernel")
        kwargs.pop("sha256", None)
        kwargs.pop("context", None)
        return Converted("notebook", settings, fan_out, handled)
    if path in _MLFLOW:
        from kit.spec.kinds import get_kind

        model = get_kind(_MLFLOW[path]).settings_model
        back = {keyword: name for name, keyword in model.KWARGS.items()}  # type: ignore[attr-defined]
        settings = {back.get(k, k): v for k, v in kwargs.items()}
        outlets = getattr(task, "outlets", None) or []
        if outlets:
            settings["asset"] = outlets[0].uri
        return Converted(_MLFLOW[path], settings, fan_out, handled | {"outlets"})
    return Converted("python", {"callable": path, "kwargs": kwargs}, fan_out, handled)


def _call_kwargs(call: ast.Call, ctx: ImportContext) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kw in call.keywords:
        value = kw.value
        if kw.arg is None:  # **{...} or **({...} | overrides)
            if isinstance(value, ast.BinOp) and isinstance(value.op, ast.BitOr):
                value = value.left
            if not isinstance(value, ast.Dict):
                raise Unreadable("a ** argument is not a mapping")
            for k, v in zip(value.keys, value.values, strict=True):
                out[ast.literal_eval(k)] = _value(v, ctx)  # type: ignore[arg-type]
            continue
        if kw.arg == "parameters" and isinstance(value, ast.BinOp):
            value = value.left  # {...} | overrides: the fan-out adds the overrides
        if kw.arg == "parameters" and isinstance(value, ast.Dict):
            out[kw.arg] = {
                ast.literal_eval(k): _value(v, ctx)  # type: ignore[arg-type]
                for k, v in zip(value.keys, value.values, strict=True)
            }
            continue
        if kw.arg == "context":
            continue
        out[kw.arg] = _value(value, ctx)
    return out


def _value(node: ast.expr, ctx: ImportContext) -> Any:
    """A literal, or a reference as the code generator writes it, back to the spec's form."""
    try:
        return ast.literal_eval(node)
    except ValueError:
        pass
    if isinstance(node, ast.Name) and node.id in ctx.result_names:
        return {"$result": ctx.result_names[node.id]}
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
        inner = node.value
        if isinstance(inner, ast.Name) and inner.id in ctx.result_names:
            return {"$result": ctx.result_names[inner.id], "key": node.slice.value}
        if (
            isinstance(inner, ast.Subscript)
            and isinstance(inner.value, ast.Name)
            and inner.value.id == "context"
            and isinstance(inner.slice, ast.Constant)
            and inner.slice.value == "params"
        ):
            return {"$param": node.slice.value}
    raise Unreadable(f"the value {ast.unparse(node)!r} is neither a literal nor a reference")


register_converter("EmptyOperator", convert_empty)
register_converter("BashOperator", convert_bash)
register_converter("PythonOperator", convert_python)
register_converter("_PythonDecoratedOperator", convert_python)
register_converter("PapermillOperator", convert_papermill)
register_converter("TriggerDagRunOperator", convert_trigger)

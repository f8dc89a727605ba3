"""An Airflow DAG object -> a PipelineSpec, or every reason it cannot be one (pure: it reads the
DAG as the file built it, its serialized form and the file's source; it writes nothing).

The DAG-level and common task arguments are read here; each operator's own arguments by its
converter (``kit.dagimport.converters``). Anything Airflow's serializer records that no one reads
is refused by name, so nothing is dropped silently; ``kit.dagimport.roundtrip`` then proves the
spec renders back to the same serialized DAG.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from kit.dagimport.converters import (
    Converted,
    ImportContext,
    get_converter,
    operator_name,
)
from kit.dagimport.problems import ImportRefused, Refusal, Refuse
from kit.dagimport.source import dag_line, task_line, where

# Serialized task fields every conversion accounts for: identity and display (template_fields...
# follow from the operator class), dependencies (compared as edges), the common arguments.
COMMON_TASK_FIELDS = frozenset(
    {
        "task_id", "task_type", "_task_module", "_operator_name", "template_fields",
        "template_fields_renderers", "template_ext", "ui_color", "ui_fgcolor",
        "downstream_task_ids", "_needs_expansion", "has_retry_policy", "_is_mapped",
        "_expand_input_attr", "_disallow_kwargs_override", "expand_input",
        "op_kwargs_expand_input", "partial_kwargs", "params", "retries", "retry_delay",
        "execution_timeout", "pool", "trigger_rule", "doc_md", "owner", "_can_skip_downstream",
        "has_on_failure_callback", "_operator_extra_links", "outlets", "depends_on_past",
    }
)  # fmt: skip
# Serialized DAG fields the conversion reads, or that are where the file is / derived.
DAG_FIELDS = frozenset(
    {
        "dag_id", "description", "timetable", "start_date", "timezone", "catchup", "tags",
        "max_active_runs", "max_active_tasks", "default_args", "params", "tasks", "task_group",
        "dag_dependencies", "fileloc", "relative_fileloc", "_processor_dags_folder",
        "edge_info", "deadline", "allowed_run_types", "disable_bundle_versioning",
        "max_consecutive_failed_dag_runs", "has_on_failure_callback", "access_control",
        "doc_md", "dagrun_timeout", "dag_display_name",
    }
)  # fmt: skip
# Kinds the kit renders as a @task calling a function, whatever operator the DAG file used.
CALL_KINDS = frozenset({"python", "notebook", "mlflow_register", "mlflow_promote"})
DEFAULT_ARGS = frozenset(
    {"owner", "retries", "retry_delay", "execution_timeout", "depends_on_past"}
)
_DIGEST_NOTE = re.compile(r"(\n\n)?Runs `[^`]*`, sha256 `[0-9a-f]{64}`\.$")


@dataclass
class Imported:
    """A converted DAG: the spec (as a mapping for ``PipelineSpec``) and, per task, what its
    Python-calling conversion means (compared across the round trip)."""

    spec: Any  # PipelineSpec
    calls: dict[str, dict[str, Any]] = field(default_factory=dict)
    failure_email: list[str] = field(default_factory=list)


def module_name(fileloc: str, roots: list[str] | None = None) -> str | None:
    """The name under which ``fileloc`` is importable from ``roots`` (default: ``sys.path``),
    checked with ``find_spec``; None if it is not importable as itself."""
    path = Path(fileloc).resolve()
    for root in roots if roots is not None else sys.path:
        try:
            rel = path.relative_to(Path(root or ".").resolve())
        except ValueError:
            continue
        parts = list(rel.with_suffix("").parts)
        if not parts or not all(p.isidentifier() for p in parts):
            continue
        name = ".".join(parts)
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        if spec is not None and spec.origin and Path(spec.origin).resolve() == path:
            return name
    return None


def convert_dag(dag: Any, serialized: dict[str, Any], ctx: ImportContext) -> Imported:
    """The spec of ``dag`` (``serialized``: DagSerialization.serialize_dag(dag)); ImportRefused
    with every refusal if any part would not carry over."""
    from kit.spec.model import PipelineSpec

    refusals: list[Refusal] = []
    dag_where = where(ctx.fileloc, dag_line(ctx.fileloc, dag.dag_id))

    def refuse_dag(reason: str) -> None:
        refusals.append(Refusal(None, "DAG", dag_where, reason))

    data, failure_email = _dag_settings(dag, serialized, refuse_dag)
    by_ser = {t["__var"]["task_id"]: t["__var"] for t in serialized.get("tasks", [])}
    tasks: list[dict[str, Any]] = []
    calls: dict[str, dict[str, Any]] = {}
    for task in dag.tasks:
        op = operator_name(task)
        task_where = where(ctx.fileloc, task_line(ctx.fileloc, task))
        try:
            entry, call = _task(task, by_ser.get(task.task_id, {}), data, ctx)
        except Refuse as exc:
            refusals.extend(Refusal(task.task_id, op, task_where, r) for r in exc.reasons)
            continue
        tasks.append(entry)
        if call is not None:
            calls[task.task_id] = call
    if refusals:
        raise ImportRefused(dag.dag_id, refusals)
    data["tasks"] = tasks
    try:
        spec = PipelineSpec.model_validate(data)
    except ValidationError as exc:
        raise ImportRefused(
            dag.dag_id,
            [
                Refusal(None, "DAG", dag_where, f"{'.'.join(map(str, e['loc']))}: {e['msg']}")
                for e in exc.errors()
            ],
        ) from None
    return Imported(spec, calls, failure_email)


def _dag_settings(
    dag: Any, serialized: dict[str, Any], refuse: Any
) -> tuple[dict[str, Any], list[str]]:
    from airflow.sdk import DAG

    blank = DAG(dag_id="kit_import_defaults", schedule=None)  # Airflow's defaults, as configured
    for name in sorted(set(serialized) - DAG_FIELDS):
        refuse(f"the DAG argument {name!r} has no spec field")
    if serialized.get("edge_info"):
        refuse("edge labels (edge_info) have no spec field")
    if serialized.get("deadline"):
        refuse("deadline alerts have no spec field")
    for name in ("disable_bundle_versioning", "allowed_run_types"):
        if serialized.get(name):
            refuse(f"{name} has no spec field")
    if serialized.get("max_consecutive_failed_dag_runs"):
        refuse("max_consecutive_failed_dag_runs has no spec field")
    if getattr(dag, "on_failure_callback", None) or getattr(dag, "on_success_callback", None):
        refuse("a DAG-level callback (on_failure/on_success_callback) has no spec field")
    data: dict[str, Any] = {"dag_id": dag.dag_id, "catchup": bool(dag.catchup)}
    if dag.description is not None:
        data["description"] = dag.description
    if getattr(dag, "doc_md", None) is not None:
        data["doc"] = dag.doc_md
    if serialized.get("dag_display_name") not in (None, dag.dag_id):
        data["display_name"] = serialized["dag_display_name"]
    if dag.dagrun_timeout is not None:
        data["dagrun_timeout"] = dag.dagrun_timeout
    data["schedule"] = _schedule(dag.schedule, refuse)
    if dag.start_date is not None:
        data["start_date"], data["timezone"] = _start(dag.start_date, dag.timezone, refuse)
    elif getattr(dag.timezone, "name", "UTC") != "UTC":
        data["timezone"] = dag.timezone.name
    if dag.end_date is not None:
        refuse("end_date has no spec field")
    data["tags"] = sorted(dag.tags)
    for name in ("max_active_runs", "max_active_tasks"):
        if getattr(dag, name) != getattr(blank, name):
            data[name] = getattr(dag, name)
    args = dict(dag.default_args or {})
    failure_email = _failure_email(args.pop("on_failure_callback", None), refuse)
    if failure_email:
        data["failure_email"] = failure_email
    for name in sorted(set(args) - DEFAULT_ARGS):
        refuse(f"default_args[{name!r}] has no spec field")
    for name in DEFAULT_ARGS & set(args):
        data[name] = args[name]
    access = _access(getattr(dag, "access_control", None), refuse)
    if access:
        data["access"] = access
    params = {}
    for name in dag.params:
        try:
            params[name] = _param(dag.params.get_param(name))
        except Refuse as exc:
            for reason in exc.reasons:
                refuse(f"param {name!r}: {reason}")
    if params:
        data["params"] = params
    return data, failure_email


def _schedule(schedule: Any, refuse: Any) -> Any:
    from airflow.sdk import Asset, AssetAll, AssetAny

    if schedule is None or isinstance(schedule, str):
        return schedule
    if isinstance(schedule, timedelta):
        return {"every": schedule}
    if isinstance(schedule, Asset):
        schedule = [schedule]
    problems = [p for p in map(_asset_problem, _assets(schedule)) if p]
    if problems:
        refuse(problems[0])
        return None
    if isinstance(schedule, list | tuple) and all(isinstance(a, Asset) for a in schedule):
        return {"assets": [a.uri for a in schedule], "mode": "all"}
    for kind, mode in ((AssetAll, "all"), (AssetAny, "any")):
        if type(schedule) is kind and all(isinstance(a, Asset) for a in schedule.objects):
            return {"assets": [a.uri for a in schedule.objects], "mode": mode}
    text = repr(schedule)
    text = text if len(text) < 80 else text[:77] + "..."
    refuse(f"the schedule {text} is not a cron, preset, interval or asset list")
    return None


def _assets(schedule: Any) -> list[Any]:
    from airflow.sdk import Asset

    items = schedule if isinstance(schedule, list | tuple) else getattr(schedule, "objects", [])
    return [a for a in items if isinstance(a, Asset)]


def _start(start: datetime, zone: Any, refuse: Any) -> tuple[date | datetime, str]:
    """The start as a naive local time in the DAG's zone (Airflow keeps it in UTC and the
    zone it was given in ``dag.timezone``), and that zone's name."""
    tz = getattr(zone, "name", None) or "UTC"
    if not isinstance(tz, str) or tz.startswith(("+", "-")):
        refuse(f"start_date has a fixed offset ({tz}); give a named time zone")
        tz = "UTC"
    else:
        start = start.astimezone(zone)
    naive = datetime(start.year, start.month, start.day, start.hour, start.minute, start.second)
    if start.microsecond:
        refuse("start_date has microseconds, which the spec does not keep")
    if naive.time() == datetime.min.time():
        return naive.date(), tz
    return naive, tz


def _access(control: Any, refuse: Any) -> dict[str, str]:
    """``access_control`` back to the spec's levels (kit.codegen.access.PERMISSIONS)."""
    from kit.codegen.access import PERMISSIONS

    levels = {
        level: {res: set(actions) for res, actions in grants.items()}
        for level, grants in PERMISSIONS.items()
    }
    out: dict[str, str] = {}
    for role, grants in (control or {}).items():
        given = {res: set(actions) for res, actions in grants.items()}
        match = [level for level, wanted in levels.items() if wanted == given]
        if match:
            out[role] = match[0]
        else:
            refuse(f"access_control of role {role!r} is not a kit access level (read/edit/run)")
    return out


def _failure_email(callback: Any, refuse: Any) -> list[str]:
    """The recipients of an SmtpNotifier(to=[...]) as the kit renders failure e-mail."""
    if callback is None:
        return []
    if type(callback).__name__ == "SmtpNotifier":
        to = callback.to
        extra = {k for k in ("cc", "bcc", "files") if getattr(callback, k, None)}
        if not extra:
            return [to] if isinstance(to, str) else list(to)
    refuse("default_args['on_failure_callback'] is a callback other than SmtpNotifier(to=...)")
    return []


def _param(param: Any) -> dict[str, Any]:
    schema = dict(param.schema)
    out: dict[str, Any] = {"default": param.value if param.has_value else None}
    type_ = schema.pop("type", None)
    if isinstance(type_, list) and len(type_) == 2 and "null" in type_:
        type_ = next(t for t in type_ if t != "null")
    if not isinstance(type_, str):
        raise Refuse("it has no JSON Schema type (the spec's run parameters are typed)")
    out["type"] = type_
    for name in ("enum", "minimum", "maximum", "description"):
        if name in schema:
            out[name] = schema.pop(name)
    if param.description is not None:
        out["description"] = param.description
    if schema:
        raise Refuse(f"its schema keys {sorted(schema)} have no spec field")
    return out


def _task(
    task: Any, ser: dict[str, Any], dag_data: dict[str, Any], ctx: ImportContext
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    op = operator_name(task)
    converter = get_converter(op)
    if converter is None:
        raise Refuse(f"no converter for the operator {op} (the kit has no kind for it)")
    reasons: list[str] = []
    group = task.task_group.group_id if task.task_group is not None else None
    if group:
        reasons.append(f"it is in the task group {group!r}; the spec has no groups")
    if getattr(task, "is_setup", False) or getattr(task, "is_teardown", False):
        reasons.append("setup/teardown tasks have no spec field")
    try:
        converted: Converted = converter(task, ctx)
    except Refuse as exc:
        reasons.extend(exc.reasons)
        raise Refuse(*reasons) from None
    for name in sorted(set(ser) - COMMON_TASK_FIELDS - converted.handled):
        reasons.append(f"the argument {name!r} has no kit setting")
    entry: dict[str, Any] = {
        "id": task.task_id,
        "kind": converted.kind,
        "settings": converted.settings,
        "upstream": sorted(task.upstream_task_ids),
    }
    if converted.fan_out is not None:
        entry["fan_out"] = {"list": converted.fan_out}
    reasons += _common(task, ser, dag_data, entry, "outlets" not in converted.handled)
    if reasons:
        raise Refuse(*reasons)
    call = None
    if converted.kind in CALL_KINDS:
        # What the task does, compared across the round trip instead of its operator class.
        call = {"kind": converted.kind, "settings": converted.settings}
        call["fan_out"] = converted.fan_out
    return entry, call


def _common(
    task: Any, ser: dict[str, Any], dag_data: dict[str, Any], entry: dict, outlets: bool = True
) -> list[str]:
    """Per-task overrides of the DAG's defaults; reasons for what the spec cannot hold.
    ``outlets``: read the task's outlets (False when its converter made them a setting)."""
    reasons: list[str] = []
    partial = dict(getattr(task, "partial_kwargs", {}) or {}) if task.is_mapped else {}

    def arg(name: str, default: Any = None) -> Any:
        return partial.get(name, default) if task.is_mapped else getattr(task, name, default)

    defaults = {
        "retries": dag_data.get("retries", 0),
        "retry_delay": dag_data.get("retry_delay", timedelta(minutes=5)),
        "execution_timeout": dag_data.get("execution_timeout"),
    }
    for name, default in defaults.items():
        value = arg(name, default)
        if isinstance(value, int | float) and name == "retry_delay":
            value = timedelta(seconds=value)
        if value != default:
            entry[name] = value
    pool = arg("pool", "default_pool")
    if pool not in (None, "default_pool"):
        entry["pool"] = pool
    rule = str(getattr(arg("trigger_rule", "all_success"), "value", arg("trigger_rule")))
    if rule not in ("all_success", "None"):
        entry["trigger_rule"] = rule
    doc = getattr(task, "doc_md", None)
    if doc:
        doc = _DIGEST_NOTE.sub("", doc)
        if doc:
            entry["doc"] = doc
    for name in ("doc", "doc_rst", "doc_json", "doc_yaml"):
        if getattr(task, name, None):
            reasons.append(f"{name} has no spec field (use doc_md)")
    past = bool(arg("depends_on_past", False))
    if past != bool(dag_data.get("depends_on_past")):
        entry["depends_on_past"] = past
    if outlets:
        uris = _outlets(arg("outlets", None) or [], reasons)
        if uris:
            entry["outlets"] = uris
    owner = arg("owner", "airflow")
    if owner != dag_data.get("owner", "airflow"):
        reasons.append(f"its owner {owner!r} differs from the DAG's; the spec has one owner")
    for param in ser.get("params", []):
        if isinstance(param, list) and param[1].get("source") != "dag":
            reasons.append(f"task-level param {param[0]!r} has no spec field")
    if ser.get("has_on_failure_callback") and not dag_data.get("failure_email"):
        reasons.append("on_failure_callback has no kit setting")
    return reasons


def _outlets(outlets: Any, reasons: list[str]) -> list[str]:
    """The URIs of a task's outlets; a reason for each outlet the spec cannot name."""
    from airflow.sdk import Asset

    uris: list[str] = []
    for outlet in outlets:
        if type(outlet) is not Asset:
            reasons.append(f"the outlet {outlet!r} is not an Asset; the spec's outlets are assets")
        elif problem := _asset_problem(outlet):
            reasons.append(f"outlets: {problem}")
        else:
            uris.append(outlet.uri)
    return uris


def _asset_problem(asset: Any) -> str | None:
    """Why the spec, which names an asset by its URI alone, cannot hold this asset; or None."""
    if asset.name != asset.uri:
        return (
            f"the asset {asset.name!r} has a name other than its URI; the spec names assets by URI"
        )
    if asset.extra:
        return f"the asset {asset.uri!r} has extra {asset.extra!r}; the spec keeps only its URI"
    if asset.group != "asset":
        return (
            f"the asset {asset.uri!r} is in the group {asset.group!r}; the spec keeps only its URI"
        )
    if getattr(asset, "watchers", None):
        return f"the asset {asset.uri!r} has watchers; the spec keeps only its URI"
    return None

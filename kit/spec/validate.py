"""Validation of a pipeline spec: every problem at once, each naming the task, field and fix."""

from __future__ import annotations

import keyword
import re
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from kit.spec.access import check_access
from kit.spec.dagscan import files_defining
from kit.spec.graph import find_cycles, format_cycle, task_graph
from kit.spec.kinds import CheckContext
from kit.spec.model import IntervalSchedule, PipelineSpec, RunParam, TaskSpec
from kit.spec.notebooks import PARAM_PY_TYPES, type_matches
from kit.spec.problems import Problem, error, warning
from kit.spec.values import ParamRef, ResultRef

DAG_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
MAX_ID_LENGTH = 250
# Airflow's own presets (airflow.sdk.definitions.timetables._cron.CRON_PRESETS, @once, @continuous).
SCHEDULE_PRESETS = (
    "@once",
    "@continuous",
    "@hourly",
    "@daily",
    "@weekly",
    "@monthly",
    "@quarterly",
    "@yearly",
)


def validate(
    spec: PipelineSpec, *, project_dir: Path, dags_dir: Path | None = None
) -> list[Problem]:
    """All problems of ``spec``: errors first in spec order, then warnings. Reads notebooks/dags."""
    project_dir = Path(project_dir)
    dags_dir = Path(dags_dir) if dags_dir is not None else project_dir / "dags"
    problems = check_structure(spec)
    problems += check_dag_id_unused(spec.dag_id, dags_dir)
    ctx = CheckContext(spec=spec, project_dir=project_dir)
    for task in spec.tasks:
        problems += task.settings.check(task, ctx)
    return [p for p in problems if p.is_error] + [p for p in problems if not p.is_error]


def check_structure(spec: PipelineSpec) -> list[Problem]:
    """The checks that need nothing but the spec (pure)."""
    problems = check_dag(spec)
    problems += check_params(spec.params, scheduled=spec.schedule is not None)
    problems += check_access(spec.access)
    problems += check_task_ids(spec)
    problems += check_upstream(spec)
    problems += check_references(spec)
    for task in spec.tasks:
        problems += check_task_overrides(task)
    return problems


def is_task_id(value: str) -> bool:
    """Task ids name Python functions in the generated DAG, so they must be identifiers."""
    return (
        value.isascii()
        and value.isidentifier()
        and not keyword.iskeyword(value)
        and len(value) <= MAX_ID_LENGTH
    )


def check_dag(spec: PipelineSpec) -> list[Problem]:
    """Problems of the DAG-level fields (dag_id, schedule, time zone, e-mails, durations, owner),
    and a warning for a pipeline without tasks."""
    problems: list[Problem] = []
    if not DAG_ID.match(spec.dag_id) or len(spec.dag_id) > MAX_ID_LENGTH:
        problems.append(
            error(
                None,
                "dag_id",
                f"{spec.dag_id!r} is not a valid dag_id.",
                "use letters, digits, '_', '-' and '.', starting with a letter, digit or '_' "
                f"(at most {MAX_ID_LENGTH} characters), e.g. 'train_model'.",
            )
        )
    problems += check_schedule(spec)
    try:
        ZoneInfo(spec.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(
            error(
                None,
                "timezone",
                f"unknown time zone {spec.timezone!r}.",
                "use an IANA name such as 'UTC' or 'Europe/Paris'.",
            )
        )
    for address in spec.failure_email:
        if "@" not in address or address.strip() != address:
            problems.append(
                error(
                    None,
                    "failure_email",
                    f"{address!r} is not an e-mail address.",
                    "write it as name@example.org.",
                )
            )
    if spec.execution_timeout is not None and spec.execution_timeout <= timedelta(0):
        problems.append(
            error(
                None,
                "execution_timeout",
                "the timeout must be positive.",
                "give a positive duration, e.g. PT1H.",
            )
        )
    if spec.retry_delay <= timedelta(0):
        problems.append(
            error(
                None,
                "retry_delay",
                "the delay between retries must be positive.",
                "give a positive duration, e.g. PT5M (the default).",
            )
        )
    if not spec.owner.strip():
        problems.append(
            error(
                None,
                "owner",
                "the owner is empty.",
                "name the person or team in charge, e.g. 'data-team', or remove the field.",
            )
        )
    if not spec.tasks:
        problems.append(
            warning(None, "tasks", "the pipeline has no tasks.", "add at least one task.")
        )
    return problems


def check_schedule(spec: PipelineSpec) -> list[Problem]:
    """A schedule Airflow accepts (preset, 5-field cron), with a start_date when timed."""
    schedule = spec.schedule
    problems: list[Problem] = []
    if isinstance(schedule, str):
        if schedule.startswith("@"):
            if schedule not in SCHEDULE_PRESETS:
                problems.append(
                    error(
                        None,
                        "schedule",
                        f"unknown schedule preset {schedule!r}.",
                        f"use one of {', '.join(SCHEDULE_PRESETS)}, a cron expression, or none.",
                    )
                )
        elif not croniter.is_valid(schedule) or len(schedule.split()) != 5:
            problems.append(
                error(
                    None,
                    "schedule",
                    f"{schedule!r} is not a valid cron expression.",
                    "write five fields 'minute hour day-of-month month day-of-week', "
                    "e.g. '0 3 * * *' for 03:00 every day, or use a preset such as '@daily'.",
                )
            )
    time_based = isinstance(schedule, IntervalSchedule) or (
        isinstance(schedule, str) and schedule != "@continuous"
    )
    if time_based and spec.start_date is None:
        problems.append(
            error(
                None,
                "start_date",
                "a time-based schedule needs a start_date.",
                "add e.g. start_date: 2024-01-01.",
            )
        )
    return problems


def check_params(params: dict[str, RunParam], *, scheduled: bool = False) -> list[Problem]:
    """Run parameters; ``scheduled``: runs start without a trigger form, on the defaults."""
    problems: list[Problem] = []
    for name, param in params.items():
        field = f"params.{name}"
        if not name or not name.isprintable():
            problems.append(
                error(
                    None,
                    field,
                    f"{name!r} is not a usable parameter name.",
                    "use a short printable name.",
                )
            )
        py_type = PARAM_PY_TYPES[param.type]
        sample = {str: "", int: 0, float: 0.0, bool: False, list: [], dict: {}}[py_type]
        if param.default is not None and not type_matches(sample, param.default):
            problems.append(
                error(
                    None,
                    f"{field}.default",
                    f"default {param.default!r} is not of type {param.type}.",
                    f"give a {param.type} default, or change the type.",
                )
            )
            continue
        numeric = param.type in ("integer", "number")
        for bound in ("minimum", "maximum"):
            if getattr(param, bound) is not None and not numeric:
                problems.append(
                    error(
                        None,
                        f"{field}.{bound}",
                        f"{bound} only applies to integer and number parameters.",
                        f"remove {bound} or change the type.",
                    )
                )
        if (
            param.minimum is not None
            and param.maximum is not None
            and param.minimum > param.maximum
        ):
            problems.append(
                error(
                    None,
                    field,
                    f"minimum {param.minimum} is above maximum {param.maximum}.",
                    "swap or correct the bounds.",
                )
            )
        if numeric and isinstance(param.default, int | float):
            if param.minimum is not None and param.default < param.minimum:
                problems.append(
                    error(
                        None,
                        f"{field}.default",
                        f"default {param.default} is below the minimum {param.minimum}.",
                        "raise the default or lower the minimum.",
                    )
                )
            if param.maximum is not None and param.default > param.maximum:
                problems.append(
                    error(
                        None,
                        f"{field}.default",
                        f"default {param.default} is above the maximum {param.maximum}.",
                        "lower the default or raise the maximum.",
                    )
                )
        if param.enum is not None:
            if not param.enum:
                problems.append(
                    error(
                        None,
                        f"{field}.enum",
                        "the list of allowed values is empty.",
                        "list the allowed values or remove enum.",
                    )
                )
            wrong = [v for v in param.enum if v is not None and not type_matches(sample, v)]
            if wrong:
                problems.append(
                    error(
                        None,
                        f"{field}.enum",
                        f"allowed value(s) {', '.join(repr(v) for v in wrong)} "
                        f"not of type {param.type}.",
                        f"list {param.type} values only, or change the type.",
                    )
                )
            elif param.default is None and scheduled:
                # Airflow refuses to load a scheduled DAG whose defaults fail their own checks.
                problems.append(
                    error(
                        None,
                        f"{field}.default",
                        "a scheduled pipeline needs a default among the allowed values: "
                        "its scheduled runs start with the defaults.",
                        f"pick a default among {param.enum!r}, or remove the schedule.",
                    )
                )
            elif param.default is not None and param.default not in param.enum:
                problems.append(
                    error(
                        None,
                        f"{field}.default",
                        f"default {param.default!r} is not one of {param.enum!r}.",
                        "pick a default among the allowed values.",
                    )
                )
    return problems


def check_task_ids(spec: PipelineSpec) -> list[Problem]:
    """Task ids that are Python identifiers and unique."""
    problems: list[Problem] = []
    for task in spec.tasks:
        if not is_task_id(task.id):
            problems.append(
                error(
                    task.id,
                    "id",
                    f"{task.id!r} is not a valid task id.",
                    "use a Python identifier: letters, digits and '_', not starting with a digit, "
                    "not a keyword (e.g. 'train_model').",
                )
            )
    for task_id, count in Counter(spec.task_ids).items():
        if count > 1:
            problems.append(
                error(
                    task_id,
                    "id",
                    f"{count} tasks have the id {task_id!r}.",
                    "give each task a different id.",
                )
            )
    return problems


def check_upstream(spec: PipelineSpec) -> list[Problem]:
    """Upstream lists naming known tasks, each once, not the task itself; no cycle."""
    problems: list[Problem] = []
    known = set(spec.task_ids)
    for task in spec.tasks:
        for up, count in Counter(task.upstream).items():
            if up == task.id:
                problems.append(
                    error(
                        task.id,
                        "upstream",
                        "the task lists itself as upstream.",
                        f"remove {up!r} from its upstream.",
                    )
                )
            elif up not in known:
                problems.append(
                    error(
                        task.id,
                        "upstream",
                        f"unknown upstream task {up!r}.",
                        f"use one of {_listing(known)}, or add a task {up!r}.",
                    )
                )
            if count > 1:
                problems.append(
                    warning(
                        task.id,
                        "upstream",
                        f"{up!r} is listed {count} times.",
                        "list each upstream task once.",
                    )
                )
    for cycle in find_cycles(task_graph(spec)):
        if len(cycle) == 1:
            continue  # self-dependency, reported above
        problems.append(
            error(
                cycle[0],
                "upstream",
                f"the tasks form a cycle: {format_cycle(cycle)}.",
                "remove one of these upstream links; a pipeline must not loop.",
            )
        )
    return problems


def check_references(spec: PipelineSpec) -> list[Problem]:
    """``$param`` to declared params, ``$result`` to known tasks that are upstream."""
    problems: list[Problem] = []
    known = set(spec.task_ids)
    for task in spec.tasks:
        for name, ref in task.settings.references():
            field = f"settings.{name}"
            if isinstance(ref, ParamRef) and ref.param not in spec.params:
                problems.append(
                    error(
                        task.id,
                        field,
                        f"refers to run parameter {ref.param!r}, which is not declared.",
                        f"declare it under params, or use one of {_listing(spec.params)}.",
                    )
                )
            elif isinstance(ref, ResultRef):
                if ref.result not in known:
                    problems.append(
                        error(
                            task.id,
                            field,
                            f"refers to the result of unknown task {ref.result!r}.",
                            f"use one of {_listing(known)}.",
                        )
                    )
                elif ref.result not in task.upstream:
                    problems.append(
                        error(
                            task.id,
                            field,
                            f"uses the result of {ref.result!r}, "
                            f"which is not upstream of {task.id!r}.",
                            f"add {ref.result!r} to the upstream of {task.id!r}.",
                        )
                    )
    return problems


def check_task_overrides(task: TaskSpec) -> list[Problem]:
    """A task's own durations positive and its pool name not empty."""
    problems: list[Problem] = []
    for name in ("retry_delay", "execution_timeout"):
        value: Any = getattr(task, name)
        if value is not None and value <= timedelta(0):
            problems.append(
                error(
                    task.id,
                    name,
                    "the duration must be positive.",
                    "give a positive duration, e.g. PT10M.",
                )
            )
    if task.pool is not None and not task.pool.strip():
        problems.append(
            error(
                task.id,
                "pool",
                "the pool name is empty.",
                "name an existing pool or remove the field.",
            )
        )
    return problems


def check_dag_id_unused(dag_id: str, dags_dir: Path) -> list[Problem]:
    """Another file in ``dags/`` must not define this dag_id (its own ``<dag_id>.py`` may)."""
    if not DAG_ID.match(dag_id):
        return []
    others = files_defining(dags_dir, dag_id, exclude=dags_dir / f"{dag_id}.py")
    return [
        error(
            None,
            "dag_id",
            f"dag_id {dag_id!r} is already used by {path}.",
            "choose another dag_id, or rename the DAG in that file.",
        )
        for path in others
    ]


def _listing(names: Any) -> str:
    names = sorted(names)
    if not names:
        return "(none declared)"
    shown = ", ".join(repr(n) for n in names[:8])
    return shown + (", ..." if len(names) > 8 else "")

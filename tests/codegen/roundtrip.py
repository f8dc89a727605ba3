"""Compare a spec with the DAG Airflow loaded from its generated file."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from kit.codegen.access import PERMISSIONS
from kit.spec import AssetSchedule, IntervalSchedule, PipelineSpec


def assert_round_trip(spec: PipelineSpec, dag: Any) -> None:
    assert dag.dag_id == spec.dag_id
    assert sorted(dag.task_ids) == sorted(spec.task_ids)
    for task in spec.tasks:
        loaded = dag.get_task(task.id)
        assert loaded.upstream_task_ids == set(task.upstream), task.id
        assert loaded.retries == (task.retries if task.retries is not None else spec.retries)
        expected_delay = task.retry_delay if task.retry_delay is not None else spec.retry_delay
        assert loaded.retry_delay == expected_delay
        owner = loaded.partial_kwargs.get("owner") if task.fan_out else loaded.owner
        assert owner == spec.owner, task.id
        if task.execution_timeout is None and spec.execution_timeout is not None:
            timeout = (
                loaded.partial_kwargs.get("execution_timeout")
                if task.fan_out
                else loaded.execution_timeout
            )
            assert timeout == spec.execution_timeout, task.id
        assert_failure_email(spec, loaded)
        assert bool(getattr(loaded, "is_mapped", False)) == (task.fan_out is not None), task.id
        if task.kind == "bash":
            assert type(loaded).__name__ in ("BashOperator", "MappedOperator")
            command = loaded.partial_kwargs["bash_command"] if task.fan_out else loaded.bash_command
            assert command == task.settings.command
        elif task.kind == "approval":
            assert type(loaded).__name__ in ("ApprovalOperator", "HITLOperator"), task.id
        else:
            assert loaded.operator_name == "@task"
        if task.doc is not None:
            doc = loaded.partial_kwargs.get("doc_md") if task.fan_out else loaded.doc_md
            assert doc == task.doc
        for name in ("pool", "trigger_rule", "execution_timeout"):
            wanted = getattr(task, name)
            if wanted is not None:
                got = loaded.partial_kwargs.get(name) if task.fan_out else getattr(loaded, name)
                assert getattr(got, "value", got) == wanted, (task.id, name)
    assert set(dag.params.keys()) == set(spec.params)
    for name, param in spec.params.items():
        loaded = dag.params.get_param(name)
        assert loaded.value == param.default
        wanted_type = param.type if param.default is not None else ["null", param.type]
        assert loaded.schema["type"] == wanted_type
        for key in ("minimum", "maximum", "enum"):
            if getattr(param, key) is not None:
                assert loaded.schema[key] == getattr(param, key)
        assert loaded.description == param.description
    assert_schedule(spec, dag)
    assert dag.catchup == spec.catchup
    assert sorted(dag.tags) == sorted(set(spec.tags))
    if spec.max_active_runs is not None:
        assert dag.max_active_runs == spec.max_active_runs
    if spec.max_active_tasks is not None:
        assert dag.max_active_tasks == spec.max_active_tasks
    if spec.access:
        assert dag.access_control == {
            role: {resource: set(actions) for resource, actions in PERMISSIONS[level].items()}
            for role, level in spec.access.items()
        }
    else:
        assert dag.access_control is None


def assert_failure_email(spec: PipelineSpec, task: Any) -> None:
    """A failed task mails ``failure_email`` through Airflow 3's SmtpNotifier (``email`` is
    deprecated on operators in Airflow 3.3)."""
    callbacks = (
        task.partial_kwargs.get("on_failure_callback")
        if getattr(task, "is_mapped", False)
        else task.on_failure_callback
    )
    if not isinstance(callbacks, list | tuple):  # a mapped task keeps the argument as given
        callbacks = [callbacks] if callbacks is not None else []
    notifiers = [c for c in callbacks if type(c).__name__ == "SmtpNotifier"]
    if not spec.failure_email:
        assert notifiers == [], task.task_id
        return
    (notifier,) = notifiers
    assert list(notifier.to) == spec.failure_email


def assert_schedule(spec: PipelineSpec, dag: Any) -> None:
    schedule = spec.schedule
    if isinstance(schedule, IntervalSchedule):
        assert dag.schedule == schedule.every
        assert isinstance(dag.schedule, timedelta)
    elif isinstance(schedule, AssetSchedule):
        loaded = dag.schedule
        uris = [a.name for a in (loaded if isinstance(loaded, list) else loaded.objects)]
        assert uris == schedule.assets
        assert type(loaded).__name__ == (
            "AssetAny" if schedule.mode == "any" and len(uris) > 1 else "list"
        )
    else:
        assert dag.schedule == schedule

"""The ``approval`` kind renders as plain Airflow code that Airflow's DagBag loads: an
``ApprovalOperator`` (or ``HITLOperator``) with the spec's settings."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from kit.codegen import render
from kit.spec import validate
from tests.conftest_pipeline import bash_task, load_single_dag, make_spec

SUBJECT = "Ship v{{ ti.xcom_pull(task_ids='a') }}?"


def spec_with_approvals():
    return make_spec(
        [
            bash_task("a"),
            {
                "id": "sign_off",
                "kind": "approval",
                "settings": {
                    "subject": SUBJECT,
                    "body": "**{{ params.model }}**",
                    "assigned_users": [{"id": "2", "name": "alice"}],
                    "timeout": "PT6H",
                    "defaults": ["Reject"],
                    "required": {"$param": "ask"},
                },
                "upstream": ["a"],
            },
            bash_task("deploy", ["sign_off"], trigger_rule="none_failed"),
            {
                "id": "pick",
                "kind": "approval",
                "settings": {"subject": "Which?", "options": ["A", "B", "C"], "multiple": True},
                "upstream": ["a"],
            },
        ],
        params={"ask": {"type": "boolean", "default": False}, "model": {"type": "string"}},
    )


def test_approval_renders_to_operators_airflow_loads(tmp_path: Path, airflow_env) -> None:
    from airflow.providers.standard.operators.hitl import ApprovalOperator, HITLOperator

    spec = spec_with_approvals()
    assert validate(spec, project_dir=tmp_path) == []
    source = render(spec)
    assert "from airflow.providers.standard.operators.hitl import ApprovalOperator" in source
    target = tmp_path / "demo.py"
    target.write_text(source)
    dag = load_single_dag(target)

    sign_off = dag.get_task("sign_off")
    assert type(sign_off) is ApprovalOperator
    assert sign_off.subject == SUBJECT and sign_off.body == "**{{ params.model }}**"
    assert sign_off.options == ["Approve", "Reject"] and sign_off.multiple is False
    assert sign_off.assigned_users == [{"id": "2", "name": "alice"}]
    assert sign_off.response_timeout == timedelta(hours=6)
    assert sign_off.defaults == ["Reject"] and sign_off.fail_on_reject is False
    # asked only when the run parameter says so: a pre_execute hook skips it, no extra task
    assert sorted(dag.task_ids) == ["a", "deploy", "pick", "sign_off"]
    assert sign_off.upstream_task_ids == {"a"}
    assert dag.get_task("deploy").trigger_rule == "none_failed"

    pick = dag.get_task("pick")
    assert type(pick) is HITLOperator
    assert pick.options == ["A", "B", "C"] and pick.multiple is True
    assert pick.response_timeout is None and pick.defaults is None
    assert pick._pre_execute_hook is None  # always asked


def test_the_hook_skips_unless_the_run_parameter_is_true(tmp_path: Path, airflow_env) -> None:
    from airflow.sdk.exceptions import AirflowSkipException

    target = tmp_path / "demo.py"
    target.write_text(render(spec_with_approvals()))
    hook = load_single_dag(target).get_task("sign_off")._pre_execute_hook
    assert hook({"params": {"ask": True}}) is None
    with pytest.raises(AirflowSkipException, match="ask is false: no approval asked"):
        hook({"params": {"ask": False}})

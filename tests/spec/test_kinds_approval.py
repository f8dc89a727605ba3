"""The ``approval`` kind's settings and checks: each problem names its field and the fix."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from kit.spec import validate
from kit.spec.kinds_approval import ApprovalSettings, pulled_task_ids, used_params
from tests.conftest_pipeline import bash_task, make_spec


def approval(settings: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "id": "ok",
        "kind": "approval",
        "settings": {"subject": "Ship it?", **settings},
        "upstream": ["a"],
        **extra,
    }


def problems(tmp_path: Path, tasks: list[dict[str, Any]], **fields: Any) -> list[tuple]:
    spec = make_spec([bash_task("a"), *tasks], **fields)
    return [
        (p.level, p.task_id, p.field, p.message, p.fix)
        for p in validate(spec, project_dir=tmp_path)
    ]


def test_defaults_are_approve_reject_asked_always_no_timeout() -> None:
    settings = ApprovalSettings(subject="Ship?")
    assert settings.approval and settings.choices == ["Approve", "Reject"]
    assert settings.required is True and settings.timeout is None and settings.defaults is None
    one = ApprovalSettings(subject="x", defaults=["Reject"], timeout="PT2H")
    assert one.defaults == ["Reject"] and one.timeout == timedelta(hours=2)


def test_a_valid_approval_has_no_problems(tmp_path: Path) -> None:
    body = "v{{ ti.xcom_pull(task_ids='a') }} for {{ params.model }}"
    task = approval(
        {
            "body": body,
            "assigned_users": [{"id": "2", "name": "alice"}],
            "timeout": "PT1H",
            "defaults": ["Reject"],
        }
    )
    assert problems(tmp_path, [task], params={"model": {"type": "string"}}) == []


@pytest.mark.parametrize(
    ("settings", "field", "says"),
    [
        ({"options": ["Yes", "Yes"]}, "settings.options", "more than once"),
        ({"options": ["Yes"], "fail_on_reject": True}, "settings.fail_on_reject", "only to"),
        ({"multiple": True}, "settings.multiple", "exactly one"),
        ({"defaults": ["Maybe"], "timeout": 60}, "settings.defaults", "not among"),
        (
            {"options": ["A", "B"], "defaults": ["A", "B"], "timeout": 60},
            "settings.defaults",
            "only one may be chosen",
        ),
        ({"timeout": 0}, "settings.timeout", "positive"),
        ({"body": "{{ oops"}, "settings.body", "not a valid template"),
        ({"body": "{{ ti.xcom_pull(task_ids='later') }}"}, "settings.body", "does not run"),
        ({"subject": "{{ params.nope }}"}, "settings.subject", "not declared"),
    ],
)
def test_each_mistake_names_its_field(
    tmp_path: Path, settings: dict[str, Any], field: str, says: str
) -> None:
    found = problems(tmp_path, [approval(settings), bash_task("later", ["ok"])])
    errors = [p for p in found if p[0] == "error"]
    assert [(p[1], p[2]) for p in errors] == [("ok", field)], found
    assert says in errors[0][3] and errors[0][4]


def test_defaults_without_timeout_is_a_warning(tmp_path: Path) -> None:
    found = problems(tmp_path, [approval({"defaults": ["Approve"]})])
    assert [(p[0], p[2]) for p in found] == [("warning", "settings.defaults")]


def test_execution_timeout_is_refused_for_the_response_timeout(tmp_path: Path) -> None:
    found = problems(tmp_path, [approval({}, execution_timeout="PT1H")])
    assert [(p[2], p[4]) for p in found] == [("execution_timeout", "use settings.timeout instead.")]


def test_optional_approval_needs_a_boolean_param_and_passing_trigger_rules(
    tmp_path: Path,
) -> None:
    params = {"ask": {"type": "boolean", "default": False}, "n": {"type": "integer"}}
    after = bash_task("deploy", ["ok"])
    found = problems(tmp_path, [approval({"required": {"$param": "ask"}}), after], params=params)
    assert [(p[1], p[2]) for p in found] == [("deploy", "trigger_rule")]
    assert "none_failed" in found[0][4]
    passing = bash_task("deploy", ["ok"], trigger_rule="none_failed")
    assert (
        problems(tmp_path, [approval({"required": {"$param": "ask"}}), passing], params=params)
        == []
    )
    wrong_type = problems(tmp_path, [approval({"required": {"$param": "n"}})], params=params)
    assert [(p[2], p[4]) for p in wrong_type] == [
        ("settings.required", "declare 'n' with type: boolean.")
    ]
    undeclared = problems(tmp_path, [approval({"required": {"$param": "missing"}})])
    assert [p[2] for p in undeclared] == ["settings.required"]
    taken = problems(tmp_path, [approval({"required": False}), bash_task("ok_required")])
    assert [(p[1], p[2]) for p in taken] == [("ok", "settings.required")]


def test_unknown_settings_and_empty_subject_are_refused() -> None:
    with pytest.raises(ValidationError, match="assignees"):
        ApprovalSettings(subject="x", assignees=["bob"])
    with pytest.raises(ValidationError, match="subject"):
        ApprovalSettings(subject="")
    with pytest.raises(ValidationError, match="name"):
        ApprovalSettings(subject="x", assigned_users=[{"id": "2"}])


def test_template_scanners() -> None:
    text = """{{ ti.xcom_pull(task_ids='a')['m'] }} {{ ti.xcom_pull("b") }}
    {{ ti.xcom_pull(task_ids=["c", 'd']) }} {{ params.x }} {{ params['y z'] }}"""
    assert pulled_task_ids(text) == ["a", "b", "c", "d"]
    assert used_params(text) == ["x", "y z"]

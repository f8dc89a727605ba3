from __future__ import annotations

from datetime import date, timedelta

import pytest

from kit.spec import (
    AssetSchedule,
    IntervalSchedule,
    KindSettings,
    ParamRef,
    ResultRef,
    SpecError,
    TaskSpec,
    load_spec,
    register_kind,
    spec_from_mapping,
    unregister_kind,
)
from tests.conftest_pipeline import EXAMPLE_PIPELINE, bash_task, make_spec


def test_example_pipeline_loads_with_typed_values() -> None:
    spec = load_spec(EXAMPLE_PIPELINE)
    assert spec.dag_id == "example_pipeline"
    assert spec.start_date == date(2024, 1, 1)
    assert spec.retry_delay == timedelta(seconds=30)
    kwargs = spec.task("make_dataset").settings.kwargs
    assert kwargs["rows"] == ParamRef(param="rows")
    assert kwargs["seed"] == 7
    assert spec.task("summarize").settings.kwargs["path"] == ResultRef(
        result="make_dataset", key="path"
    )
    assert spec.edges() == [
        ("announce", "make_dataset"),
        ("make_dataset", "summarize"),
        ("summarize", "report"),
    ]


def test_a_mapping_that_is_not_exactly_a_reference_stays_a_literal() -> None:
    spec = make_spec(
        [
            {
                "id": "a",
                "kind": "python",
                "settings": {
                    "callable": "json:dumps",
                    "kwargs": {"obj": {"$param": "p", "other": 1}, "plain": {"x": [1, 2]}},
                },
            }
        ]
    )
    kwargs = spec.tasks[0].settings.kwargs
    assert kwargs["obj"] == {"$param": "p", "other": 1}
    assert kwargs["plain"] == {"x": [1, 2]}


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        (None, None),
        ("none", None),
        ("@daily", "@daily"),
        ("0 3 * * *", "0 3 * * *"),
        ({"every": "PT6H"}, IntervalSchedule(every=timedelta(hours=6))),
        ({"assets": ["s3://b/x"], "mode": "any"}, AssetSchedule(assets=["s3://b/x"], mode="any")),
    ],
)
def test_schedule_forms(schedule: object, expected: object) -> None:
    assert make_spec(schedule=schedule).schedule == expected


def test_grid_fan_out_is_the_cartesian_product_in_a_stable_order() -> None:
    task = TaskSpec.model_validate(
        bash_task("a", fan_out={"grid": {"lr": [1, 2], "depth": [3, 4]}})
    )
    assert task.fan_out is not None
    assert task.fan_out.combinations() == [
        {"lr": 1, "depth": 3},
        {"lr": 1, "depth": 4},
        {"lr": 2, "depth": 3},
        {"lr": 2, "depth": 4},
    ]


def test_list_fan_out_keeps_the_given_combinations() -> None:
    task = TaskSpec.model_validate(bash_task("a", fan_out={"list": [{"A": 1}, {"A": 2, "B": "x"}]}))
    assert task.fan_out is not None
    assert task.fan_out.combinations() == [{"A": 1}, {"A": 2, "B": "x"}]


@pytest.mark.parametrize(
    "fan_out",
    [{}, {"list": [{"a": 1}], "grid": {"a": [1]}}, {"grid": {}}, {"grid": {"a": []}}, {"list": []}],
)
def test_fan_out_needs_exactly_one_non_empty_form(fan_out: dict) -> None:
    with pytest.raises(SpecError) as info:
        make_spec([bash_task("a", fan_out=fan_out)])
    assert info.value.problems[0].task_id == "a"
    assert info.value.problems[0].field.startswith("fan_out")


def test_unknown_kind_names_the_known_ones() -> None:
    with pytest.raises(SpecError) as info:
        make_spec([{"id": "x", "kind": "spark", "settings": {}}])
    (problem,) = info.value.problems
    assert (problem.task_id, problem.field) == ("x", "kind")
    assert "bash" in problem.message and "notebook" in problem.message


def test_settings_errors_name_the_nested_field_of_each_task() -> None:
    with pytest.raises(SpecError) as info:
        make_spec(
            [
                {"id": "a", "kind": "bash", "settings": {"cmd": "echo"}},
                {"id": "b", "kind": "python", "settings": {"callable": "not a path"}},
            ]
        )
    where = {(p.task_id, p.field) for p in info.value.problems}
    assert where == {("a", "settings.command"), ("a", "settings.cmd"), ("b", "settings.callable")}
    assert all(p.fix for p in info.value.problems)


def test_start_date_with_a_time_zone_is_refused() -> None:
    with pytest.raises(SpecError) as info:
        make_spec(start_date="2024-01-01T00:00:00+02:00")
    assert "timezone" in info.value.problems[0].message


def test_bash_env_names_must_be_variable_names() -> None:
    with pytest.raises(SpecError):
        make_spec([{"id": "a", "kind": "bash", "settings": {"command": "x", "env": {"A-B": "1"}}}])


class _EchoSettings(KindSettings):
    text: str


def test_a_new_kind_plugs_into_the_model() -> None:
    register_kind("echo_model_test", _EchoSettings, "tests.spec.test_model:_never_called")
    try:
        spec = make_spec([{"id": "a", "kind": "echo_model_test", "settings": {"text": "hi"}}])
        assert isinstance(spec.tasks[0].settings, _EchoSettings)
        with pytest.raises(ValueError, match="already registered"):
            register_kind("echo_model_test", _EchoSettings, "x:y")
    finally:
        unregister_kind("echo_model_test")
    with pytest.raises(SpecError):
        make_spec([{"id": "a", "kind": "echo_model_test", "settings": {"text": "hi"}}])


def test_settings_can_be_given_as_models() -> None:
    from kit.spec import BashSettings

    task = TaskSpec(id="a", kind="bash", settings=BashSettings(command="echo"))
    assert task.settings.command == "echo"
    spec = spec_from_mapping({"dag_id": "d", "tasks": [task.model_dump(by_alias=True)]})
    assert spec.tasks[0] == task

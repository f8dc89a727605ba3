"""Form descriptions from kind settings models, and parsing of typed-in values (pure)."""

from __future__ import annotations

from typing import Literal

import pytest
from pydantic import Field

from kit.spec import KindSettings, register_kind, unregister_kind
from kit.spec.values import ParamRef, ResultRef, Value
from kit.widgets.fields import (
    ValueState,
    classify,
    default_settings,
    format_fan_out,
    format_list,
    format_literal,
    parse_fan_out,
    parse_list,
    parse_literal,
    parse_typed,
    settings_fields,
    state_from_value,
    value_from_state,
)


class GadgetSettings(KindSettings):
    """A kind made up for the test: one field of every editor kind."""

    name: str = Field(min_length=1, description="what to call it")
    size: int = 3
    ratio: float | None = None
    loud: bool = False
    mode: Literal["fast", "slow"] = "fast"
    source: Value
    inputs: dict[str, Value] = Field(default_factory=dict)
    env: dict[str, str] | None = None
    labels: list[str] = Field(default_factory=list)
    extra: dict[str, int] | None = None


def test_every_field_of_a_new_kind_gets_an_editor_without_widget_code() -> None:
    register_kind("gadget", GadgetSettings, "kit.codegen.kinds:render_python")
    try:
        fields = {f.name: f for f in settings_fields(GadgetSettings)}
    finally:
        unregister_kind("gadget")
    assert {n: f.kind for n, f in fields.items()} == {
        "name": "text",
        "size": "integer",
        "ratio": "number",
        "loud": "flag",
        "mode": "choice",
        "source": "value",
        "inputs": "values",
        "env": "mapping",
        "labels": "list",
        "extra": "json",
    }
    assert fields["mode"].choices == ("fast", "slow")
    assert fields["name"].required and fields["name"].description == "what to call it"
    assert fields["size"].default == 3 and not fields["size"].required
    assert default_settings(GadgetSettings) == {"name": "", "source": ""}


def test_the_registered_mlflow_kinds_get_value_fields_for_references() -> None:
    from kit.spec import get_kind

    register = {f.name: f.kind for f in settings_fields(get_kind("mlflow_register").settings_model)}
    promote = {f.name: f for f in settings_fields(get_kind("mlflow_promote").settings_model)}
    assert register["model_uri"] == "value"
    assert promote["version"].kind == "value"
    assert promote["alias"].default == "champion"
    assert promote["greater_is_better"].kind == "flag"


def test_classify_sees_values_inside_optional_and_annotated_types() -> None:
    assert classify(Value)[0] == "value"
    assert classify(Value | None)[0] == "value"
    assert classify(dict[str, Value])[0] == "values"
    assert classify(int | str)[0] == "json"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("3", 3),
        ("0.5", 0.5),
        ("true", True),
        ("[1, 2]", [1, 2]),
        ('{"a": 1}', {"a": 1}),
        ("hello world", "hello world"),
        ('"42"', "42"),
        ("", ""),
    ],
)
def test_parse_literal_reads_json_else_plain_text(text: str, value: object) -> None:
    assert parse_literal(text) == value
    assert parse_literal(format_literal(value)) == value


def test_format_literal_quotes_strings_that_would_read_as_something_else() -> None:
    assert format_literal("42") == '"42"'
    assert format_literal("plain") == "plain"


def test_parse_typed_checks_the_type_and_says_why() -> None:
    assert parse_typed("7", "integer") == 7
    assert parse_typed("2.5", "number") == 2.5
    assert parse_typed("no", "boolean") is False
    assert parse_typed("[1]", "array") == [1]
    assert parse_typed(" a b ", "string") == " a b "
    with pytest.raises(ValueError, match="not a whole number"):
        parse_typed("7.5", "integer")
    with pytest.raises(ValueError, match="not true or false"):
        parse_typed("maybe", "boolean")


def test_lists_for_fan_out_grids() -> None:
    assert parse_list("0.1, 0.01, 1") == [0.1, 0.01, 1]
    assert parse_list("a, b") == ["a", "b"]
    assert parse_list("") == []
    assert parse_list(format_list([1, "x", True])) == [1, "x", True]


def test_value_states_round_trip_literals_and_references() -> None:
    for value in (5, "text", {"$param": "epochs"}, {"$result": "train", "key": "uri"}):
        assert value_from_state(state_from_value(value)) == value
    assert state_from_value(ParamRef(param="n")) == ValueState("param", param="n")
    assert state_from_value(ResultRef(result="t")) == ValueState("result", result="t")
    assert value_from_state(ValueState("result", result="t", key="  ")) == {"$result": "t"}


@pytest.mark.parametrize(
    ("text", "grid"),
    [
        ("seed: 1, 2, 3", {"seed": [1, 2, 3]}),
        ("lr: 0.1, 0.01\nmodel: tree, forest", {"lr": [0.1, 0.01], "model": ["tree", "forest"]}),
        ('  \n name : a, "b" \n\n', {"name": ["a", "b"]}),
        ("flag: true, false", {"flag": [True, False]}),
        ("", None),
        ("\n  \n", None),
    ],
)
def test_fan_out_text_parses_to_a_grid_and_formats_back(text: str, grid) -> None:
    assert parse_fan_out(text) == grid
    assert parse_fan_out(format_fan_out(grid)) == grid


@pytest.mark.parametrize("text", ["seed 1, 2", "seed: 1\nno colon here", ": 1, 2"])
def test_fan_out_text_without_a_name_says_how_to_write_it(text: str) -> None:
    with pytest.raises(ValueError, match="write 'name: value1, value2'"):
        parse_fan_out(text)


def test_fan_out_format_keeps_strings_that_look_like_numbers_quoted() -> None:
    grid = {"version": ["1", "2"], "n": [1]}
    assert format_fan_out(grid) == 'version: "1", "2"\nn: 1'
    assert format_fan_out(None) == ""

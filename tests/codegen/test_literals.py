from __future__ import annotations

import ast
import keyword
import math
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kit.codegen.literals import Code, comment_text, py_literal, timedelta_code, to_identifier
from tests.codegen.strategies import JSON


@given(JSON)
def test_literal_evaluates_back_to_the_value(value: object) -> None:
    assert ast.literal_eval(py_literal(value)) == value


@given(st.text())
def test_any_text_is_one_string_constant(text: str) -> None:
    tree = ast.parse(py_literal(text), mode="eval")
    assert isinstance(tree.body, ast.Constant) and tree.body.value == text


@pytest.mark.parametrize("value", [math.inf, -math.inf])
def test_infinities_have_a_spelling(value: float) -> None:
    assert eval(py_literal(value)) == value  # noqa: S307 - our own output, no names but float


def test_nan_has_a_spelling() -> None:
    assert math.isnan(eval(py_literal(math.nan)))  # noqa: S307


def test_code_is_emitted_as_is_and_other_types_are_refused() -> None:
    assert py_literal([Code("x()")]) == "[x()]"
    with pytest.raises(TypeError):
        py_literal(object())


@given(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=999)))
def test_timedelta_code_builds_the_same_duration(value: timedelta) -> None:
    assert eval(timedelta_code(value), {"timedelta": timedelta}) == value  # noqa: S307


def test_timedelta_code_is_readable() -> None:
    assert timedelta_code(timedelta(hours=1, minutes=30)) == "timedelta(hours=1, minutes=30)"


@given(st.text(), st.sets(st.text(max_size=5), max_size=5))
def test_to_identifier_gives_a_fresh_identifier(text: str, taken: set[str]) -> None:
    name = to_identifier(text, taken=taken)
    assert name.isidentifier() and name.isascii()
    assert not keyword.iskeyword(name) and name not in taken


def test_to_identifier_keeps_good_names() -> None:
    assert to_identifier("train_model") == "train_model"
    assert to_identifier("my-pipeline.v2") == "my_pipeline_v2"
    assert to_identifier("class") == "class_2"


@given(st.text())
def test_comment_text_stays_on_one_line(text: str) -> None:
    safe = comment_text(text)
    assert safe.isascii() and "\n" not in safe and "\r" not in safe

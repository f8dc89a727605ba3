from pathlib import Path

import pytest

from kit.spec.notebooks import UNKNOWN, parse_parameters_source, read_parameters, type_matches
from tests.conftest_pipeline import SQUARE_NOTEBOOK, write_notebook


def test_parameters_cell_names_and_literal_defaults() -> None:
    declared = parse_parameters_source(
        "a = 1\nb: float = 2.5\nc = d = 'x'\ne = compute()\nimport os\n"
    )
    assert declared == {"a": 1, "b": 2.5, "c": "x", "d": "x", "e": UNKNOWN}


def test_unparsable_cell_declares_nothing() -> None:
    assert parse_parameters_source("a = (") == {}


def test_fixture_notebook_declares_its_parameters() -> None:
    assert read_parameters(SQUARE_NOTEBOOK).defaults == {"x": 2, "label": "square", "scale": 1.0}


def test_notebook_without_tagged_cell(tmp_path: Path) -> None:
    assert read_parameters(write_notebook(tmp_path / "n.ipynb", None)).defaults is None


def test_not_a_notebook(tmp_path: Path) -> None:
    path = tmp_path / "n.ipynb"
    path.write_text("{not json")
    with pytest.raises(ValueError, match="not a readable notebook"):
        read_parameters(path)


def test_int_is_accepted_for_float_but_bool_is_not_an_int() -> None:
    assert type_matches(0.5, 3) and not type_matches(3, True) and not type_matches(3, 2.0)

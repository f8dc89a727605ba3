"""`kit validate` on notebooks no one on this project wrote (tests/data/third_party_notebooks),
given the parameters their papermill runs were given: no false "undeclared" warning, and a
wrong-typed value against an annotated parameter is an error."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kit.spec import spec_from_mapping
from kit.spec.notebook_parameters import read_parameters
from kit.spec.validate import validate

THIRD_PARTY = Path(__file__).resolve().parents[1] / "data" / "third_party_notebooks"
RUNS = yaml.safe_load((THIRD_PARTY / "manifest.yaml").read_text())["runs"]


def problems_for(notebook: str, parameters: dict | None) -> list:
    settings = {"notebook": str(THIRD_PARTY / notebook)}
    if parameters:
        settings["parameters"] = parameters
    spec = spec_from_mapping(
        {"dag_id": "third_party", "tasks": [{"id": "nb", "kind": "notebook", "settings": settings}]}
    )
    return validate(spec, project_dir=THIRD_PARTY)


@pytest.mark.parametrize("run", RUNS, ids=[r["id"] for r in RUNS])
def test_no_false_undeclared_warning_and_no_error(run: dict) -> None:
    problems = problems_for(run["notebook"], run.get("parameters"))
    assert not [p for p in problems if "does not declare" in p.message], problems
    assert not [p for p in problems if p.is_error], problems


@pytest.mark.parametrize("run", RUNS, ids=[r["id"] for r in RUNS])
def test_the_kit_reads_the_parameters_papermill_reads(run: dict) -> None:
    papermill = run["inspect"]["parameters"] or {}
    declared = read_parameters(THIRD_PARTY / run["notebook"])
    assert list(declared.parameters) == list(papermill)
    for name, found in declared.parameters.items():
        assert found.help == papermill[name]["help"]
        assert found.default_source == papermill[name]["default"]


def test_what_complex_parameters_declares() -> None:
    found = read_parameters(THIRD_PARTY / "papermill" / "complex_parameters.ipynb")
    a, b = found.parameters["a"], found.parameters["b"]
    assert (a.type_name, a.default, a.help) == ("float", 2.25, "Variable a")
    assert (b.type_name, b.default, b.help) == ("List[str]", ["Hello", "World"], "Nice list")
    assert found.unreadable == ((12, "d = a == 3"),)


def test_a_wrong_type_against_an_annotation_is_an_error() -> None:
    problems = problems_for("papermill/complex_parameters.ipynb", {"a": "fast", "b": ["x"]})
    (error,) = [p for p in problems if p.is_error]
    assert (error.field, error.message) == (
        "settings.parameters.a",
        "'a' gets 'fast' (str) but the notebook declares a: float.",
    )
    problems = problems_for("papermill/complex_parameters.ipynb", {"b": "not a list"})
    (error,) = [p for p in problems if p.is_error]
    assert "declares b: List[str]" in error.message


def test_a_notebook_without_a_parameters_cell_given_some_is_warned_once() -> None:
    problems = problems_for("papermill/no_parameters.ipynb", {"msg": "Hello"})
    assert [p.field for p in problems] == ["settings.notebook"]
    assert "no cell tagged 'parameters'" in problems[0].message
    assert problems_for("ipython/Trapezoid Rule.ipynb", None) == []

"""Reading a notebook's parameters cell the way papermill does (``inspect_notebook``)."""

from pathlib import Path

import pytest

from kit.spec.notebook_parameters import UNKNOWN, annotation_type, read_parameters, type_matches
from tests.conftest_pipeline import SQUARE_NOTEBOOK, write_notebook


def read(tmp_path: Path, source: str | None):
    return read_parameters(write_notebook(tmp_path / "n.ipynb", source))


def test_fixture_notebook_declares_its_parameters() -> None:
    assert read_parameters(SQUARE_NOTEBOOK).defaults == {"x": 2, "label": "square", "scale": 1.0}


def test_annotations_defaults_and_help_as_papermill_reads_them(tmp_path: Path) -> None:
    found = read(
        tmp_path,
        "a: float = 2.25  # the rate\n"
        'b: List[str] = ["x",\n    "y"]  # names\n'
        "c = 3\n"
        "d = compute()\n"
        "e = None  # type: int\n",
    ).parameters
    assert list(found) == ["a", "b", "c", "d", "e"]
    a = found["a"]
    assert (a.annotation, a.default, a.help) == ("float", 2.25, "the rate")
    assert (found["b"].type_name, found["b"].default, found["b"].help) == (
        "List[str]",
        ["x", "y"],
        "names",
    )
    assert (found["c"].annotation, found["c"].type_name) == (None, "int")
    assert found["d"].default is UNKNOWN and found["d"].expected is None
    assert found["d"].type_name == "?"
    assert found["e"].expected.accepts(None) is False  # a type comment is an annotation
    assert found["e"].expected.accepts(3)


def test_lines_papermill_cannot_read_are_kept_with_their_number(tmp_path: Path) -> None:
    declared = read(tmp_path, 'lr = 0.1\nurl = "http://x/?a=b"\nx = 1; y = 2\n')
    assert list(declared.parameters) == ["lr"]
    assert declared.unreadable == ((2, 'url = "http://x/?a=b"'), (3, "x = 1; y = 2"))
    assert declared.unreadable_line_of("url") == (2, 'url = "http://x/?a=b"')
    assert declared.unreadable_line_of("lr") is None


def test_a_cell_with_only_comments_declares_nothing_and_is_not_code(tmp_path: Path) -> None:
    declared = read(tmp_path, "# nothing to set yet\n")
    assert declared.has_cell and declared.parameters == {} and not declared.cell_has_code


def test_notebook_without_tagged_cell(tmp_path: Path) -> None:
    declared = read(tmp_path, None)
    assert not declared.has_cell and declared.defaults is None


def test_not_a_notebook(tmp_path: Path) -> None:
    path = tmp_path / "n.ipynb"
    path.write_text("{not json")
    with pytest.raises(ValueError, match="not a readable notebook"):
        read_parameters(path)


@pytest.mark.parametrize(
    ("annotation", "accepted", "refused"),
    [
        ("float", [1, 2.5], ["x", True, None]),
        ("int", [3], [2.0, True, "3"]),
        ("bool", [True], [1, "yes"]),
        ("List[str]", [["a"], ("a",)], ["a", {"a": 1}]),
        ("Dict[str, int]", [{"a": 1}], [[1]]),
        ("Optional[int]", [None, 3], ["3"]),
        ("'str'", ["a"], [1]),
    ],
)
def test_annotation_types(annotation: str, accepted: list, refused: list) -> None:
    expected = annotation_type(annotation)
    assert all(expected.accepts(v) for v in accepted)
    assert not any(expected.accepts(v) for v in refused)


@pytest.mark.parametrize("annotation", ["Any", "Union[int, str]", "MyModel", "Callable"])
def test_annotations_that_are_not_checked(annotation: str) -> None:
    assert annotation_type(annotation) is None


def test_int_is_accepted_for_float_but_bool_is_not_an_int() -> None:
    assert type_matches(0.5, 3) and not type_matches(3, True) and not type_matches(3, 2.0)

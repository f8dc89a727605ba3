"""What a notebook declares in its ``parameters`` cell, read the way papermill reads it.

papermill's ``inspect_notebook`` gives each parameter's name, annotation (or ``# type:`` comment),
default as written and help (the comment after it). This module adds only what the kit needs on
top: the default's value when it is a literal, and the Python type a given value must have — the
annotation's when there is one, else the default's. Lines papermill cannot read (it logs "Unable to
parse line N") are kept, with their number, so that checks can say so instead of guessing.
"""

from __future__ import annotations

import ast
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PARAMETERS_TAG = "parameters"
UNKNOWN = object()  # a default that is not a literal (``compute()``, a magic glued on ...)

# An annotation's outer name -> the type a value must have; others (Any, Union, a class) are not
# checked.
_ANNOTATION_TYPES: dict[str, type] = {
    "int": int,
    "float": float,
    "str": str,
    "bool": bool,
    "list": list,
    "List": list,
    "tuple": list,
    "Tuple": list,
    "Sequence": list,
    "dict": dict,
    "Dict": dict,
    "Mapping": dict,
}
_OPTIONAL = re.compile(r"^Optional\[(?P<inner>.*)\]$")
_UNREADABLE = re.compile(r"^Unable to parse line (?P<line>\d+) '(?P<text>.*)'\.$", re.S)
_PAPERMILL_LOGGER = "papermill"


@dataclass(frozen=True)
class ExpectedType:
    """The type a parameter's value must have, and how the notebook says it."""

    py_type: type
    declared_as: str  # "float", "Optional[int]", or the default's type name
    optional: bool = False  # None is accepted too
    from_annotation: bool = False

    @property
    def a_value(self) -> str:
        """How a fix names it: "an int", "a float", "a List[str]"."""
        article = "an" if self.declared_as[:1].lower() in "aeiou" else "a"
        return f"{article} {self.declared_as}"

    def accepts(self, value: Any) -> bool:
        """Whether ``value`` has this type (None only when it is optional)."""
        if value is None:
            return self.optional
        return _instance_of(value, self.py_type)


@dataclass(frozen=True)
class DeclaredParameter:
    """One parameter of the ``parameters`` cell, as papermill reads it."""

    name: str
    annotation: str | None  # as written: "float", "List[str]"; None without one
    default_source: str  # as written in the cell
    default: Any  # its value if a literal, else UNKNOWN
    help: str

    @property
    def expected(self) -> ExpectedType | None:
        """The annotation's type, else the literal default's; None if neither says."""
        if self.annotation:
            return annotation_type(self.annotation)
        if self.default is UNKNOWN or self.default is None:
            return None
        py_type = list if isinstance(self.default, tuple) else type(self.default)
        if py_type not in _ANNOTATION_TYPES.values():
            return None
        return ExpectedType(py_type, py_type.__name__)

    @property
    def type_name(self) -> str:
        """What to show a person: the annotation, else the default's type, else "?"."""
        expected = self.expected
        return self.annotation or (expected.declared_as if expected else "?")


@dataclass(frozen=True)
class NotebookParameters:
    """A notebook's parameters cell (``has_cell`` False: the notebook has none)."""

    has_cell: bool
    parameters: dict[str, DeclaredParameter] = field(default_factory=dict)
    unreadable: tuple[tuple[int, str], ...] = ()  # (line in the cell, its text) papermill skipped
    cell_has_code: bool = False

    @property
    def defaults(self) -> dict[str, Any] | None:
        """Names and literal defaults (UNKNOWN if not a literal); None without a cell."""
        if not self.has_cell:
            return None
        return {name: p.default for name, p in self.parameters.items()}

    def unreadable_line_of(self, name: str) -> tuple[int, str] | None:
        """The skipped line that assigns ``name``, if papermill skipped it."""
        pattern = re.compile(rf"^\s*{re.escape(name)}\s*(:[^=]*)?=")
        return next(((n, text) for n, text in self.unreadable if pattern.match(text)), None)


def read_parameters(path: Path) -> NotebookParameters:
    """Read ``path``'s parameters cell with papermill; ValueError if it is not a notebook."""
    from papermill import inspect_notebook
    from papermill.iorw import load_notebook_node
    from papermill.utils import find_first_tagged_cell_index

    try:
        node = load_notebook_node(str(path))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"{path} is not a readable notebook ({exc})") from exc
    index = find_first_tagged_cell_index(node, PARAMETERS_TAG)
    if index < 0:
        return NotebookParameters(has_cell=False)
    skipped = _SkippedLines()
    logger = logging.getLogger(_PAPERMILL_LOGGER)
    logger.addHandler(skipped)
    # Its warnings are collected here, and its "Input Notebook" line is not news to anyone.
    propagate, logger.propagate = logger.propagate, False
    try:
        found = inspect_notebook(str(path))
    except Exception as exc:  # noqa: BLE001 - papermill reports a broken notebook many ways
        raise ValueError(f"{path} is not a readable notebook ({exc})") from exc
    finally:
        logger.removeHandler(skipped)
        logger.propagate = propagate
    source = node.cells[index].source
    return NotebookParameters(
        has_cell=True,
        parameters={name: _declared(p) for name, p in found.items()},
        unreadable=tuple(skipped.lines),
        cell_has_code=any(
            line.strip() and not line.strip().startswith("#") for line in source.splitlines()
        ),
    )


# JSON-schema type of a run parameter -> the Python type its value has at run time.
PARAM_PY_TYPES: dict[str, type] = {
    "string": str,
    "integer": int,
    "number": float,
    "boolean": bool,
    "array": list,
    "object": dict,
}
_JSON_TYPES = {py_type: json_type for json_type, py_type in PARAM_PY_TYPES.items()}


def run_param_for(parameter: DeclaredParameter) -> dict[str, Any]:
    """The typed run parameter (an Airflow ``Param``) that stands for a notebook parameter: its
    type, default and help (as description); a parameter of no known type becomes a string."""
    expected = parameter.expected
    param: dict[str, Any] = {"type": _JSON_TYPES[expected.py_type] if expected else "string"}
    default = parameter.default
    if default is not UNKNOWN and default is not None:
        param["default"] = list(default) if isinstance(default, tuple) else default
    if parameter.help:
        param["description"] = parameter.help
    return param


def annotation_type(annotation: str) -> ExpectedType | None:
    """The type an annotation asks for (``Optional[X]`` accepts None); None if not checked."""
    text = annotation.strip().strip("'\"")
    optional = False
    if match := _OPTIONAL.match(text):
        text, optional = match["inner"].strip(), True
    outer = text.split("[", 1)[0].strip()
    py_type = _ANNOTATION_TYPES.get(outer)
    if py_type is None:
        return None
    return ExpectedType(py_type, annotation.strip(), optional=optional, from_annotation=True)


def type_matches(default: Any, value: Any) -> bool:
    """Whether ``value`` can replace ``default`` without changing its type (None: anything)."""
    if default is UNKNOWN or default is None:
        return True
    py_type = list if isinstance(default, tuple) else type(default)
    return _instance_of(value, py_type)


def _instance_of(value: Any, py_type: type) -> bool:
    # bool is an int to Python, never to a notebook; an int is a fine float.
    if py_type is bool:
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if py_type is float:
        return isinstance(value, int | float)
    if py_type is list:
        return isinstance(value, list | tuple)
    return isinstance(value, py_type)


def _declared(found: dict[str, Any]) -> DeclaredParameter:
    annotation = found.get("inferred_type_name")
    source = str(found.get("default", ""))
    return DeclaredParameter(
        name=found["name"],
        annotation=None if annotation in (None, "None") else str(annotation),
        default_source=source,
        default=_literal(source),
        help=str(found.get("help") or ""),
    )


def _literal(source: str) -> Any:
    try:
        return ast.literal_eval(source)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return UNKNOWN


class _SkippedLines(logging.Handler):
    """Collects papermill's "Unable to parse line N 'text'." warnings while it inspects."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[tuple[int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if match := _UNREADABLE.match(record.getMessage()):
            self.lines.append((int(match["line"]), match["text"]))

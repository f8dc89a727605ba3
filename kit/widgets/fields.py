"""Form fields of a task kind, read from its pydantic settings model, and value parsing (pure).

A kind registered in ``kit.spec.kinds`` gets a form without widget code: each field of its settings
model is classified (text, number, flag, choice, value-or-reference, named values, ...) and the
widgets are built from that description. Values typed into a form are parsed here too.
"""

from __future__ import annotations

import json
import re
import types
import typing
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic_core import PydanticUndefined

from kit.spec.values import ParamRef, ResultRef

FieldKind = Literal[
    "text",  # str
    "integer",
    "number",
    "flag",  # bool
    "choice",  # Literal[...]
    "value",  # a literal, a run parameter or an upstream result (kit.spec.values.Value)
    "values",  # dict[str, Value]: named values passed to the task's code
    "mapping",  # dict[str, str]
    "list",  # list[str]
    "duration",  # timedelta, typed as 90, 5m, 1h30m or ISO 8601
    "json",  # anything else, edited as JSON
]

ValueSource = Literal["literal", "param", "result"]


@dataclass(frozen=True)
class FieldSpec:
    """How to edit one settings field."""

    name: str
    kind: FieldKind
    required: bool
    default: Any  # None when the field has no default (or a factory)
    description: str
    choices: tuple[Any, ...] = ()


def _flatten(annotation: Any) -> list[Any]:
    """The members of a union (``X | None``), with ``Annotated`` metadata stripped."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _flatten(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        members: list[Any] = []
        for arg in typing.get_args(annotation):
            members.extend(_flatten(arg))
        return members
    return [annotation]


def _is_value_type(annotation: Any) -> bool:
    return any(member in (ParamRef, ResultRef) for member in _flatten(annotation))


def classify(annotation: Any) -> tuple[FieldKind, tuple[Any, ...]]:
    """The editor kind of a field's type, and its choices for a ``Literal``."""
    if _is_value_type(annotation):
        return "value", ()
    members = [m for m in _flatten(annotation) if m is not type(None)]
    if len(members) != 1:
        return "json", ()
    member = members[0]
    origin = typing.get_origin(member)
    if origin is Literal:
        return "choice", typing.get_args(member)
    if origin is dict:
        _key, item = typing.get_args(member) or (str, Any)
        if _is_value_type(item):
            return "values", ()
        if item is str:
            return "mapping", ()
        return "json", ()
    if origin is list and typing.get_args(member) in ((str,), ()):
        return "list", ()
    simple: dict[Any, FieldKind] = {
        str: "text",
        bool: "flag",
        int: "integer",
        float: "number",
        timedelta: "duration",
    }
    return simple.get(member, "json"), ()


def settings_fields(model: type[BaseModel]) -> list[FieldSpec]:
    """One ``FieldSpec`` per field of a kind's settings model, in declaration order."""
    specs: list[FieldSpec] = []
    for name, info in model.model_fields.items():
        kind, choices = classify(info.annotation)
        default = None if info.default is PydanticUndefined else info.default
        specs.append(
            FieldSpec(
                name=info.alias or name,
                kind=kind,
                required=info.is_required(),
                default=default,
                description=info.description or "",
                choices=choices,
            )
        )
    return specs


def default_settings(model: type[BaseModel]) -> dict[str, Any]:
    """Starting settings for a new task: required text fields empty, the rest left to defaults."""
    data: dict[str, Any] = {}
    for spec in settings_fields(model):
        if spec.required:
            data[spec.name] = {"values": {}, "mapping": {}, "list": []}.get(spec.kind, "")
    return data


# -- values typed into a form ------------------------------------------------------------------


def parse_literal(text: str) -> Any:
    """A literal typed by a user: JSON when it reads as JSON (``3``, ``0.5``, ``true``, ``[1, 2]``,
    ``"x"``), else the text itself, so that plain words need no quotes."""
    stripped = text.strip()
    if not stripped:
        return ""
    try:
        return json.loads(stripped)
    except ValueError:
        return text


def format_literal(value: Any) -> str:
    """The text that ``parse_literal`` reads back as ``value``."""
    if isinstance(value, str):
        # A string that would read as something else (a number, true, null) keeps its quotes.
        return value if parse_literal(value) == value else json.dumps(value)
    return json.dumps(value)


def parse_typed(text: str, kind: str) -> Any:
    """Parse text for a typed field (``integer``/``number``/``boolean``/``string``/JSON types).

    Raises ValueError with a message meant for the user.
    """
    stripped = text.strip()
    if kind in ("string", "text"):
        return text
    if kind == "integer":
        try:
            return int(stripped)
        except ValueError:
            raise ValueError(f"{stripped!r} is not a whole number") from None
    if kind == "number":
        try:
            number = float(stripped)
        except ValueError:
            raise ValueError(f"{stripped!r} is not a number") from None
        return int(number) if number.is_integer() and "." not in stripped else number
    if kind in ("boolean", "flag"):
        if stripped.lower() in ("true", "yes", "1"):
            return True
        if stripped.lower() in ("false", "no", "0"):
            return False
        raise ValueError(f"{stripped!r} is not true or false")
    try:
        return json.loads(stripped)
    except ValueError as exc:
        raise ValueError(f"not valid JSON ({exc})") from None


def parse_list(text: str) -> list[Any]:
    """Comma-separated values, each read as a literal: ``0.1, 0.01`` -> ``[0.1, 0.01]``."""
    stripped = text.strip()
    if not stripped:
        return []
    try:
        parsed = json.loads(f"[{stripped}]")
        return list(parsed)
    except ValueError:
        return [parse_literal(part.strip()) for part in stripped.split(",") if part.strip()]


def format_list(values: list[Any]) -> str:
    """Values as the text a box shows: ``1, 'a b', true``."""
    return ", ".join(format_literal(value) for value in values)


def parse_words(text: str) -> list[str]:
    """Comma-separated words (tags, list[str] fields), blanks dropped."""
    return [part.strip() for part in text.split(",") if part.strip()]


def parse_enum(text: str, kind: str) -> list[Any]:
    """A run parameter's allowed values, comma-separated, each read as the parameter's type:
    ``a, b`` -> ``["a", "b"]`` for a string, ``1, 2`` -> ``[1, 2]`` for an integer."""
    if kind in ("array", "object"):
        return parse_list(text)
    return [parse_typed(word, kind) for word in parse_words(text)]


def format_enum(values: list[Any] | None, kind: str) -> str:
    """A parameter's allowed values as a box shows them (plain words for simple strings)."""
    if not values:
        return ""
    if kind == "string" and all(isinstance(v, str) and "," not in v for v in values):
        return ", ".join(values)
    return format_list(values)


_DURATION = TypeAdapter(timedelta)
_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
_COMPACT = re.compile(r"(?:\d+(?:\.\d+)?[dhms])+")
_COMPACT_PART = re.compile(r"(\d+(?:\.\d+)?)([dhms])")


def parse_duration(text: str) -> str:
    """A duration typed by a user, as the ISO 8601 text the spec stores (``PT1H30M``).

    Accepts seconds (``90``), a compact form (``90s``, ``5m``, ``1h30m``, ``2d``) and what the
    spec itself accepts (``PT5M``, ``01:30:00``). Raises ValueError with a message for the user.
    """
    stripped = text.strip()
    compact = stripped.replace(" ", "").lower()
    if re.fullmatch(r"\d+(?:\.\d+)?", compact):
        value = timedelta(seconds=float(compact))
    elif _COMPACT.fullmatch(compact):
        seconds = sum(float(n) * _UNITS[unit] for n, unit in _COMPACT_PART.findall(compact))
        value = timedelta(seconds=seconds)
    else:
        try:
            value = _DURATION.validate_python(stripped)
        except ValidationError:
            raise ValueError(
                f"{stripped!r} is not a duration: write seconds (90), 5m, 1h30m, 2d or ISO 8601 "
                "(PT1H30M)"
            ) from None
    return _DURATION.dump_python(value, mode="json")


def format_duration(value: Any) -> str:
    """The compact text for a duration of the spec (``PT1H30M`` or a timedelta -> ``1h30m``)."""
    if value is None or value == "":
        return ""
    try:
        delta = _DURATION.validate_python(value)
    except ValidationError:
        return str(value)  # shown as is; the spec check says what is wrong with it
    total = delta.total_seconds()
    if total <= 0 or total != int(total):
        return _DURATION.dump_python(delta, mode="json")
    parts, rest = [], int(total)
    for unit, size in _UNITS.items():
        amount, rest = divmod(rest, size)
        if amount:
            parts.append(f"{amount}{unit}")
    return "".join(parts)


@dataclass(frozen=True)
class ValueState:
    """What a value editor shows: the source, and the text/choices for it."""

    source: ValueSource = "literal"
    text: str = ""  # the literal, as typed
    param: str = ""  # run parameter name
    result: str = ""  # upstream task id
    key: str = ""  # key of the upstream result ("" = the whole result)


def value_from_state(state: ValueState) -> Any:
    """The spec value (a literal, or a reference as in YAML) for an editor's state."""
    if state.source == "param":
        return {"$param": state.param}
    if state.source == "result":
        ref: dict[str, Any] = {"$result": state.result}
        if state.key.strip():
            ref["key"] = state.key.strip()
        return ref
    return parse_literal(state.text)


def state_from_value(value: Any) -> ValueState:
    """The editor state showing a spec value (a model or its YAML mapping form)."""
    if isinstance(value, ParamRef):
        return ValueState("param", param=value.param)
    if isinstance(value, ResultRef):
        return ValueState("result", result=value.result, key=value.key or "")
    if isinstance(value, dict) and set(value) == {"$param"}:
        return ValueState("param", param=str(value["$param"]))
    if isinstance(value, dict) and "$result" in value and set(value) <= {"$result", "key"}:
        return ValueState("result", result=str(value["$result"]), key=str(value.get("key") or ""))
    return ValueState("literal", text=format_literal(value))


# -- fan-out grid, as typed into the task editor ---------------------------------------------


def parse_fan_out(text: str) -> dict[str, list[Any]] | None:
    """A fan-out grid typed one name per line, ``name: value1, value2`` (values read as
    literals); None when empty. Raises ValueError with a message for the user."""
    grid: dict[str, list[Any]] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        name, sep, values = line.partition(":")
        if not sep or not name.strip():
            raise ValueError(f"write 'name: value1, value2', not {line.strip()!r}")
        grid[name.strip()] = parse_list(values)
    return grid or None


def format_fan_out(grid: dict[str, list[Any]] | None) -> str:
    """The text ``parse_fan_out`` reads back as ``grid``."""
    return "\n".join(f"{name}: {format_list(values)}" for name, values in (grid or {}).items())

"""Values of task settings: a literal, or a reference to a run parameter or an upstream result.

In YAML a reference is a one-key mapping: ``{$param: epochs}`` or ``{$result: prepare, key: path}``;
anything else is a literal (JSON types only, so it can be written into Python code as a literal).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, JsonValue


class ParamRef(BaseModel):
    """The value of a run parameter (``params[...]`` at run time)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)
    param: str = Field(alias="$param", min_length=1)


class ResultRef(BaseModel):
    """The return value of an upstream task (through XCom), or one key of it."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)
    result: str = Field(alias="$result", min_length=1)
    key: str | None = None


# References are tried first; a mapping that is not exactly a reference stays a literal.
Value = Annotated[ParamRef | ResultRef | JsonValue, Field(union_mode="left_to_right")]


def iter_refs(values: Mapping[str, Any]) -> Iterator[tuple[str, ParamRef | ResultRef]]:
    """Yield ``(name, ref)`` for every reference among the values of a mapping."""
    for name, value in values.items():
        if isinstance(value, ParamRef | ResultRef):
            yield name, value

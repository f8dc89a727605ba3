"""Python literals for the values of a spec: no text of a spec can change the code's structure."""

from __future__ import annotations

import keyword
import math
import re
from collections.abc import Iterable
from datetime import timedelta
from typing import Any


class Code(str):
    """A fragment of Python built by the generator itself, emitted as is by ``py_literal``.

    Only the generator creates these, and any user text inside went through ``py_literal``.
    """

    __slots__ = ()


def py_literal(value: Any) -> str:
    """``value`` as Python source that evaluates to an equal value (JSON types and timedelta)."""
    if isinstance(value, Code):
        return str(value)
    if value is None or isinstance(value, bool | int):
        return repr(value)
    if isinstance(value, float):
        if math.isfinite(value):
            return repr(value)
        return f"float({repr(str(value))})"  # nan/inf have no literal
    if isinstance(value, str):
        # repr() of a str is always one valid string literal: quotes, newlines and the rest escaped.
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(py_literal(item) for item in value) + "]"
    if isinstance(value, dict):
        items = (f"{py_literal(key)}: {py_literal(item)}" for key, item in value.items())
        return "{" + ", ".join(items) + "}"
    if isinstance(value, timedelta):
        return timedelta_code(value)
    raise TypeError(f"no Python literal for a {type(value).__name__}: {value!r}")


def timedelta_code(value: timedelta) -> Code:
    """``timedelta(hours=6)`` rather than ``timedelta(seconds=21600)``."""
    parts: list[str] = []
    days, seconds, micro = value.days, value.seconds, value.microseconds
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    for name, amount in (
        ("days", days),
        ("hours", hours),
        ("minutes", minutes),
        ("seconds", seconds),
        ("microseconds", micro),
    ):
        if amount:
            parts.append(f"{name}={int(amount)}")
    return Code(f"timedelta({', '.join(parts) or 'seconds=0'})")


_NOT_IDENT = re.compile(r"[^0-9A-Za-z_]+")


def to_identifier(text: str, *, taken: Iterable[str] = (), fallback: str = "task") -> str:
    """A readable ASCII identifier for ``text`` that is not a keyword and not in ``taken``."""
    base = _NOT_IDENT.sub("_", text).strip("_") or fallback
    if base[0].isdigit():
        base = f"{fallback}_{base}"
    taken = set(taken)
    name = base
    counter = 2
    while keyword.iskeyword(name) or keyword.issoftkeyword(name) or name in taken:
        name = f"{base}_{counter}"
        counter += 1
    return name


def is_plain_identifier(text: str) -> bool:
    """Usable as a keyword argument name in generated code."""
    return text.isascii() and text.isidentifier() and not keyword.iskeyword(text)


def comment_text(text: str) -> str:
    """Text safe inside a ``#`` comment: ASCII, escapes instead of line breaks."""
    return ascii(text)[1:-1]

"""YAML with comments above chosen keys: PyYAML writes no comments, so this writes the block
structure itself and leaves every scalar to JSON (a JSON scalar is a YAML flow scalar), which
keeps strings such as "True" or "0.0.0.0" strings."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

Path = tuple[str, ...]


def _scalar(value: object) -> str:
    if value is None:
        return "null"
    return json.dumps(value, ensure_ascii=False)


_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
# Words YAML 1.1 readers (PyYAML among them) take for booleans or null.
_RESERVED = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}


def _key(key: object) -> str:
    text = str(key)
    if _PLAIN_KEY.fullmatch(text) and text.lower() not in _RESERVED:
        return text
    return json.dumps(text, ensure_ascii=False)


def _comment(text: str, indent: str) -> list[str]:
    return [f"{indent}# {line}".rstrip() for line in text.splitlines()]


def _block(node: object, indent: int, path: Path, comments: Mapping[Path, str]) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            here = (*path, str(key))
            if here in comments:
                lines += _comment(comments[here], pad)
            if isinstance(value, (dict, list)) and value:
                lines.append(f"{pad}{_key(key)}:")
                lines += _block(value, indent + 2, here, comments)
            else:
                empty = "{}" if isinstance(value, dict) else "[]"
                text = empty if isinstance(value, (dict, list)) else _scalar(value)
                lines.append(f"{pad}{_key(key)}: {text}")
    elif isinstance(node, list):
        for item in node:
            if isinstance(item, (dict, list)) and item:
                inner = _block(item, indent + 2, path, comments)
                lines.append(f"{pad}- {inner[0].lstrip()}")
                lines += inner[1:]
            else:
                lines.append(f"{pad}- {_scalar(item)}")
    return lines


def dump(data: dict, comments: Mapping[Path, str] | None = None, header: str = "") -> str:
    """``data`` as block YAML, each comment above the key its path names, ``header`` on top."""
    lines = _comment(header, "") if header else []
    lines += _block(data, 0, (), comments or {})
    return "\n".join(lines) + "\n"

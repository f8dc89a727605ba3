"""Code preview text: the diff of what export would write against the file on disk (pure)."""

from __future__ import annotations

import difflib
import html
from pathlib import Path


def diff_text(old: str | None, new: str, path: str | Path) -> str:
    """A unified diff from the file on disk (``None``: no file yet) to the new text.

    Empty when they are equal.
    """
    if old == new:
        return ""
    name = str(path)
    lines = difflib.unified_diff(
        (old or "").splitlines(keepends=True),
        new.splitlines(keepends=True),
        fromfile=f"{name} (on disk)" if old is not None else "/dev/null",
        tofile=f"{name} (export)",
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def diff_summary(old: str | None, new: str) -> str:
    """A one-line summary: 'new file', 'unchanged' or '+a -b lines'."""
    if old is None:
        return f"new file ({len(new.splitlines())} lines)"
    if old == new:
        return "unchanged: the file on disk is what export would write"
    added = removed = 0
    for line in difflib.ndiff(old.splitlines(), new.splitlines()):
        if line.startswith("+ "):
            added += 1
        elif line.startswith("- "):
            removed += 1
    return f"changed: +{added} -{removed} lines against the file on disk"


def diff_html(diff: str) -> str:
    """The diff coloured for an HTML widget (added green, removed red)."""
    out = []
    for line in diff.splitlines():
        escaped = html.escape(line)
        if line.startswith("+") and not line.startswith("+++"):
            out.append(f'<span style="background:#e6ffed">{escaped}</span>')
        elif line.startswith("-") and not line.startswith("---"):
            out.append(f'<span style="background:#ffeef0">{escaped}</span>')
        elif line.startswith("@@"):
            out.append(f'<span style="color:#6f42c1">{escaped}</span>')
        else:
            out.append(escaped)
    return code_html("\n".join(out), escaped=True)


def code_html(text: str, *, escaped: bool = False, max_height: int = 420) -> str:
    """Text (escaped unless ``escaped``) in a scrolling ``<pre>`` block."""
    body = text if escaped else html.escape(text)
    return (
        f'<pre style="max-height:{max_height}px;overflow:auto;font-size:11px;line-height:1.35;'
        f'background:#fafafa;border:1px solid #ddd;padding:6px;margin:0">{body}</pre>'
    )

"""The stored outputs of the tutorials: how they are cleaned, and what they must never hold."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import nbformat

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
# Where a local path would leak from: this machine's folders, temporary folders, home folders.
LOCAL_PATH = re.compile(r"(?<![\w.:/-])/(?:work|tmp|home|root|var/folders|private|Users)/[^\s'\"]*")
# Secrets the kit generates (token_urlsafe(18/48), Fernet keys), a JWT, or a password assignment.
SECRET = re.compile(
    r"(eyJ[\w-]{10,}\.[\w-]{10,}\.[\w-]{10,})"  # a JWT
    r"|((?:password|passwd|secret|token|fernet|api_key)\w*\s*[=:]\s*['\"]?(?!\*)[\w\-+/=]{12,})",
    re.IGNORECASE,
)


def texts(output: dict[str, Any]) -> Iterator[str]:
    """Every piece of text of one output (streams, text/html/plain data, tracebacks)."""
    if "text" in output:
        yield _join(output["text"])
    for mime, value in (output.get("data") or {}).items():
        if mime.startswith("text/") or mime.endswith("json") or mime == "image/svg+xml":
            yield _join(value) if not isinstance(value, dict) else str(value)
    if "traceback" in output:
        yield "\n".join(output["traceback"])


def _join(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def problems(nb: dict[str, Any]) -> list[str]:
    """Why a stored tutorial would mislead a reader: errors, local paths, secrets, widget state,
    or execution counts out of order. Empty when it is clean."""
    found: list[str] = []
    if "widgets" in nb.get("metadata", {}):
        found.append("notebook metadata holds widget state (metadata.widgets)")
    counts: list[int] = []
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        where = f"cell {index}"
        if cell.get("execution_count") is not None:
            counts.append(cell["execution_count"])
        elif cell.get("outputs"):
            found.append(f"{where}: outputs without an execution count")
        for output in cell.get("outputs", []):
            if output["output_type"] == "error":
                found.append(f"{where}: an error output ({output.get('ename')})")
            if output.get("name") == "stderr":
                found.append(f"{where}: stderr output")
            if WIDGET_VIEW in (output.get("data") or {}):
                found.append(f"{where}: a widget view (shows 'model not found' when stored)")
            for text in texts(output):
                if "Traceback (most recent call last)" in text:
                    found.append(f"{where}: a traceback in the output")
                if match := LOCAL_PATH.search(text):
                    found.append(f"{where}: a local path {match.group(0)!r}")
                if match := SECRET.search(text):
                    found.append(f"{where}: a secret-looking string {match.group(0)[:12]!r}…")
    if counts != list(range(1, len(counts) + 1)):
        found.append(f"execution counts are not 1, 2, 3, … in cell order: {counts}")
    return found


def clean(nb: dict[str, Any], replacements: dict[str, str]) -> dict[str, Any]:
    """The executed notebook as it should be stored: no widget views or widget state, no timing
    metadata, no stderr noise, and ``replacements`` applied to every text (ports, paths)."""
    nb.get("metadata", {}).pop("widgets", None)
    for cell in nb["cells"]:
        cell.get("metadata", {}).pop("execution", None)
        if cell["cell_type"] != "code":
            continue
        kept = []
        for output in cell.get("outputs", []):
            if output.get("name") == "stderr" or WIDGET_VIEW in (output.get("data") or {}):
                continue
            data = output.get("data") or {}
            blank = not _join(data.get("text/plain", "")).strip()
            if data and set(data) <= {"text/plain", "text/html"} and blank:
                continue  # an emptied live display (a finished progress bar)
            kept.append(nbformat.from_dict(_replace(output, replacements)))
        cell["outputs"] = kept
    return nb


def _replace(value: Any, replacements: dict[str, str]) -> Any:
    if isinstance(value, str):
        for old, new in replacements.items():
            value = value.replace(old, new)
        return value
    if isinstance(value, list):
        return [_replace(v, replacements) for v in value]
    if isinstance(value, dict):
        return {k: _replace(v, replacements) for k, v in value.items()}
    return value

"""What the Airflow API's answers say, as text: a refusal's detail and the id Airflow logged it
under, and a task's structured log lines rendered as the UI shows them (pure)."""

from __future__ import annotations

import json
import re
from typing import Any

from airflow_client.client.exceptions import ApiException


def error_detail(exc: ApiException) -> str:
    """The ``detail`` of an error answer: Airflow's 5xx as "reason. message" (the message names
    the log id), else the detail, else the HTTP reason; a body that is not JSON, cut at 500."""
    try:
        body = json.loads(exc.body or "{}")
    except ValueError:
        return (exc.body or str(exc))[:500]
    detail = body.get("detail") if isinstance(body, dict) else body
    if isinstance(detail, dict) and "message" in detail:
        return f"{detail.get('reason', 'error')}. {detail['message']}"
    if detail in (None, "", {}, []):
        return str(exc.reason or body or "")
    return str(detail)


def request_line(exc: ApiException) -> str:
    """What was asked, for a refusal: the API method's name is not known here, so say nothing
    more than the detail."""
    detail = error_detail(exc)
    return f"this request ({detail})" if detail else "this request"


def error_id(detail: str) -> str | None:
    """The id Airflow gives a database error in its answer and its log ("... look for ID abc")."""
    match = re.search(r"look for ID (\w+)", detail)
    return match.group(1) if match else None


def log_text(content: Any) -> str:
    """Airflow 3 returns structured log lines; render them as the UI does, one per line, with
    the traceback of any exception the line carries."""
    inner = getattr(content, "actual_instance", content)
    if isinstance(inner, str):
        return inner
    lines = []
    for item in inner or []:
        item = getattr(item, "actual_instance", item)
        if isinstance(item, str):
            lines.append(item)
            continue
        data = item.to_dict() if hasattr(item, "to_dict") else dict(item)
        event = data.pop("event", "")
        ts = data.pop("timestamp", None)
        level = data.pop("level", None)
        prefix = " ".join(str(x) for x in (ts, f"[{level}]" if level else None) if x)
        lines.append(f"{prefix} {event}".strip())
        for key in ("exception", "error_detail"):
            lines.extend(traceback_lines(data.get(key)))
    return "\n".join(lines)


def traceback_lines(detail: Any) -> list[str]:
    """structlog's dict form of an exception chain -> the familiar traceback text."""
    if isinstance(detail, str):
        return detail.splitlines()
    lines: list[str] = []
    for exc in detail or []:
        if not isinstance(exc, dict):
            continue
        lines.append("Traceback (most recent call last):")
        for frame in exc.get("frames") or []:
            where = f'"{frame.get("filename")}", line {frame.get("lineno")}'
            lines.append(f"  File {where}, in {frame.get('name')}")
        lines.append(f"{exc.get('exc_type')}: {exc.get('exc_value')}")
    return lines

"""What `docker compose ps` says, as the components of ``kit status``."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any

from kit.stack.base import ComponentStatus, Endpoints, StackStatus
from kit.stack.compose_project import AIRFLOW_SERVICE, MLFLOW_SERVICE


def parse_ps_json(text: str) -> list[dict[str, Any]]:
    """Rows of `docker compose ps --format json`: a JSON array (older v2) or one object a line."""
    text = text.strip()
    if not text:
        return []
    if text.startswith("["):
        return list(json.loads(text))
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def rows_from_inspect(containers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`docker inspect` output shaped like `compose ps` rows (v1 `ps` has no JSON output)."""
    rows = []
    for container in containers:
        state = container.get("State") or {}
        labels = (container.get("Config") or {}).get("Labels") or {}
        rows.append(
            {
                "Service": labels.get("com.docker.compose.service", ""),
                "State": state.get("Status", ""),
                "Health": (state.get("Health") or {}).get("Status", ""),
                "ExitCode": state.get("ExitCode", 0),
                "Number": labels.get("com.docker.compose.container-number", ""),
                "Name": container.get("Name", ""),
            }
        )
    return rows


def replica_number(row: dict[str, Any]) -> int:
    """Which container of a scaled service a row is (1 when Compose does not say)."""
    number = str(row.get("Number") or "")
    if not number:
        match = re.search(r"[-_](\d+)$", str(row.get("Name") or ""))
        number = match.group(1) if match else "1"
    return int(number)


def components_of_service(name: str, rows: list[dict[str, Any]]) -> list[ComponentStatus]:
    """A service's status: one component, or one per container when it is scaled
    (``airflow-worker-1``, ``airflow-worker-2``)."""
    if len(rows) <= 1:
        return [component_from_row(name, rows[0] if rows else None)]
    ordered = sorted(rows, key=replica_number)
    return [component_from_row(f"{name}-{replica_number(row)}", row) for row in ordered]


def component_from_row(name: str, row: dict[str, Any] | None) -> ComponentStatus:
    """One service's status from its `ps` row; no row means no container."""
    if row is None:
        return ComponentStatus(name=name, running=False, healthy=False, detail="no container")
    running = row.get("State") == "running"
    health = row.get("Health") or ""
    # A service without a health check is as healthy as it is running.
    healthy = health == "healthy" if health else running
    detail = row.get("State", "")
    if health:
        detail += f" ({health})"
    if not running and row.get("ExitCode"):
        detail += f", exit code {row['ExitCode']}"
    return ComponentStatus(name=name, running=running, healthy=healthy, detail=detail)


def stack_status(
    kind: str,
    services: Sequence[str],
    rows: list[dict[str, Any]],
    endpoints: Callable[[], Endpoints],
) -> StackStatus:
    """The stack's status from its containers' rows: running when Airflow's API server and MLflow
    are (then with ``endpoints()``), with a component per long-running service (or replica)."""
    components = [
        component
        for name in services
        for component in components_of_service(
            name, [row for row in rows if row.get("Service") == name]
        )
    ]
    by_name = {c.name: c for c in components}
    running = all(
        by_name.get(name) is not None and by_name[name].running
        for name in (AIRFLOW_SERVICE, MLFLOW_SERVICE)
    )
    return StackStatus(
        kind=kind,
        running=running,
        endpoints=endpoints() if running else None,
        components=components,
    )

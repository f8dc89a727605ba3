"""Where a task run keeps its files: ``<project>/artifacts/<dag_id>/<run_id>/``, one output
notebook per task try."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PROJECT_ENV = "KIT_PROJECT_DIR"


def current_context(context: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    """The given task context, or Airflow's current one when called inside a task without it."""
    if context:
        return context
    try:
        from airflow.sdk import get_current_context

        return get_current_context()
    except Exception:  # noqa: BLE001 - outside a running task there is simply no context
        return {}


def project_dir(context: Mapping[str, Any] | None = None) -> Path:
    """``$KIT_PROJECT_DIR``, else the DAG file's folder's parent, else the working directory."""
    if os.environ.get(PROJECT_ENV):
        return Path(os.environ[PROJECT_ENV])
    dag = (context or {}).get("dag")
    fileloc = getattr(dag, "fileloc", None)
    if fileloc:
        return Path(fileloc).resolve().parent.parent
    return Path.cwd()


def run_dir(context: Mapping[str, Any] | None = None) -> Path:
    """``artifacts/<dag_id>/<run_id>`` of the current run (``artifacts/manual/local`` outside)."""
    context = current_context(context)
    dag_id = getattr(context.get("dag"), "dag_id", None) or "manual"
    run_id = context.get("run_id") or "local"
    return project_dir(context) / "artifacts" / _safe(dag_id) / _safe(str(run_id))


def output_name(task_id: str, map_index: int | None, try_number: int | None) -> str:
    """``<task_id>[<map_index>].try<N>.ipynb``; the index only for mapped (fan-out) tasks."""
    index = f"[{map_index}]" if map_index is not None and map_index >= 0 else ""
    return f"{task_id}{index}.try{try_number or 1}.ipynb"


def _safe(part: str) -> str:
    # One folder name that cannot climb or stay put: no separator, no "..", not ".".
    part = part.replace(os.sep, "_").replace("..", "_")
    return "_" if part in ("", ".") else part


def local_artifact_path(reported: str | Path, project: Path | None = None) -> Path:
    """A file a task reported, as this machine sees it.

    A task names files as its own machine sees the project: in a container that is
    ``/opt/airflow/artifacts/<dag_id>/<run_id>/...``, which the Compose stack mounts from this
    project's ``artifacts/``. The path is kept when it exists here; otherwise it is rebased from its
    ``artifacts`` folder onto ``project`` (default: ``project_dir()``) when the file is there."""
    path = Path(reported)
    if path.exists():
        return path
    project = project or project_dir()
    parts = path.parts
    # From the deepest `artifacts` that still leaves <dag_id>/<run_id>/<file> under it.
    for index in range(len(parts) - 4, -1, -1):
        if parts[index] == "artifacts":
            here = project / "artifacts" / Path(*parts[index + 1 :])
            if here.exists():
                return here
    return path

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


def bundle_of(context: Mapping[str, Any] | None) -> tuple[str | None, str | None, Path | None]:
    """(name, version, path) of the DAG bundle the task runs from; None each outside a task.
    ``version`` is None for an unversioned bundle (its path is then not pinned to the run)."""
    bundle = getattr((context or {}).get("ti"), "bundle_instance", None)
    if bundle is None:
        return None, None, None
    path = getattr(bundle, "path", None)
    return getattr(bundle, "name", None), getattr(bundle, "version", None), path and Path(path)


def code_root(context: Mapping[str, Any] | None = None) -> Path:
    """Where a task reads the code it runs (its notebooks): the checkout of the run's bundle
    version when the bundle is versioned (the kit's git bundle: what was deployed, whatever the
    working copy holds now), else the project folder. Artifacts stay under ``project_dir``."""
    _name, version, path = bundle_of(context)
    if version is not None and path is not None:
        return path
    return project_dir(context)


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

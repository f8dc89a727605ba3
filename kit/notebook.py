"""What a notebook calls to talk to its pipeline: publish results, join the task's MLflow run.

Inside an Airflow task (run by ``kit.runtime.notebook``), published values become the task's XCom
for downstream tasks and stay in the output notebook; run by hand, they are shown and kept in
``published()``. Values must be JSON: numbers, strings, booleans, None, lists and dicts of them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

RESULT_MIME = "application/vnd.kit.result+json"
RESULTS_FILE_ENV = "KIT_RESULTS_FILE"
RUN_DIR_ENV = "KIT_RUN_DIR"

_published: dict[str, Any] = {}


def publish(name: str, value: Any) -> Any:
    """Publish ``value`` under ``name`` for downstream tasks (and show it); returns ``value``."""
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(
            f"kit.notebook.publish: name {name!r} must be an identifier, e.g. 'model_uri'"
        )
    try:
        text = json.dumps(value)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"kit.notebook.publish({name!r}, ...): a {type(value).__name__} is not JSON ({exc}). "
            "Publish a number, string, list or dict — for a model or a frame, save it and publish "
            "its path or URI."
        ) from None
    _published[name] = json.loads(text)
    if path := os.environ.get(RESULTS_FILE_ENV):
        _merge_into(Path(path), name, _published[name])
    _display(name, _published[name])
    return value


def run_dir() -> Path:
    """The folder for this run's files: ``artifacts/<dag_id>/<run_id>/`` inside a pipeline
    task, ``artifacts/scratch/`` when the notebook is run by hand."""
    path = Path(os.environ.get(RUN_DIR_ENV) or Path("artifacts") / "scratch")
    path.mkdir(parents=True, exist_ok=True)
    return path


def published() -> dict[str, Any]:
    """Everything published so far in this kernel."""
    return dict(_published)


def _merge_into(path: Path, name: str, value: Any) -> None:
    current = json.loads(path.read_text()) if path.exists() else {}
    current[name] = value
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(current))
    os.replace(tmp, path)


def _display(name: str, value: Any) -> None:
    try:
        from IPython.display import display
    except ImportError:  # plain Python, no IPython: nothing to show
        return
    display(
        {RESULT_MIME: {name: value}, "text/plain": f"published {name} = {value!r}"},
        raw=True,
    )


def results_in(notebook: Any) -> dict[str, Any]:
    """The values published in an executed notebook (an ``nbformat`` node), from its outputs."""
    found: dict[str, Any] = {}
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if RESULT_MIME in data:
                found.update(data[RESULT_MIME])
    return found


def mlflow_run(experiment: str | None = None):
    """The MLflow run this notebook logs to: the task's run when the kit started one
    (``MLFLOW_RUN_ID``), else the active run, else a new run in ``experiment``."""
    import mlflow

    if (active := mlflow.active_run()) is not None:
        return active
    if run_id := os.environ.get("MLFLOW_RUN_ID"):
        return mlflow.start_run(run_id=run_id)
    if experiment:
        mlflow.set_experiment(experiment)
    return mlflow.start_run()

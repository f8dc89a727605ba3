"""One MLflow run per notebook task try: tagged with where it ran, holding its output notebook
(and its HTML rendering)."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kit.local_http import http_get
from kit.runtime import output_html
from kit.runtime.paths import output_name


class TrackingUnavailable(RuntimeError):
    """The MLflow tracking server does not answer: the notebook is not run, nothing is lost."""


@dataclass(frozen=True)
class TaskRunTags:
    """Where a notebook try ran: the task instance and try its MLflow run belongs to."""

    dag_id: str
    run_id: str
    task_id: str
    map_index: int
    try_number: int

    def as_tags(self) -> dict[str, str]:
        """The run's MLflow tags (``kit.dag_id`` ... ``kit.try_number``) and its run name."""
        label = self.task_id if self.map_index < 0 else f"{self.task_id}[{self.map_index}]"
        # Which Celery worker ran it, where the stack names its workers (native Celery stack).
        worker = {"kit.worker": name} if (name := os.environ.get("KIT_WORKER_NAME")) else {}
        return {
            **worker,
            "kit.dag_id": self.dag_id,
            "kit.run_id": self.run_id,
            "kit.task_id": self.task_id,
            "kit.map_index": str(self.map_index),
            "kit.try_number": str(self.try_number),
            "mlflow.runName": f"{label} try {self.try_number}",
        }


def tracking_uri() -> str | None:
    """``$MLFLOW_TRACKING_URI``, or None when the task is not tracked."""
    return os.environ.get("MLFLOW_TRACKING_URI") or None


# How long a task waits for a tracking server that does not answer yet: `kit up` returns once
# Airflow can run a DAG, and MLflow may still be starting (KIT_MLFLOW_WAIT seconds, default 120).
MLFLOW_WAIT_ENV = "KIT_MLFLOW_WAIT"
MLFLOW_WAIT_DEFAULT = 120.0


def mlflow_patience() -> float:
    """Seconds to wait for the tracking server (``KIT_MLFLOW_WAIT``; a bad value is an error)."""
    raw = os.environ.get(MLFLOW_WAIT_ENV)
    if raw is None or raw.strip() == "":
        return MLFLOW_WAIT_DEFAULT
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value < 0:
        raise TrackingUnavailable(
            f"{MLFLOW_WAIT_ENV}={raw!r} is not a number of seconds >= 0; set it to how long a "
            f"task may wait for MLflow (default {MLFLOW_WAIT_DEFAULT:.0f})."
        )
    return value


def check_reachable(
    uri: str,
    timeout: float = 10.0,
    *,
    patience: float | None = None,
    interval: float = 1.0,
    say: Callable[[str], None] = print,
) -> None:
    """Wait until the HTTP tracking server at ``uri`` answers /health, at most ``patience``
    seconds (default: ``KIT_MLFLOW_WAIT``); raise TrackingUnavailable if it never does."""
    if not uri.startswith(("http://", "https://")):
        return  # a local store (file or database) needs no server
    patience = mlflow_patience() if patience is None else patience
    deadline = time.monotonic() + patience
    told = False
    while True:
        try:
            status, _ = http_get(f"{uri.rstrip('/')}/health", timeout)
        except (OSError, ValueError) as exc:  # refused, timed out, unresolvable
            if time.monotonic() + interval > deadline:
                raise TrackingUnavailable(
                    f"the MLflow tracking server at {uri} does not answer "
                    f"({type(exc).__name__}), after waiting {patience:.0f} s; the notebook was not "
                    "started, so no run is lost. Start the stack's MLflow (`kit up`; `kit status` "
                    f"shows it) and retry the task, or wait longer: {MLFLOW_WAIT_ENV}=<seconds>."
                ) from exc
            if not told:
                say(f"kit: waiting up to {patience:.0f} s for MLflow at {uri} (starting?)")
                told = True
            time.sleep(interval)
            continue
        if status != 200:
            raise TrackingUnavailable(f"the MLflow tracking server at {uri} answered HTTP {status}")
        if told:
            say(f"kit: MLflow at {uri} answers")
        return


def start_run(
    experiment: str,
    tags: TaskRunTags,
    output_dir: Path,
    lineage: Mapping[str, str] | None = None,
) -> str:
    """Create the task try's MLflow run in ``experiment`` (created if missing); return its id.
    Runs of earlier tries left RUNNING are closed first (see ``close_abandoned_runs``).

    ``lineage``: the code the try runs (``kit.runtime.lineage_tags``), set with the run's own
    tags when it is created, so no run of a try exists without them."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    client = MlflowClient()
    found = client.get_experiment_by_name(experiment)
    if found is None:
        try:
            experiment_id = client.create_experiment(experiment)
        except MlflowException:  # a mapped sibling created it meanwhile
            experiment_id = client.get_experiment_by_name(experiment).experiment_id
    else:
        experiment_id = found.experiment_id
        close_abandoned_runs(experiment_id, tags, output_dir)
    return client.create_run(experiment_id, tags={**(lineage or {}), **tags.as_tags()}).info.run_id


def close_abandoned_runs(experiment_id: str, tags: TaskRunTags, output_dir: Path) -> list[str]:
    """Close the runs of earlier tries of this task that are still RUNNING: their process died
    (killed, or reset by a restarted scheduler) before it could. Each keeps its try's output
    notebook, as far as it got, and ends KILLED; return their ids."""
    from mlflow import MlflowClient

    if tags.try_number <= 1:
        return []
    client = MlflowClient()
    # Airflow's run and task ids cannot hold a quote (allowed_run_id_pattern, task id rules).
    same_task = (
        f"tags.`kit.run_id` = '{tags.run_id}' "
        f"and tags.`kit.task_id` = '{tags.task_id}' "
        f"and tags.`kit.map_index` = '{tags.map_index}' and attributes.status = 'RUNNING'"
    )
    closed = []
    for run in client.search_runs([experiment_id], filter_string=same_task):
        earlier = int(run.data.tags.get("kit.try_number", "0"))
        if run.data.tags.get("kit.dag_id") != tags.dag_id or earlier >= tags.try_number:
            continue
        notebook = output_dir / output_name(tags.task_id, tags.map_index, earlier)
        close_killed(run.info.run_id, notebook, ended_by=f"try {tags.try_number} of the task")
        closed.append(run.info.run_id)
    return closed


def close_killed(run_id: str, output_notebook: Path, *, ended_by: str) -> bool:
    """Close a run whose try died before it could: attach its output notebook (as far as it got),
    tag who closed it (``kit.ended_by``), end it KILLED. False if it was closed already."""
    from mlflow import MlflowClient

    client = MlflowClient()
    if client.get_run(run_id).info.status != "RUNNING":
        return False
    if output_notebook.exists() and not output_html.is_current(output_notebook):
        with contextlib.suppress(Exception):  # the notebook itself matters more than its page
            output_html.render(output_notebook)
    _log_notebook(client, run_id, output_notebook)
    client.set_tag(run_id, "kit.ended_by", ended_by)
    client.set_terminated(run_id, status="KILLED")
    return True


def finish_run(run_id: str, output_notebook: Path | None, *, failed: bool) -> None:
    """Attach the output notebook and close the run as FINISHED or FAILED."""
    from mlflow import MlflowClient

    client = MlflowClient()
    if output_notebook is not None:
        _log_notebook(client, run_id, output_notebook)
    client.set_terminated(run_id, status="FAILED" if failed else "FINISHED")


def _log_notebook(client: Any, run_id: str, output_notebook: Path) -> None:
    """The output notebook and its HTML rendering, as the run's ``notebook/`` artifacts."""
    for path in (output_notebook, output_html.html_path(output_notebook)):
        if path.exists():
            client.log_artifact(run_id, str(path), artifact_path="notebook")

"""What a person sees before a model ships: the candidate's metrics against the champion's, and
a link to the output notebook that trained it (the ``approve_champion`` step of the lifecycle).

``comparison`` is pure (the message); ``compare_with_champion`` reads the registry and is what the
pipeline's python task calls."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

VIEW_PATH = "output-notebooks/view"  # kit.airflow_plugin.plugin.URL_PREFIX, without the slash


def notebook_url(
    base_url: str, dag_id: str, run_id: str, task_id: str, map_index: int | None
) -> str:
    """The kit's output-notebook view of one task instance, under Airflow's ``base_url``."""
    query = {"dag_id": dag_id, "run_id": run_id, "task_id": task_id}
    query["map_index"] = str(-1 if map_index is None else map_index)
    return f"{base_url.rstrip('/')}/{VIEW_PATH}?{urlencode(query)}"


def _number(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else "—" if value is None else str(value)


def comparison(
    name: str,
    candidate: Mapping[str, Any],
    champion: Mapping[str, Any] | None,
    metric: str,
    *,
    greater_is_better: bool = True,
    link: str | None = None,
) -> dict[str, Any]:
    """The candidate against the champion (pure). ``candidate``/``champion``: ``version`` and
    ``metrics`` (name -> value); ``champion`` None when the alias names no version yet.

    Returns ``better`` (the candidate beats the champion on ``metric``, or there is none),
    ``markdown`` (a table of every metric either has, the deciding one first) and ``subject``."""
    mine = dict(candidate.get("metrics") or {})
    theirs = dict((champion or {}).get("metrics") or {})
    value, held = mine.get(metric), theirs.get(metric)
    if champion is None or held is None:
        better = True
    elif value is None:
        better = False
    else:
        better = value > held if greater_is_better else value < held
    names = [metric] + sorted((set(mine) | set(theirs)) - {metric})
    champ_head = f"champion v{champion['version']}" if champion else "champion (none yet)"
    rows = [f"| metric | candidate v{candidate['version']} | {champ_head} |", "|---|---:|---:|"]
    rows += [
        f"| {'**' + n + '**' if n == metric else n} | {_number(mine.get(n))} | "
        f"{_number(theirs.get(n))} |"
        for n in names
    ]
    direction = "higher" if greater_is_better else "lower"
    verdict = (
        f"The candidate is **better** on {metric} ({direction} is better)."
        if better and champion
        else "There is no champion yet: the candidate would become the first."
        if champion is None
        else f"The candidate is **not better** on {metric} ({direction} is better): "
        "approving still leaves the champion where it is."
    )
    lines = [f"Model `{name}`: candidate version {candidate['version']}.", "", *rows, "", verdict]
    if link:
        lines += ["", f"[Output notebook of the training run]({link})"]
    return {
        "better": better,
        "candidate_version": candidate["version"],
        "champion_version": champion["version"] if champion else None,
        "notebook_url": link,
        "subject": f"Ship {name} version {candidate['version']} as champion?",
        "markdown": "\n".join(lines),
    }


def compare_with_champion(
    name: str,
    version: int,
    metric: str = "roc_auc",
    *,
    alias: str = "champion",
    greater_is_better: bool = True,
    trained_by: Mapping[str, Any] | None = None,
    train_task: str = "train",
    environ: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Read the candidate ``version`` and the ``alias`` holder of ``name`` from MLflow and build
    the message. ``trained_by``: the winning training result (``kit.mlops.selection.pick_best``'s,
    with its ``map_index``), for the link to its output notebook in this DAG run."""
    from mlflow import MlflowClient

    from kit.mlops.access import explained

    env = os.environ if environ is None else environ
    client = MlflowClient()
    with explained(
        f"read versions of the registered model {name!r} and their runs",
        f"READ on the registered model {name!r} and the experiment of its runs",
        f"--permission read --model {name}",
    ):
        held = client.get_registered_model(name).aliases.get(alias)
        candidate = _entry(client, name, version)
        champion = _entry(client, name, held) if held is not None else None
    link = None
    base, dag_id, run_id = (
        env.get(k)
        for k in ("AIRFLOW__API__BASE_URL", "AIRFLOW_CTX_DAG_ID", "AIRFLOW_CTX_DAG_RUN_ID")
    )
    if base and dag_id and run_id and trained_by is not None:
        link = notebook_url(base, dag_id, run_id, train_task, trained_by.get("map_index"))
    return comparison(
        name, candidate, champion, metric, greater_is_better=greater_is_better, link=link
    )


def _entry(client: Any, name: str, version: Any) -> dict[str, Any]:
    """A version and the metrics of the run that made it."""
    held = client.get_model_version(name, str(version))
    metrics = dict(client.get_run(held.run_id).data.metrics) if held.run_id else {}
    return {"version": int(held.version), "metrics": metrics, "run_id": held.run_id}

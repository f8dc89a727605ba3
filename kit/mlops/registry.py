"""The MLflow Model Registry steps of the lifecycle: register a version, promote it to an alias
only when it beats the current holder, and smoke-test what the alias serves.

Each step names the permission it needs when MLflow refuses it (``kit.mlops.access``): reading
takes READ on the registered model and the experiment of its runs, registering and promoting
take EDIT on the registered model."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Mapping
from typing import Any

from kit.mlops.access import explained
from kit.mlops.champion import (
    Entry,
    MarkCandidate,
    Promoter,
    ReadCandidates,
    ReadHolder,
    Rule,
    candidate_tag,
    reason,
)
from kit.runtime.lineage_tags import kit_tags, registered_by_tags


def register_model(
    model_uri: str, name: str, *, tags: Mapping[str, str] | None = None, timeout: int = 300
) -> dict[str, Any]:
    """Register ``model_uri`` as a new version of ``name``; waits until the version is ready.

    The version carries its lineage in the same call: the ``kit.*`` tags of the MLflow run that
    made the model (the notebook try: bundle version, notebook digest, parameters...) and
    ``kit.registered_by.*`` naming the Airflow task that registers it; ``tags`` win over both."""
    import os

    import mlflow

    with explained(
        f"read the run that logged {model_uri} (its lineage tags)",
        "READ on the experiment of the run that logged the model",
        "--permission read --experiment <the run's experiment>",
    ):
        lineage = source_run_tags(model_uri)
    with explained(
        f"register a version of the registered model {name!r}",
        f"EDIT on the registered model {name!r} (any login may create a new model)",
        f"--permission edit --model {name}",
    ):
        version = mlflow.register_model(
            model_uri,
            name,
            tags={**lineage, **registered_by_tags(os.environ), **dict(tags or {})},
            await_registration_for=timeout,
        )
    return {
        "name": name,
        "version": int(version.version),
        "model_uri": model_uri,
        "run_id": version.run_id,
        "registered_uri": f"models:/{name}/{version.version}",
    }


def source_run_id(model_uri: str, logged_model_run: Callable[[str], str | None]) -> str | None:
    """The id of the MLflow run that made ``model_uri``: ``runs:/<id>/...`` names it;
    ``models:/m-<id>`` (a logged model) asks ``logged_model_run``; None for other URIs (a
    registered version ``models:/<name>/<v>``, a path)."""
    if model_uri.startswith("runs:/"):
        run_id = model_uri.removeprefix("runs:/").split("/", 1)[0]
        return run_id or None
    if model_uri.startswith("models:/m-"):
        model_id = model_uri.removeprefix("models:/").split("/", 1)[0]
        return logged_model_run(model_id)
    return None


def source_run_tags(model_uri: str) -> dict[str, str]:
    """The ``kit.*`` tags of the run that made ``model_uri`` ({} when no run is known)."""
    from mlflow import MlflowClient

    client = MlflowClient()
    run_id = source_run_id(model_uri, lambda m: client.get_logged_model(m).source_run_id)
    if run_id is None:
        return {}
    return kit_tags(client.get_run(run_id).data.tags)


def _metric(client, run_id: str, metric: str) -> float:
    value = client.get_run(run_id).data.metrics.get(metric)
    if value is None:
        raise ValueError(
            f"run {run_id} has no metric {metric!r}; the training notebook must log it "
            "(mlflow.log_metrics) for promotion to compare versions."
        )
    return float(value)


# How the tracking server's database reports a second insert of the same key: two promotions
# setting a new alias (or tagging one version) at the same moment (seen with 8 lifecycles at once).
KEY_CONFLICT = ("already exists", "UNIQUE constraint failed", "UniqueViolation")


def _conflict(exc: Exception) -> bool:
    return any(m in str(exc) for m in KEY_CONFLICT)


def _name_filter(name: str) -> str:
    quote = "'" if "'" not in name else '"'
    if quote in name:
        raise ValueError(f"model name {name!r}: use a name without both kinds of quotes")
    return f"name = {quote}{name}{quote}"


def _holder(client: Any, name: str, alias: str, rule: Rule) -> Entry | None:
    """The version ``alias`` names and its value: from its candidate tag, or, for a holder set
    before candidates were tagged (or under another rule), from its run's metric."""
    version = client.get_registered_model(name).aliases.get(alias)
    if version is None:
        return None
    held = client.get_model_version(name, str(version))
    value = rule.read_tag(held.tags.get(candidate_tag(alias), ""))
    if value is None:
        value = _metric(client, held.run_id, rule.metric)
    return Entry(int(version), value)


def _candidates(client: Any, name: str, alias: str, rule: Rule) -> tuple[Entry, ...]:
    """Every version of ``name`` tagged as a candidate for ``alias`` under ``rule``."""
    key, found, token = candidate_tag(alias), [], None
    while True:
        page = client.search_model_versions(_name_filter(name), page_token=token)
        for version in page:
            value = rule.read_tag(version.tags.get(key, ""))
            if value is not None:
                found.append(Entry(int(version.version), value))
        token = page.token
        if not token:
            return tuple(found)


def _run(client: Any, name: str, alias: str, promoter: Promoter) -> Promoter:
    """Carry ``promoter``'s reads and writes out against the registry until it is done."""
    from mlflow.exceptions import MlflowException

    rule = promoter.rule

    def writing() -> contextlib.AbstractContextManager[None]:
        return explained(
            f"move the alias {alias!r} of the registered model {name!r} (promotion)",
            f"EDIT on the registered model {name!r}",
            f"--permission edit --model {name}",
        )

    while not promoter.done:
        op = promoter.op()
        if isinstance(op, ReadHolder):
            promoter = promoter.after(_holder(client, name, alias, rule))
        elif isinstance(op, ReadCandidates):
            promoter = promoter.after(_candidates(client, name, alias, rule))
        elif isinstance(op, MarkCandidate):
            try:
                with writing():
                    client.set_model_version_tag(
                        name, str(op.version), candidate_tag(alias), op.text
                    )
            except MlflowException as exc:
                if not _conflict(exc):  # else the same tag, written at the same moment: again
                    raise
                continue
            promoter = promoter.after()
        else:
            try:
                with writing():
                    client.set_registered_model_alias(name, alias, str(op.version))
            except MlflowException as exc:
                # Another promotion's insert of the alias won; the next read shows it.
                if not _conflict(exc):
                    raise
            promoter = promoter.after()
    return promoter


def promote_if_better(
    name: str,
    version: int,
    metric: str = "roc_auc",
    *,
    alias: str = "champion",
    greater_is_better: bool = True,
    smoke_data: str | None = None,
) -> dict[str, Any]:
    """Point ``alias`` at ``version`` only if it beats the version the alias names now on
    ``metric`` (strictly); then smoke-test ``models:/<name>@<alias>``. Says what happened, why.

    Safe to run at the same moment as other promotions of the same model (several lifecycle
    runs, notebooks): the alias ends on the best of them (kit.mlops.champion, docs/registry.md)."""
    from mlflow import MlflowClient

    client = MlflowClient()
    with explained(
        f"read the versions of the registered model {name!r} and their runs (promotion)",
        f"READ on the registered model {name!r} and on the experiment of its runs, and EDIT "
        "on the model to move an alias",
        f"--permission edit --model {name} --experiment <the runs' experiment>",
    ):
        new = client.get_model_version(name, str(version))
        rule = Rule(metric, greater_is_better)
        me = Entry(int(version), _metric(client, new.run_id, metric))
        done = _run(client, name, alias, Promoter(me, rule))
    assert done.champion is not None
    before = done.before
    result: dict[str, Any] = {
        "name": name,
        "alias": alias,
        "candidate_version": me.version,
        "candidate_metric": me.value,
        "previous_version": before.version if before else None,
        "previous_metric": before.value if before else None,
        "champion_version": done.champion.version,
        "promoted": done.champion.version == me.version
        and (before is None or before.version != me.version),
        "reason": reason(done, alias),
        "metric": metric,
        "rounds": done.rounds,
    }
    if smoke_data:
        result["smoke_test"] = smoke_test(name, alias, smoke_data)
    return result


def smoke_test(name: str, alias: str, data_path: str, rows: int = 5) -> dict[str, Any]:
    """Load ``models:/<name>@<alias>`` as a served model would be and predict a few rows."""
    import mlflow
    import pandas as pd

    uri = f"models:/{name}@{alias}"
    model = mlflow.pyfunc.load_model(uri)
    frame = pd.read_csv(data_path).drop(columns=["target"], errors="ignore").head(rows)
    predictions = [float(p) for p in model.predict(frame)]
    if len(predictions) != len(frame) or not all(math.isfinite(p) for p in predictions):
        raise RuntimeError(
            f"smoke test of {uri} failed: predictions {predictions} for {len(frame)} rows"
        )
    return {"model_uri": uri, "rows": len(frame), "predictions": predictions}

"""The MLflow Model Registry steps of the lifecycle: register a version, promote it to an alias
only when it beats the current holder, and smoke-test what the alias serves."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


def register_model(
    model_uri: str, name: str, *, tags: Mapping[str, str] | None = None, timeout: int = 300
) -> dict[str, Any]:
    """Register ``model_uri`` as a new version of ``name``; waits until the version is ready."""
    import mlflow

    version = mlflow.register_model(
        model_uri, name, tags=dict(tags or {}), await_registration_for=timeout
    )
    return {
        "name": name,
        "version": int(version.version),
        "model_uri": model_uri,
        "run_id": version.run_id,
        "registered_uri": f"models:/{name}/{version.version}",
    }


def _metric(client, run_id: str, metric: str) -> float:
    value = client.get_run(run_id).data.metrics.get(metric)
    if value is None:
        raise ValueError(
            f"run {run_id} has no metric {metric!r}; the training notebook must log it "
            "(mlflow.log_metrics) for promotion to compare versions."
        )
    return float(value)


ALIAS_ATTEMPTS = 5
# How the tracking server's database reports a second insert of the same alias.
KEY_CONFLICT = ("already exists", "UNIQUE constraint failed", "UniqueViolation")


@dataclass(frozen=True)
class _Decision:
    promote: bool
    reason: str
    previous: int | None
    previous_metric: float | None


def _decide(
    client: Any,
    name: str,
    alias: str,
    version: int,
    new_value: float,
    metric: str,
    greater_is_better: bool,
) -> _Decision:
    """Whether ``version`` should take ``alias`` from the version it names now, and why."""
    from mlflow.exceptions import MlflowException

    try:
        current = client.get_model_version_by_alias(name, alias)
    except MlflowException:
        current = None
    if current is None:
        return _Decision(True, f"no {alias} yet: version {version} becomes {alias}", None, None)
    previous = int(current.version)
    if previous == version:
        return _Decision(False, f"version {version} is already {alias}", previous, new_value)
    current_value = _metric(client, current.run_id, metric)
    better = new_value > current_value if greater_is_better else new_value < current_value
    verdict = "beats" if better else "does not beat"
    reason = (
        f"version {version} {metric}={new_value:.4f} {verdict} {alias} version "
        f"{previous} {metric}={current_value:.4f}"
    )
    return _Decision(better, reason, previous, current_value)


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
    ``metric`` (strictly); then smoke-test ``models:/<name>@<alias>``. Says what happened, why."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    client = MlflowClient()
    new = client.get_model_version(name, str(version))
    new_value = _metric(client, new.run_id, metric)
    for attempt in range(1, ALIAS_ATTEMPTS + 1):
        decision = _decide(client, name, alias, int(version), new_value, metric, greater_is_better)
        if not decision.promote:
            break
        try:
            client.set_registered_model_alias(name, alias, str(version))
            break
        except MlflowException as exc:
            # Two runs' deploys setting a new alias at the same moment: one insert wins, the
            # other fails on the alias's key (seen with 8 lifecycles at once). Decide again
            # against the version that won.
            if not any(m in str(exc) for m in KEY_CONFLICT) or attempt == ALIAS_ATTEMPTS:
                raise
            time.sleep(0.2 * attempt)
    champion = int(client.get_model_version_by_alias(name, alias).version)
    result: dict[str, Any] = {
        "name": name,
        "alias": alias,
        "candidate_version": int(version),
        "candidate_metric": new_value,
        "previous_version": decision.previous,
        "previous_metric": decision.previous_metric,
        "champion_version": champion,
        "promoted": decision.promote,
        "reason": decision.reason,
        "metric": metric,
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

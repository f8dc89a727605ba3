"""Best-run selection, registration, champion promotion and batch scoring on a real MLflow store."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from kit.mlops.batch import score_new_data
from kit.mlops.registry import promote_if_better, register_model, source_run_id
from kit.mlops.selection import pick_best
from tests.mlops.race import at_once


def test_pick_best_by_metric_either_direction() -> None:
    results = [
        {"run_id": "a", "metrics": {"roc_auc": 0.91, "loss": 0.3}},
        {"run_id": "b", "metrics": {"roc_auc": 0.97, "loss": 0.5}},
    ]
    assert pick_best(results)["run_id"] == "b"
    best = pick_best(results, "loss", greater_is_better=False)
    assert best["run_id"] == "a" and best["metric_value"] == 0.3 and best["candidates"] == 2
    with pytest.raises(ValueError, match="metric 'f1' is missing in runs"):
        pick_best(results, "f1")
    with pytest.raises(ValueError, match="no training results"):
        pick_best([])


@pytest.fixture(scope="module")
def tracking(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("registry")
    frame = load_breast_cancer(as_frame=True).frame
    frame.to_csv(root / "data.csv", index=False)
    # The environment, not mlflow.set_tracking_uri(): that global would outlive this module.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root / 'mlflow.db'}")
        yield root


def _logged_model(root: Path, c: float, score: float) -> str:
    frame = pd.read_csv(root / "data.csv")
    X, y = frame.drop(columns="target"), frame["target"]
    model = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=500)).fit(X, y)
    with mlflow.start_run() as run:
        mlflow.log_metric("roc_auc", score)
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            input_example=X.head(2),
            # As the training notebook does: no requirement inference in a new process.
            pip_requirements=mlflow.sklearn.get_default_pip_requirements(include_skops=True),
        )
    assert run.info.run_id
    return info.model_uri


def test_champion_moves_only_for_a_better_version(tracking: Path) -> None:
    data = str(tracking / "data.csv")
    first = register_model(_logged_model(tracking, 1.0, 0.95), "bc")
    assert first["version"] == 1
    promoted = promote_if_better("bc", 1, smoke_data=data)
    assert promoted["promoted"] and promoted["champion_version"] == 1
    assert "no champion yet" in promoted["reason"]
    assert promoted["smoke_test"]["rows"] == 5

    worse = register_model(_logged_model(tracking, 0.01, 0.90), "bc")
    kept = promote_if_better("bc", worse["version"], smoke_data=data)
    assert not kept["promoted"] and kept["champion_version"] == 1
    assert "does not beat champion version 1" in kept["reason"]

    better = register_model(_logged_model(tracking, 10.0, 0.99), "bc")
    moved = promote_if_better("bc", better["version"])
    assert moved["promoted"] and moved["champion_version"] == 3 and moved["previous_version"] == 1
    again = promote_if_better("bc", 3)
    assert not again["promoted"] and "already champion" in again["reason"]

    scored = score_new_data("bc", str(tracking / "batch"), rows=30)
    assert scored["rows"] == 30 and scored["model_version"] == 3
    predictions = pd.read_csv(scored["path"])["prediction"]
    assert len(predictions) == 30 and set(predictions.unique()) <= {0, 1}


def test_a_registered_version_carries_its_runs_lineage_and_the_registering_task(
    tracking: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    uri = _logged_model(tracking, 1.0, 0.9)  # models:/m-... (a logged model)
    assert uri.startswith("models:/m-")
    client = mlflow.MlflowClient()
    run_id = client.get_logged_model(uri.removeprefix("models:/")).source_run_id
    lineage = {"kit.bundle.version": "c0ffee", "kit.notebook.sha256": "ab" * 32}
    for key, value in lineage.items():
        client.set_tag(run_id, key, value)
    client.set_tag(run_id, "other.tag", "not copied")
    monkeypatch.setenv("AIRFLOW_CTX_DAG_ID", "ml_lifecycle")
    monkeypatch.setenv("AIRFLOW_CTX_DAG_RUN_ID", "manual__7")
    monkeypatch.setenv("AIRFLOW_CTX_TASK_ID", "register")
    monkeypatch.setenv("AIRFLOW_CTX_TRY_NUMBER", "1")
    done = register_model(uri, "traced", tags={"kit.bundle.version": "given wins"})
    tags = client.get_model_version("traced", str(done["version"])).tags
    assert tags["kit.notebook.sha256"] == "ab" * 32 and "other.tag" not in tags
    assert tags["kit.bundle.version"] == "given wins"
    assert tags["kit.registered_by.run_id"] == "manual__7"
    assert tags["kit.registered_by.task_id"] == "register"
    # The same through runs:/<id>/model.
    again = register_model(f"runs:/{run_id}/model", "traced")
    assert client.get_model_version("traced", str(again["version"])).tags["kit.bundle.version"] == (
        "c0ffee"
    )


def test_the_source_run_of_each_kind_of_model_uri() -> None:
    asked = []

    def logged(model_id: str) -> str:
        asked.append(model_id)
        return "run-of-" + model_id

    assert source_run_id("runs:/abc/model", logged) == "abc"
    assert source_run_id("models:/m-123", logged) == "run-of-m-123" and asked == ["m-123"]
    assert source_run_id("models:/bc/3", logged) is None  # a registered version: no new run
    assert source_run_id("/tmp/model", logged) is None


def test_deploys_of_concurrent_runs_all_finish_with_one_champion(tracking: Path) -> None:
    """Eight lifecycles at once (the seed's load) meet in the registry: two deploys may set a new
    alias at the same moment (one insert then fails on the alias's key), and a slower, worse one
    must not overwrite a better one. The alias ends on the best, in any order."""
    versions = [
        register_model(_logged_model(tracking, c, score), "race")["version"]
        for c, score in ((1.0, 0.91), (2.0, 0.93), (3.0, 0.92), (4.0, 0.94))
    ]
    # Each in its own thread, released together (an error in any is raised here).
    results = at_once(versions, "race", lambda model, version, _: promote_if_better(model, version))
    assert sorted(results) == versions
    # The exact champion: the best of the four (0.94), whatever order the deploys ran in.
    best = versions[3]
    champion = int(mlflow.MlflowClient().get_model_version_by_alias("race", "champion").version)
    assert champion == best and results[best]["promoted"], results
    for version, result in results.items():  # each ends on the best, and says so
        assert result["champion_version"] == best, result
        if version != best:
            assert not result["promoted"], result

"""The lifecycle's deploy step (kind ``mlflow_promote``) in several DAG runs at once on the session
stack: the tasks reach MLflow over REST only, as in the lifecycle, and the champion ends on the
exact best version whatever order the runs' deploys ran in."""

from __future__ import annotations

import time
from pathlib import Path

import mlflow
import yaml

from kit.codegen import export
from kit.stack.embedded import EmbeddedStack
from tests.conftest import REPO
from tests.mlops.race import register

MODEL = "deploy_race"
RUNS = 8


def _deploy_pipeline(folder: Path) -> Path:
    """A pipeline of the lifecycle's deploy step alone; the version comes from the run's conf."""
    spec = {
        "dag_id": "kit_deploy_race",
        "schedule": None,
        "start_date": "2024-01-01",
        "retries": 0,
        "params": {"version": {"type": "integer", "default": 1, "minimum": 1}},
        "tasks": [
            {
                "id": "deploy",
                "kind": "mlflow_promote",
                "settings": {
                    "model_name": MODEL,
                    "version": {"$param": "version"},
                    "metric": "score",
                    "alias": "champion",
                    "asset": f"mlflow://models/{MODEL}/champion",
                },
            }
        ],
    }
    path = folder / "kit_deploy_race.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def test_deploys_of_runs_at_once_leave_the_best_version_champion(
    stack: EmbeddedStack, client, tmp_path: Path
) -> None:
    uri = stack.settings.mlflow_url
    mlflow.MlflowClient(uri, uri).create_registered_model(MODEL)
    # Every version beats the one registered before it, so each deploy would move the alias:
    # a worse one set last is the lost update this guards against.
    versions = register(uri, MODEL, [0.80 + k / 100 for k in (3, 7, 1, 5, 0, 6, 2, 4)])
    result = export(
        _deploy_pipeline(tmp_path),
        project_dir=REPO,
        dags_dir=stack.settings.dags_dir,
        pipelines_dir=tmp_path / "pipelines",
    )
    client.make_visible(result.dag_id, result.dag_path, timeout=180)
    client.set_paused(result.dag_id, False)
    started = time.monotonic()
    run_ids = [client.trigger(result.dag_id, {"version": v}).run_id for v in versions]
    runs = [client.wait(result.dag_id, r, timeout=900, progress=False) for r in run_ids]
    print(f"{RUNS} deploy runs at once: {time.monotonic() - started:.1f} s")
    assert [r.state for r in runs] == ["success"] * RUNS, [
        [(t.task_id, t.state) for t in r.tasks] for r in runs
    ]
    best = max(versions, key=versions.__getitem__)
    champion = mlflow.MlflowClient(uri, uri).get_model_version_by_alias(MODEL, "champion")
    assert int(champion.version) == best, versions
    deploys = [client.xcom(result.dag_id, r, "deploy") for r in run_ids]
    # On a busy machine the runs may not overlap, so several deploys can promote in turn; what
    # must hold whatever the order: no deploy leaves a champion worse than its own version, and
    # the best version's deploy leaves the best version champion.
    for version, deploy in zip(versions, deploys, strict=True):
        assert versions[deploy["champion_version"]] >= versions[version], deploys
    assert deploys[list(versions).index(best)]["champion_version"] == best, deploys
    assert any(d["promoted"] for d in deploys), deploys

"""The ML lifecycle pipeline on the real embedded stack: data to a champion, and its failures."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path

import mlflow
import nbformat
import pytest
import yaml

from kit.bundle.repo import repo_path
from kit.client import ParamsRejected, lineage_reads
from kit.codegen import export
from kit.lineage.chain import build, parse_ref
from kit.lineage.sources import live_sources
from kit.notebook import results_in
from tests.conftest import REPO

MODEL = "breast_cancer_classifier"


def _export(stack, client, spec_path: Path, tmp_path: Path) -> str:
    result = export(
        spec_path,
        project_dir=REPO,
        dags_dir=stack.settings.dags_dir,
        pipelines_dir=tmp_path / "pipelines",
    )
    client.make_visible(result.dag_id, result.dag_path, timeout=180)
    return result.dag_id


@pytest.fixture(scope="module")
def lifecycle(stack, client, tmp_path_factory):
    """One successful lifecycle run (and the batch-inference DAG waiting on its Asset)."""
    tmp = tmp_path_factory.mktemp("lifecycle")
    # The environment, not mlflow.set_tracking_uri(): that global would outlive this module.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", stack.settings.mlflow_url)
        _export(stack, client, REPO / "pipelines" / "batch_inference.yaml", tmp)
        client.set_paused("batch_inference", False)
        dag_id = _export(stack, client, REPO / "pipelines" / "ml_lifecycle.yaml", tmp)
        run = client.run(dag_id, timeout=1500, progress=False)
        yield {"run": run, "tmp": tmp}


def test_the_lifecycle_reaches_a_champion_model(lifecycle, client) -> None:
    run = lifecycle["run"]
    assert run.state == "success", [(t.label, t.state) for t in run.tasks]
    labels = sorted(t.label for t in run.tasks)
    assert labels == sorted(
        ["ingest", "validate_data", "features", "evaluate", "register", "deploy"]
        + ["compare_champion", "approve_champion"]
        + [f"train[{i}]" for i in range(4)]
    )
    # require_approval is off by default: nobody was asked, deploy ran unattended.
    states = {t.label: t.state for t in run.tasks}
    assert states["approve_champion"] == "skipped" and states["deploy"] == "success"
    register = client.xcom("ml_lifecycle", run.run_id, "register")
    deploy = client.xcom("ml_lifecycle", run.run_id, "deploy")
    best = client.xcom("ml_lifecycle", run.run_id, "evaluate")
    assert deploy["promoted"] and deploy["champion_version"] == register["version"]
    assert deploy["smoke_test"]["rows"] == 5
    registry = mlflow.MlflowClient()
    champion = registry.get_model_version_by_alias(MODEL, "champion")
    assert int(champion.version) == register["version"] and champion.run_id == best["run_id"]
    assert best["metric"] == "roc_auc" and best["metric_value"] > 0.95

    runs = mlflow.search_runs(
        experiment_names=["ml_lifecycle"],
        filter_string=f"tags.`kit.run_id` = '{run.run_id}' and tags.`kit.task_id` = 'train'",
        output_format="list",
    )
    assert sorted(r.data.tags["kit.map_index"] for r in runs) == ["0", "1", "2", "3"]
    for r in runs:
        assert r.info.status == "FINISHED" and "roc_auc" in r.data.metrics
        assert [a.path for a in registry.list_artifacts(r.info.run_id, "notebook")]
    outputs = REPO / "artifacts" / "ml_lifecycle" / run.run_id
    for name in ["ingest.try1", "features.try1", *[f"train[{i}].try1" for i in range(4)]]:
        assert (outputs / f"{name}.ipynb").exists(), name
        assert (outputs / f"{name}.html").exists(), name


def _kit(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kit.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )


def test_kit_lineage_names_the_code_that_made_the_champion(lifecycle, stack, client) -> None:
    """model version -> run -> try -> DAG run -> DAG version -> commit -> notebook, parameters."""
    run = lifecycle["run"]
    best = client.xcom("ml_lifecycle", run.run_id, "evaluate")
    champion = mlflow.MlflowClient().get_model_version_by_alias(MODEL, "champion")
    # The version carries its run's lineage and the task that registered it.
    assert champion.tags["kit.registered_by.task_id"] == "register"
    assert champion.tags["kit.registered_by.run_id"] == run.run_id
    digest = hashlib.sha256((REPO / "notebooks/pipeline/train.ipynb").read_bytes()).hexdigest()
    assert champion.tags["kit.notebook.sha256"] == digest
    bundle_version = lineage_reads.dag_run(client, "ml_lifecycle", run.run_id)["bundle_version"]
    state = ["--state-dir", str(stack.settings.state_dir)]

    # The command as a user runs it (its output is shown when the test fails)...
    text = _kit("lineage", f"{MODEL}@champion", *state)
    print(text.stdout, text.stderr)
    assert "notebooks/pipeline/train.ipynb\n" in text.stdout and digest in text.stdout
    # ...and the same chain in this process, link by link (no second command start: ~15 s).
    repo = repo_path(stack.settings.state_dir)  # the stack's bundle: every deploy a commit
    chain = build(
        parse_ref(f"{MODEL}@champion"),
        live_sources(client, stack.settings.mlflow_url, bundle_repo=repo),
    )
    links = {link.kind: link.as_dict() for link in chain.links}
    assert list(links) == [
        "model version",
        "MLflow run",
        "task try",
        "DAG run",
        "DAG version",
        "commit",
        "notebook",
        "parameters",
    ]
    assert links["model version"]["label"] == f"{MODEL} v{champion.version}"
    assert links["MLflow run"]["label"].endswith(f"({best['run_id']})")
    assert links["task try"]["label"].startswith("ml_lifecycle.train[")
    assert links["DAG run"]["label"] == f"ml_lifecycle {run.run_id}"
    assert links["DAG run"]["facts"]["bundle version"] == bundle_version
    assert links["notebook"]["facts"]["sha256"] == digest
    assert json.loads(links["parameters"]["facts"]["json"])["experiment"] == "ml_lifecycle"
    before_commit = [k for k in list(links)[:5] if links[k]["problem"]] + (
        ["notebook"] if links["notebook"]["problem"] else []
    )
    assert before_commit == [], [links[k]["problem"] for k in before_commit]
    # Every stack serves the kit's versioned git bundle (kit.bundle): the commit is known.
    assert bundle_version, "the run recorded no bundle version"
    assert links["commit"]["label"] == bundle_version and links["commit"]["problem"] is None
    # Read from the repository: the deploy's commit, and the notebook as committed there.
    assert "kit deploy ml_lifecycle" in json.dumps(links["commit"])
    assert bundle_version in text.stdout
    assert chain.complete and text.returncode == 0


def test_the_lifecycles_notebook_tasks_log_no_error(lifecycle, client) -> None:
    """Training with MLflow and scikit-learn, cell output at INFO, not one ERROR line."""
    run = lifecycle["run"]
    for task in run.tasks:
        if task.task_id not in ("ingest", "features", "train"):
            continue
        log = client.task_log("ml_lifecycle", run.run_id, task.task_id, map_index=task.map_index)
        errors = [line for line in log.splitlines() if "[error]" in line]
        assert errors == [], (task.label, errors)
        assert "[info] Executing Cell" in log, task.label


def test_the_champion_asset_schedules_batch_inference(lifecycle, client) -> None:
    deadline = time.monotonic() + 300
    latest = None
    while time.monotonic() < deadline:
        latest = client.latest_run("batch_inference")
        if latest is not None:
            break
        time.sleep(2)
    assert latest is not None, "the Asset update did not trigger batch_inference"
    done = client.wait("batch_inference", latest.run_id, timeout=600, progress=False)
    assert done.state == "success"
    scored = client.xcom("batch_inference", done.run_id, "score")
    deploy = client.xcom("ml_lifecycle", lifecycle["run"].run_id, "deploy")
    assert scored["rows"] == 100 and scored["model_version"] == deploy["champion_version"]
    assert Path(scored["path"]).exists()


def test_a_worse_grid_does_not_move_the_champion(lifecycle, stack, client) -> None:
    spec = yaml.safe_load((REPO / "pipelines" / "ml_lifecycle.yaml").read_text())
    spec["dag_id"] = "ml_lifecycle_stumps"
    train = next(t for t in spec["tasks"] if t["id"] == "train")
    train["fan_out"] = {"grid": {"n_estimators": [1], "max_depth": [1]}}
    path = lifecycle["tmp"] / "ml_lifecycle_stumps.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    before = mlflow.MlflowClient().get_model_version_by_alias(MODEL, "champion").version
    dag_id = _export(stack, client, path, lifecycle["tmp"])
    run = client.run(dag_id, timeout=1200, progress=False)
    assert run.state == "success"
    deploy = client.xcom(dag_id, run.run_id, "deploy")
    assert not deploy["promoted"] and "does not beat champion" in deploy["reason"]
    assert deploy["candidate_version"] > int(before)
    assert mlflow.MlflowClient().get_model_version_by_alias(MODEL, "champion").version == before


def test_bad_data_stops_the_pipeline_at_validation(lifecycle, client) -> None:
    run = client.trigger("ml_lifecycle", {"corrupt_fraction": 0.05})
    run = client.wait("ml_lifecycle", run.run_id, timeout=900, progress=False)
    states = {t.task_id: t.state for t in run.tasks}
    assert run.state == "failed"
    assert states["ingest"] == "success" and states["validate_data"] == "failed"
    assert states["features"] == "upstream_failed" and states.get("deploy") != "success"
    log = client.task_log("ml_lifecycle", run.run_id, "validate_data")
    assert "data validation failed" in log and "outside [0, 1]" in log


def test_a_conf_of_the_wrong_type_is_refused_before_any_task(lifecycle, client) -> None:
    before = client.latest_run("ml_lifecycle").run_id
    with pytest.raises(ParamsRejected, match="test_size"):
        client.trigger("ml_lifecycle", {"test_size": "big"})
    with pytest.raises(ParamsRejected):
        client.trigger("ml_lifecycle", {"test_size": 0.9})  # above its maximum
    assert client.latest_run("ml_lifecycle").run_id == before


def test_a_failing_notebook_keeps_its_output_and_succeeds_on_retry(stack, client, tmp_path) -> None:
    flag = tmp_path / "flag"
    spec = {
        "dag_id": "flaky_notebook",
        "tasks": [
            {
                "id": "flaky",
                "kind": "notebook",
                "retries": 1,
                "retry_delay": "PT3S",
                "settings": {
                    "notebook": "tests/lifecycle/notebooks/flaky.ipynb",
                    "parameters": {"flag_path": str(flag)},
                },
            }
        ],
    }
    path = tmp_path / "flaky_notebook.yaml"
    path.write_text(yaml.safe_dump(spec))
    dag_id = _export(stack, client, path, tmp_path)
    run = client.trigger(dag_id)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        (task,) = client.task_runs(dag_id, run.run_id)
        if task.state in ("up_for_retry", "failed") or task.try_number >= 2:
            break
        time.sleep(1)
    flag.write_text("here")  # the cause is gone before the retry
    run = client.wait(dag_id, run.run_id, timeout=600, progress=False)
    assert run.state == "success"
    (task,) = run.tasks
    assert task.try_number == 2
    outputs = REPO / "artifacts" / dag_id / run.run_id
    first, second = (nbformat.read(outputs / f"flaky.try{n}.ipynb", as_version=4) for n in (1, 2))
    errors = [o for c in first.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert [(e.ename, e.evalue) for e in errors] == [("RuntimeError", f"flag missing: {flag}")]
    assert not [o for c in second.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert results_in(second) == {"found": str(flag)}
    log = client.task_log(dag_id, run.run_id, "flaky", try_number=1)
    assert "raised RuntimeError: flag missing" in log and "Traceback" in log


def _until_waiting(client, dag_id: str, run_ids: list[str], task_id: str, timeout: float) -> None:
    """Poll until ``task_id`` of every run waits for a person (fails fast if a run ends)."""
    deadline = time.monotonic() + timeout
    while True:
        runs = [client.get_run(dag_id, run_id) for run_id in run_ids]
        states = [{t.task_id: t.state for t in run.tasks}.get(task_id) for run in runs]
        if all(state == "awaiting_input" for state in states):
            return
        ended = [run for run in runs if run.finished]
        assert not ended, [(t.label, t.state) for run in ended for t in run.tasks]
        assert time.monotonic() < deadline, states
        time.sleep(1.0)


def test_a_person_approves_or_rejects_the_new_champion(stack, client, tmp_path, capsys) -> None:
    """require_approval: the run waits at approve_champion; Reject skips deploy and the alias
    stays where it was; cleared and asked again, Approve (from a terminal: `kit approve`)
    deploys. One lifecycle run answers both ways (only approve_champion and deploy run twice).
    A model of its own, so the other tests' champion stays."""
    from kit.cli import main as kit_main
    from kit.client import approvals

    model = f"approval_{int(time.time())}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", stack.settings.mlflow_url)
        dag_id = _export(stack, client, REPO / "pipelines" / "ml_lifecycle.yaml", tmp_path)
        started = time.monotonic()
        run_id = client.trigger(dag_id, {"require_approval": True, "model_name": model}).run_id
        _until_waiting(client, dag_id, [run_id], "approve_champion", timeout=900)
        waited = time.monotonic() - started

        (question,) = approvals.waiting(client, dag_id, run_id)
        version = client.xcom(dag_id, run_id, "register")["version"]
        assert question.subject == f"Ship {model} version {version} as champion?"
        assert "| **roc_auc** |" in question.body and "champion (none yet)" in question.body
        assert f"output-notebooks/view?dag_id={dag_id}&run_id=" in question.body
        assert question.options == ("Approve", "Reject") and question.defaults == ("Reject",)
        deploy_state = {t.task_id: t.state for t in client.get_run(dag_id, run_id).tasks}["deploy"]
        assert deploy_state in (None, "none", "scheduled"), deploy_state  # not run while it waits

        rejected = approvals.reject(client, dag_id, run_id, "approve_champion")
        assert rejected.chosen == ("Reject",) and rejected.responded_by == client.username
        with pytest.raises(approvals.AlreadyAnswered, match="Reject"):
            approvals.approve(client, dag_id, run_id, "approve_champion")
        run = client.wait(dag_id, run_id, timeout=300, progress=False)
        states = {t.task_id: t.state for t in run.tasks}
        assert (states["approve_champion"], states["deploy"]) == ("success", "skipped")
        registry = mlflow.MlflowClient()
        assert "champion" not in registry.get_registered_model(model).aliases  # did not move

        # Asked again (a retry by hand): this time the person approves, from a terminal.
        client.clear_task(dag_id, run_id, ["approve_champion"], downstream=True)
        _until_waiting(client, dag_id, [run_id], "approve_champion", timeout=300)
        state_dir = ["--state-dir", str(stack.settings.state_dir)]
        capsys.readouterr()
        assert kit_main(["approvals", dag_id, *state_dir]) == 0
        listed = capsys.readouterr().out
        assert f"{dag_id}/{run_id}/approve_champion  [awaiting_input]  Ship {model}" in listed
        assert "default on timeout: Reject" in listed
        assert kit_main(["approve", dag_id, "--run", "nope", *state_dir]) == 4
        assert kit_main(["approve", dag_id, *state_dir]) == 0
        said = capsys.readouterr().out
        assert f"approve_champion: answered Approve as {client.username}" in said
        run = client.wait(dag_id, run_id, timeout=300, progress=False)
        assert run.state == "success", [(t.label, t.state) for t in run.tasks]
        assert client.xcom(dag_id, run_id, "deploy")["promoted"] is True
        champion = registry.get_model_version_by_alias(model, "champion")
        assert int(champion.version) == version
        print(f"waiting after {waited:.1f} s; all done after "
              f"{time.monotonic() - started:.1f} s")  # fmt: skip

"""The seed's Compose stack, really run: podman with docker-compose (scripts/container-engine.sh),
images built from Debian and PyPI where no registry is reachable (scripts/build-images.sh).

On the run's one Compose stack (tests/compose/conftest.py: every profile, in a copy of the
project): every CLI command through ``kit.cli.main()``, the stack panel and the designer's deploy
& run, the lifecycle to a champion with papermill inside the containers, a team's logins,
concurrent promotions, and the secret scan of every container. The profiles' own tests are in
test_compose_profiles.py; what stops and restarts the stack is in test_compose_restarts.py, last.
"""

from __future__ import annotations

import json
from urllib.parse import quote

import httpx
import mlflow
import pytest

from kit.cli import main
from kit.client import AirflowClient, Forbidden, connect
from kit.client.mlflow_admin import MlflowAdmin
from kit.client.roles import ensure_team_roles
from kit.client.users import Users, generate_password
from kit.stack.compose import ComposeStack
from kit.widgets import Designer, StackPanel
from tests.compose.live import log_in_to_compose_mlflow
from tests.mlops.race import check, race
from tests.widgets.test_designer import build_pipeline

pytestmark = pytest.mark.compose


def test_every_cli_command_works_on_the_compose_stack(
    compose_stack: ComposeStack, capsys: pytest.CaptureFixture
) -> None:
    assert main(["status"]) == 0
    status = capsys.readouterr().out
    assert "compose stack: running" in status and "airflow-scheduler" in status
    assert main(["credentials"]) == 0
    password = json.loads(compose_stack.endpoints().password_file.read_text())["admin"]
    assert password in capsys.readouterr().out
    assert main(["logs", "airflow-scheduler"]) == 0
    assert capsys.readouterr().out.strip()
    assert main(["export", "pipelines/example_pipeline.yaml"]) == 0
    assert main(["run", "example_pipeline", "--wait", "--timeout", "600"]) == 0
    out = capsys.readouterr().out
    assert "Run state: success" in out and "logs/dag_id=example_pipeline" in out


def test_the_widgets_work_on_the_compose_stack(compose_stack: ComposeStack) -> None:
    """The stack panel finds the Compose stack by itself (the saved state); the designer deploys
    a pipeline with a notebook task and watches it succeed in the containers."""
    panel = StackPanel(background=False)
    assert "healthy" in panel.summary.value, panel.summary.value
    assert compose_stack.endpoints().airflow_url in panel.links.value
    project = compose_stack.project_dir
    d = Designer(project_dir=project, dags_dir=project / "dags", client=connect(), background=False)
    build_pipeline(d)
    d.pipeline.dag_id.value = "widget_on_compose"
    d.toolbar.deploy_button.click()
    assert d.monitor is not None, d.toolbar.status.value
    run = d.monitor.wait(timeout=600)
    assert run.state == "success", [(t.task_id, t.state) for t in run.tasks]
    d.monitor.task_pick.value = "square"
    assert "sq 16.0" in d.monitor.notebook_view.value  # n's default 4, squared in a container


def test_the_lifecycle_reaches_a_champion_in_the_containers(
    compose_stack: ComposeStack, lifecycle_demo: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = lifecycle_demo
    assert "Champion:" in out and "Smoke test: models:/breast_cancer_classifier@champion" in out
    client = connect()
    run = client.latest_run("ml_lifecycle")
    assert run is not None and run.state == "success"
    folder = compose_stack.project_dir / "artifacts" / "ml_lifecycle" / run.run_id
    for name in ("ingest.try1", "features.try1", "train[0].try1"):
        assert (folder / f"{name}.ipynb").exists() and (folder / f"{name}.html").exists(), name
    mlflow.set_tracking_uri(compose_stack.endpoints().mlflow_url)
    log_in_to_compose_mlflow(compose_stack, monkeypatch)
    champion = mlflow.MlflowClient().get_model_version_by_alias(
        "breast_cancer_classifier", "champion"
    )
    assert champion.status == "READY"
    # MLflow has logins in the containers too: an anonymous write is refused.
    url = f"{compose_stack.endpoints().mlflow_url}/api/2.0/mlflow/experiments/create"
    assert httpx.post(url, json={"name": "anonymous"}, timeout=30).status_code == 401


def test_a_team_shares_the_compose_stack(
    compose_stack: ComposeStack, lifecycle_demo: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """#24 on Compose: a Viewer reads the lifecycle's DAG, runs, logs and output notebook and may
    not trigger, pause or clear; another team's role sees none of it; an Op triggers; nobody
    enters anonymously; in MLflow a read-only user reads the champion and may not move it."""
    admin = connect()
    run = admin.latest_run("ml_lifecycle")
    assert run is not None and run.state == "success"
    people = Users(admin)
    assert ensure_team_roles(admin, ["compose_other_team"]).created == ("compose_other_team",)
    roles = {"c-viewer": "Viewer", "c-op": "Op", "c-other": "compose_other_team"}
    passwords = {name: generate_password() for name in roles}
    for name, role in roles.items():
        people.add(name, role, passwords[name])
    viewer, op, other = (connect(user=n, password=passwords[n]) for n in roles)
    url = compose_stack.endpoints().airflow_url

    def notebook(client: AirflowClient) -> httpx.Response:
        query = {"dag_id": "ml_lifecycle", "run_id": run.run_id, "task_id": "ingest"}
        bearer = {"Authorization": f"Bearer {client.token()}"}
        return httpx.get(
            f"{url}/output-notebooks/notebook",
            params={**query, "try_number": 1},
            headers=bearer,
            timeout=60,
        )

    try:
        assert "ml_lifecycle" in {d.dag_id for d in viewer.list_dags()}
        assert run.run_id in [r.run_id for r in viewer.runs("ml_lifecycle")]
        assert viewer.task_log("ml_lifecycle", run.run_id, "ingest").strip()
        page, admins = notebook(viewer), notebook(admin)
        assert admins.status_code == 200 and "<html" in admins.text, admins.text[:300]
        assert page.status_code == 200 and page.text == admins.text, page.text[:300]
        for refused in (
            lambda: viewer.trigger("ml_lifecycle", unpause=False),
            lambda: viewer.set_paused("ml_lifecycle", True),
            lambda: viewer.clear_task("ml_lifecycle", run.run_id, ["ingest"]),
            lambda: other.runs("ml_lifecycle"),
            lambda: other.task_log("ml_lifecycle", run.run_id, "ingest", try_number=1),
        ):
            with pytest.raises(Forbidden):
                refused()
        try:
            listed = {d.dag_id for d in other.list_dags()}
        except Forbidden:  # a role that may read no DAG at all may not list them either
            listed = set()
        assert "ml_lifecycle" not in listed
        assert notebook(other).status_code == 403
        # An Op triggers (the DAG paused first, so the run waits and is then deleted).
        admin.set_paused("ml_lifecycle", True)
        started = op.trigger("ml_lifecycle", unpause=False)
        assert started.run_id in [r.run_id for r in admin.runs("ml_lifecycle")]
        bearer = {"Authorization": f"Bearer {admin.token()}"}
        gone = httpx.delete(
            f"{url}/api/v2/dags/ml_lifecycle/dagRuns/{quote(started.run_id)}",
            headers=bearer,
            timeout=60,
        )
        assert gone.status_code == 204, gone.text
        admin.set_paused("ml_lifecycle", False)
        assert httpx.get(f"{url}/api/v2/dags", timeout=60).status_code == 401
        # The seed's basic auth for scripts, through the kit's plugin in the container.
        viewer_basic = ("c-viewer", passwords["c-viewer"])
        assert httpx.get(f"{url}/api/v2/dags", auth=viewer_basic, timeout=60).status_code == 200
    finally:
        for name in roles:
            people.remove(name)

    # MLflow: READ on the registered model reads the champion, EDIT is needed to move it.
    log_in_to_compose_mlflow(compose_stack, monkeypatch)
    mlflow_admin = MlflowAdmin()
    reader = ("c-reader", generate_password())
    mlflow_admin.create_user(*reader)
    try:
        mlflow_admin.grant(reader[0], "registered_model", "breast_cancer_classifier", "READ")
        api = f"{compose_stack.endpoints().mlflow_url}/api/2.0/mlflow/registered-models/alias"
        alias = {"name": "breast_cancer_classifier", "alias": "champion"}
        read = httpx.get(api, params=alias, auth=reader, timeout=30)
        assert read.status_code == 200, read.text
        version = read.json()["model_version"]["version"]
        moved = httpx.post(api, json={**alias, "version": version}, auth=reader, timeout=30)
        assert moved.status_code == 403, moved.text
        assert httpx.post(api, json={**alias, "version": version}, timeout=30).status_code == 401
    finally:
        mlflow_admin.delete_user(reader[0])


def test_concurrent_promotions_end_on_the_best_in_the_containers(
    compose_stack: ComposeStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ten promotions at once, three rounds, against the containers' MLflow (on PostgreSQL) over
    REST, as notebooks make them: the exact best version is champion after each round."""
    uri = compose_stack.endpoints().mlflow_url
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    log_in_to_compose_mlflow(compose_stack, monkeypatch)
    check(race(uri, "race_compose", rounds=3, promotions=10, seed=3))


def test_no_container_holds_a_secret_it_does_not_need(compose_stack: ComposeStack) -> None:
    """The secret scan on Compose: each container's environment and command (the engine's
    inspect, what every process in it starts from) against kit.stack.secret_map."""
    from kit.stack import engine_api, secret_map
    from kit.stack.compose_env import read_env_file

    env_file = read_env_file(compose_stack.project_dir / ".env")
    values = {sid: env_file[key] for sid, key in secret_map.COMPOSE_ENV_KEYS.items()}
    host = compose_stack.docker_host()
    label = f"com.docker.compose.project={compose_stack.project_dir.name.lower()}"
    listed = engine_api.get(
        host, "/containers/json?all=1&filters=" + quote(json.dumps({"label": [label]})), timeout=30
    )
    inspected = engine_api.inspect_containers(host, [c["Id"] for c in listed], timeout=30)
    found, services = [], set()
    for info in inspected:
        service = info["Config"]["Labels"]["com.docker.compose.service"]
        services.add(service)
        env = [e.partition("=") for e in info["Config"]["Env"]]
        places = [(f"env {key}", value) for key, _, value in env]
        argv = [info.get("Path") or "", *(info.get("Args") or [])]
        places += [(f"argv[{i}]", arg) for i, arg in enumerate(argv)]
        allowed = secret_map.holder("compose", service).secrets
        found += secret_map.findings(service, places, values, allowed)
    assert not found, "secrets where they are not needed:\n" + "\n".join(map(str, found))
    wanted = {"postgres", "airflow-init", "airflow-scheduler", "airflow-apiserver", "mlflow"}
    assert wanted <= services

"""The seed's other services on the Compose stack, for real: the `celery` profile with two worker
containers, `remote-logs` to an S3 server, `email` to a mail catcher. The run's one Compose stack
has all three profiles (tests/compose/conftest.py), so the lifecycle `kit demo` ran there is the
one these tests read.

The S3 server is moto in a container (containers/s3.Containerfile), added through the override
file a user would use for a local MinIO (docker-compose.airflow.override.yml): on this host,
containers reach no address outside their network, so the server runs on it. The mail catcher is
the `email` profile's own service (a stand-in for mailpit that answers mailpit's API).
"""

from __future__ import annotations

import json
import os
import textwrap
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

import boto3
import pytest

from kit.cli import main
from kit.client import connect
from kit.client.models import DagRun
from kit.stack.compose import ComposeStack
from tests.compose.live import BUCKET, PREFIX, containers

pytestmark = pytest.mark.compose

ADDRESS = "ops@example.com"
FAIL_MARKER = "kit-compose-boom-marker"


def s3_client():
    """boto3 on the S3 server's published port."""
    return boto3.client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{os.environ['KIT_S3_PORT']}",
        aws_access_key_id="kit-test",
        aws_secret_access_key="kit-test",
        region_name="us-east-1",
    )


@pytest.fixture(scope="module")
def lifecycle_run(compose_stack: ComposeStack, lifecycle_demo: str) -> DagRun:
    """The lifecycle's run of `kit demo` (on the celery profile's workers)."""
    run = connect().latest_run("ml_lifecycle")
    assert run is not None and run.state == "success"
    return run


def test_the_celery_profile_runs_the_lifecycle_on_two_worker_containers(
    compose_stack: ComposeStack, lifecycle_run: DagRun
) -> None:
    status = {c.name: c for c in compose_stack.status().components}
    assert status["airflow-worker-1"].healthy and status["airflow-worker-2"].healthy
    workers = [c for c in containers(compose_stack.project_dir) if "airflow-worker" in c]
    assert len(workers) == 2
    hosts = {t.hostname for t in lifecycle_run.tasks}
    # Each task ran in one of the two worker containers (their hostnames are container ids),
    # and the work was shared between them.
    assert None not in hosts and len(hosts) == 2, hosts


def _log_key(run: DagRun, task_id: str, try_number: int = 1) -> str:
    return (
        f"{PREFIX}/dag_id={run.dag_id}/run_id={run.run_id}/task_id={task_id}/"
        f"attempt={try_number}.log"
    )


def test_task_logs_go_to_s3_and_airflow_reads_them_back(
    compose_stack: ComposeStack, lifecycle_run: DagRun
) -> None:
    s3 = s3_client()
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=f"{PREFIX}/dag_id=ml_lifecycle/")
    keys = {item["Key"] for item in listed.get("Contents", [])}
    assert _log_key(lifecycle_run, "ingest") in keys, sorted(keys)[:10]
    remote = s3.get_object(Bucket=BUCKET, Key=_log_key(lifecycle_run, "ingest"))["Body"].read()
    assert b"notebook task" in remote
    # The local copy gone, Airflow's API still serves the log: from S3.
    local = (
        compose_stack.project_dir
        / "logs"
        / _log_key(lifecycle_run, "ingest").removeprefix(f"{PREFIX}/")
    )
    if local.exists():
        local.unlink()
    log = connect().task_log("ml_lifecycle", lifecycle_run.run_id, "ingest")
    assert "notebook task" in log


def _mail(port: str, timeout: float = 180) -> dict:
    """The first message to ADDRESS the mail catcher received (mailpit's API)."""
    base = f"http://127.0.0.1:{port}/api/v1"
    deadline = time.monotonic() + timeout
    while True:
        with urllib.request.urlopen(f"{base}/messages", timeout=10) as answer:
            listed = json.load(answer)["messages"]
        for message in listed:
            if any(to["Address"] == ADDRESS for to in message["To"]):
                with urllib.request.urlopen(f"{base}/message/{message['ID']}", timeout=10) as a:
                    return json.load(a)
        assert time.monotonic() < deadline, f"no e-mail to {ADDRESS} within {timeout} s: {listed}"
        time.sleep(2)


def test_a_failing_task_sends_its_failure_email_with_the_log_link(
    compose_stack: ComposeStack, capsys: pytest.CaptureFixture
) -> None:
    project = compose_stack.project_dir
    spec = project / "pipelines" / "kit_fails.yaml"
    spec.write_text(
        textwrap.dedent(
            f"""\
            dag_id: kit_fails
            schedule: null
            start_date: 2024-01-01
            retries: 0
            failure_email: [{ADDRESS}]
            tasks:
              - id: boom
                kind: bash
                settings:
                  command: echo "{FAIL_MARKER}" && exit 3
            """
        )
    )
    assert main(["export", str(spec)]) == 0
    assert main(["run", "kit_fails", "--wait", "--timeout", "600"]) != 0
    assert "Run state: failed" in capsys.readouterr().out
    run = connect().latest_run("kit_fails")
    assert run is not None

    message = _mail(compose_stack.setting("KIT_MAILPIT_PORT", "8025"))
    assert "boom" in message["Subject"], message["Subject"]
    body = message["HTML"] or message["Text"]
    airflow_url = compose_stack.endpoints().airflow_url
    # The log link opens this task's try in the Airflow people reach (not the container's name).
    link = f"{airflow_url}/dags/kit_fails/runs/{quote(run.run_id)}/tasks/boom?try_number=1"
    assert link in body, body[:2000]
    # And the log it points at says why (read back from S3 like every other).
    log = connect().task_log("kit_fails", run.run_id, "boom")
    assert FAIL_MARKER in log


def test_status_lists_the_profiles_services(compose_stack: ComposeStack) -> None:
    names = {c.name for c in compose_stack.status().components}
    assert {"redis", "mailpit", "s3", "airflow-worker-1", "airflow-worker-2"} <= names
    assert Path(compose_stack.state_dir / "stack.json").exists()

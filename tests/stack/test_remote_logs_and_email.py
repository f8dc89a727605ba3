"""Live: the seed's S3 remote task logs and failure e-mail on a native stack of this module's own.

A real S3 server (moto) and a real SMTP server (aiosmtpd) run in this process; the stack gets the
same KIT_* variables a user gives the Compose profiles `remote-logs` and `email`. A pipeline spec
with `failure_email` is exported through the kit's codegen and run: one task succeeds, one prints a
marker and fails. The e-mail arrives with a link to the failed task's log, both logs are in the
bucket, and Airflow's API reads a log back from S3 once its local copy is gone.
"""

from __future__ import annotations

import email
import email.policy
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from email.message import EmailMessage
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import boto3
import pytest
import yaml
from aiosmtpd.controller import Controller
from moto.server import ThreadedMotoServer

from kit.client import connect
from kit.client.models import DagRun
from kit.codegen import export
from kit.stack import EmbeddedStack, StackError
from kit.stack.ports import free_ports
from kit.stack.remote_services import RemoteServices
from kit.summary import task_log_path
from tests.conftest import REPO, running_stack, stack_settings

BUCKET = "kit-logs"
PREFIX = "airflow"  # the remote folder is s3://kit-logs/airflow/
ADDRESS = "ops@kit.test"
SENDER = "airflow@kit.test"
DAG_ID = "kit_remote_logs_and_email"
OK_MARKER = "kit-marker: this task went fine"
FAIL_MARKER = "kit-marker: this task is about to fail"
# Any keys do for moto; given as a user would, to check they reach the connection.
KEYS = {"aws_access_key_id": "kit-test-key", "aws_secret_access_key": "kit-test-secret"}

T = TypeVar("T")


def eventually(what: str, probe: Callable[[], T | None], timeout: float = 90.0) -> T:
    """Poll ``probe`` until it returns something (uploads and e-mail come after the run ends)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (found := probe()) is not None:
            return found
        time.sleep(0.5)
    raise AssertionError(f"{what}: nothing after {timeout:.0f} s")


class Inbox:
    """An aiosmtpd handler keeping every message it is given."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    (port,) = free_ports(1)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    try:
        boto3.client("s3", endpoint_url=url, region_name="us-east-1", **KEYS).create_bucket(
            Bucket=BUCKET
        )
        yield url
    finally:
        server.stop()


@pytest.fixture(scope="module")
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    (port,) = free_ports(1)
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def bucket(s3_endpoint: str) -> Any:
    return boto3.resource("s3", endpoint_url=s3_endpoint, region_name="us-east-1", **KEYS).Bucket(
        BUCKET
    )


@pytest.fixture(scope="module")
def remote_stack(
    tmp_path_factory: pytest.TempPathFactory, s3_endpoint: str, smtp_server: tuple[Inbox, int]
) -> Iterator[EmbeddedStack]:
    _, smtp_port = smtp_server
    # Exactly what a user exports for the Compose profiles: the kit's own parser reads them.
    services = RemoteServices.from_environ(
        {
            "KIT_REMOTE_LOGGING": "True",
            "KIT_REMOTE_LOG_FOLDER": f"s3://{BUCKET}/{PREFIX}/",
            "KIT_S3_ENDPOINT_URL": s3_endpoint,
            "KIT_S3_ACCESS_KEY_ID": KEYS["aws_access_key_id"],
            "KIT_S3_SECRET_ACCESS_KEY": KEYS["aws_secret_access_key"],
            "KIT_S3_REGION": "us-east-1",
            # A plain local server: no SSL, no STARTTLS (the hook's defaults are both on).
            "KIT_SMTP_CONN": (
                f"smtp://127.0.0.1:{smtp_port}"
                f"?from_email={SENDER}&disable_ssl=true&disable_tls=true&timeout=10"
            ),
        }
    )
    settings = stack_settings(
        tmp_path_factory.mktemp("remote"), remote_services=services, kernel_pool_size=0
    )
    with running_stack(settings) as stack:
        yield stack


@pytest.fixture(scope="module")
def failed_run(remote_stack: EmbeddedStack, tmp_path_factory: pytest.TempPathFactory) -> DagRun:
    """The pipeline exported through the kit (spec → codegen → dags/) and run once."""
    folder = tmp_path_factory.mktemp("pipelines")
    spec = folder / f"{DAG_ID}.yaml"
    spec.write_text(
        yaml.safe_dump(
            {
                "dag_id": DAG_ID,
                "schedule": None,
                "start_date": "2024-01-01",
                "retries": 0,
                "failure_email": [ADDRESS],
                "tasks": [
                    {"id": "fine", "kind": "bash", "settings": {"command": f'echo "{OK_MARKER}"'}},
                    {
                        "id": "boom",
                        "kind": "bash",
                        "settings": {"command": f'echo "{FAIL_MARKER}" && exit 3'},
                    },
                ],
            },
            sort_keys=False,
        )
    )
    made = export(
        spec, project_dir=REPO, dags_dir=remote_stack.settings.dags_dir, pipelines_dir=folder
    )
    client = connect(remote_stack.settings.state_dir)
    client.make_visible(made.dag_id, made.dag_path, timeout=300)
    run = client.run(made.dag_id, timeout=300, progress=False)
    assert run.state == "failed", [(t.task_id, t.state) for t in run.tasks]
    assert {t.task_id: t.state for t in run.tasks} == {"fine": "success", "boom": "failed"}
    return run


def _task(run: DagRun, task_id: str) -> Any:
    return next(t for t in run.tasks if t.task_id == task_id)


def _relative_log_path(run: DagRun, task_id: str) -> str:
    """The try's log path under the log folder, local and remote alike (the kit's own rule)."""
    return task_log_path(Path("."), run, _task(run, task_id)).as_posix()


def _remote_log(bucket: Any, run: DagRun, task_id: str) -> str:
    key = f"{PREFIX}/{_relative_log_path(run, task_id)}"

    def fetch() -> str | None:
        # The supervisor uploads after it has reported the task's state: wait for the object.
        found = [o for o in bucket.objects.filter(Prefix=key) if o.key == key]
        return found[0].get()["Body"].read().decode() if found else None

    return eventually(f"s3://{BUCKET}/{key}", fetch)


def test_the_failure_email_names_the_task_and_links_its_log(
    remote_stack: EmbeddedStack, failed_run: DagRun, smtp_server: tuple[Inbox, int]
) -> None:
    inbox, _ = smtp_server
    recipients, message = eventually("the failure e-mail", lambda: next(iter(inbox.messages), None))
    assert recipients == [ADDRESS]
    assert message["To"] == ADDRESS and message["From"] == SENDER
    assert DAG_ID in message["Subject"] and "boom" in message["Subject"], message["Subject"]
    body = message.get_body(("html", "plain")).get_content()  # type: ignore[union-attr]
    boom = _task(failed_run, "boom")
    link = (
        f"{remote_stack.settings.airflow_url}/dags/{DAG_ID}/runs/{quote(failed_run.run_id)}"
        f"/tasks/boom?try_number={boom.try_number}"
    )
    assert link in body, body
    assert len(inbox.messages) == 1, "only the failed task mails"


def test_both_task_logs_reach_the_bucket(bucket: Any, failed_run: DagRun) -> None:
    assert FAIL_MARKER in _remote_log(bucket, failed_run, "boom")
    assert OK_MARKER in _remote_log(bucket, failed_run, "fine")


def test_the_api_reads_a_log_back_from_s3_without_its_local_copy(
    remote_stack: EmbeddedStack, bucket: Any, failed_run: DagRun
) -> None:
    _remote_log(bucket, failed_run, "boom")  # uploaded by now
    local = remote_stack.settings.logs_dir / "airflow" / _relative_log_path(failed_run, "boom")
    # Airflow empties the local copy once uploaded ([logging] delete_local_logs = False keeps the
    # empty file); removed, the log server has nothing, so the marker can only come from S3.
    assert local.exists() and FAIL_MARKER not in local.read_text()
    local.unlink()
    client = connect(remote_stack.settings.state_dir)
    text = client.task_log(DAG_ID, failed_run.run_id, "boom")
    assert FAIL_MARKER in text, text[-2000:]


def test_a_running_stack_refuses_other_settings_rather_than_ignore_them(
    remote_stack: EmbeddedStack,
) -> None:
    """`kit up` without the variables on a stack started with them: said, not silently ignored."""
    state = json.loads((remote_stack.settings.state_dir / "stack.json").read_text())
    assert state["remote_services"]["remote_log_folder"] == f"s3://{BUCKET}/{PREFIX}/"
    assert KEYS["aws_secret_access_key"] not in json.dumps(state)
    unset = EmbeddedStack(replace(remote_stack.settings, remote_services=RemoteServices()))
    with pytest.raises(StackError, match="kit down"):
        unset.up(timeout=60, progress=False)
    assert remote_stack.status().healthy

"""An Edge worker in a podman container on a network of its own runs a notebook task of a running
native stack; its log is read through the REST API; killed mid-task, the task is retried and
succeeds on another worker (a `kit worker join` process on this machine).

The container (the project image, tests/compose's build) reaches the stack only through
slirp4netns's host loopback (10.0.2.2 -> the host's 127.0.0.1, where the stack listens); it
gets a worker token and nothing else: no database, broker or signing secret. DAG code and the
notebook come from the stack's versioned bundle (`kit`), which the api-server serves read-only
(kit.airflow_plugin.git_http): the worker checks out the run's own commit, as the stack's own
executors do.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import nbformat
import pytest

from kit.client import connect
from kit.worker import keys
from tests.compose.live import REPO, built_images
from tests.conftest import running_stack, stack_settings

pytestmark = pytest.mark.compose

DAG_ID = "edge_demo"
MARKER = "edge-notebook-ran"
# The container's view of the host's loopback (slirp4netns allow_host_loopback).
HOST_FROM_CONTAINER = "10.0.2.2"

DAG = f'''
from datetime import timedelta

from airflow.sdk import dag, task


@dag(dag_id="{DAG_ID}", schedule=None, catchup=False, tags=["kit-test"])
def pipeline():
    @task(executor="EdgeExecutor", queue="remote", retries=1, retry_delay=timedelta(seconds=2))
    def notebook(**context):
        from kit.runtime.notebook import run_notebook

        # The first try sleeps long enough to be killed; the retry finishes at once.
        seconds = 600 if context["ti"].try_number == 1 else 0
        return run_notebook(
            notebook="notebooks/edge/sleepy.ipynb", parameters={{"seconds": seconds}},
            context=context,
        )

    notebook()


pipeline()
'''


def _notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("seconds = 0")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [
        params,
        nbformat.v4.new_code_cell(
            "import socket, time\n"
            f"print({MARKER!r}, socket.gethostname(), flush=True)\n"
            "time.sleep(seconds)\n"
            "from kit.notebook import publish\n"
            "publish('host', socket.gethostname())"
        ),
    ]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return nb


def _project(root: Path) -> Path:
    """A project (config, dags/, notebooks/): make_visible commits it to the stack's bundle."""
    project = root / "project"
    (project / "dags").mkdir(parents=True)
    (project / "config").mkdir()
    shutil.copy(REPO / "config" / "airflow.cfg", project / "config" / "airflow.cfg")
    (project / "notebooks" / "edge").mkdir(parents=True)
    (project / "dags" / f"{DAG_ID}.py").write_text(DAG)
    nbformat.write(_notebook(), project / "notebooks" / "edge" / "sleepy.ipynb")
    return project


def _wait(what: str, check, timeout: float, poll: float = 1.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(poll)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def _join_args(url: str, token_file: str, name: str) -> list[str]:
    return [
        "worker", "join", url, "--token-file", token_file, "--name", name, "--queue", "remote",
        "--concurrency", "1",
    ]  # fmt: skip


def _credentials_are_per_worker(stack, files: keys.WorkerFiles, local_token: str) -> None:
    """On the live Edge API: a worker's token cannot act as another worker, a token signed with
    Airflow's own jwt_secret (what stock edge workers send) is refused, and a revoked token is
    refused from its next call."""
    import httpx
    import jwt

    api = f"{stack.settings.airflow_url}/edge_worker/v1/jobs/fetch"
    body = {"queues": ["remote"], "free_concurrency": 1}

    def fetch(name: str, token: str) -> int:
        return httpx.post(f"{api}/{name}", json=body, headers={"Authorization": token}).status_code

    assert fetch("local-1", local_token) == 200
    assert fetch("edge-box", local_token) == 403
    now = int(time.time())
    shared = jwt.encode(
        {"aud": "api", "method": "jobs/fetch/local-1", "iat": now, "nbf": now, "exp": now + 30},
        stack.environment()["AIRFLOW__API_AUTH__JWT_SECRET"],
        algorithm="HS512",
    )
    assert fetch("local-1", shared) == 403
    keys.revoke(files, "local-1")
    assert fetch("local-1", local_token) == 403


def test_a_container_worker_runs_a_notebook_task_and_a_killed_try_is_retried_elsewhere(
    tmp_path,
) -> None:
    started = time.monotonic()
    images = built_images()
    assert images.failure is None, f"the images did not build: {images.failure}"
    image = images.variables["AIRFLOW_IMAGE_NAME"]
    project = _project(tmp_path)
    settings = stack_settings(
        tmp_path,
        project_dir=project,
        dags_dir=project / "dags",
        edge=True,
        kernel_pool_size=0,
        parallelism=4,
        extra_env={
            # A dead worker's try is failed (and retried) after 20 s without a heartbeat.
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "20",
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
        },
    )
    container = f"kit-edge-{os.getpid()}"
    local_worker: subprocess.Popen | None = None
    with running_stack(settings) as stack:
        try:
            files = keys.WorkerFiles(settings.state_dir)
            secrets_dir = tmp_path / "tokens"
            secrets_dir.mkdir(mode=0o755)
            token_file = secrets_dir / "edge-box.token"
            # Readable by the image's user (uid 50000); a real machine keeps it 0600 its own.
            token_file.write_text(keys.issue(files, "edge-box", 1) + "\n")
            token_file.chmod(0o644)
            url = f"http://{HOST_FROM_CONTAINER}:{settings.airflow_port}"
            run = [
                "podman", "run", "-d", "--rm", "--name", container, "--hostname", "edge-box",
                "--network", "slirp4netns:allow_host_loopback=true",
                "-v", f"{token_file}:/run/kit/token:ro",
                image, "/opt/venv/bin/kit", *_join_args(url, "/run/kit/token", "edge-box"),
            ]  # fmt: skip
            subprocess.run(run, check=True, capture_output=True, timeout=120)
            # The container has its own loopback: the stack's address there is not the stack.
            port = settings.airflow_port
            connect_here = f"import socket; socket.create_connection(('127.0.0.1', {port}), 3)"
            probe = subprocess.run(
                ["podman", "exec", container, "python", "-c", connect_here],
                capture_output=True, timeout=60,
            )  # fmt: skip
            assert probe.returncode != 0, "the container shares the host's network"

            client = connect(settings.state_dir)
            client.make_visible(DAG_ID, project / "dags" / f"{DAG_ID}.py", timeout=180)
            run_id = client.trigger(DAG_ID).run_id

            def first_try_running():
                tries = client.task_tries(DAG_ID, run_id, "notebook")
                started_1 = any(t.try_number == 1 and t.state == "running" for t in tries)
                log = client.task_log(DAG_ID, run_id, "notebook", try_number=1) if started_1 else ""
                return log if MARKER in log else None

            log = _wait("the notebook's marker in try 1's log", first_try_running, 300, poll=3)
            assert f"{MARKER} edge-box" in log  # ran in the container, read through the REST API
            (try1,) = client.task_tries(DAG_ID, run_id, "notebook")
            assert try1.hostname == "edge-box" and try1.state == "running"
            killed_at = time.monotonic()
            subprocess.run(["podman", "kill", container], check=True, capture_output=True)

            # Another worker joins with its own token (a process on this machine, its own home).
            local_token = tmp_path / "local-1.token"
            local_token.write_text(keys.issue(files, "local-1", 1) + "\n")
            env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW", "KIT_"))}
            local_log = (tmp_path / "local-1.log").open("w")
            local_worker = subprocess.Popen(
                [str(REPO / ".venv" / "bin" / "kit"),
                 *_join_args(settings.airflow_url, str(local_token), "local-1"),
                 "--home", str(tmp_path / "local-home")],
                env=env, stdout=local_log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
            finished = client.wait(DAG_ID, run_id, timeout=300, progress=False)
            recovered = time.monotonic() - killed_at
            tries = client.task_tries(DAG_ID, run_id, "notebook")
            assert [t.state for t in tries] == ["failed", "success"], tries
            assert tries[1].hostname == "local-1"
            assert finished.state == "success"
            log2 = client.task_log(DAG_ID, run_id, "notebook", try_number=2)
            assert MARKER in log2
            results = client.xcom(DAG_ID, run_id, "notebook")
            assert results["host"] != "edge-box"
            print(
                f"\nedge live test: {time.monotonic() - started:.0f} s in all; retried and done "
                f"{recovered:.0f} s after the kill"
            )
            _credentials_are_per_worker(stack, files, local_token.read_text().strip())
            # Nothing secret went to the container: only its token.
            inspect = subprocess.run(
                ["podman", "inspect", "--type", "container", container],
                capture_output=True,
                text=True,
            )
            assert stack.environment()["AIRFLOW__API_AUTH__JWT_SECRET"] not in inspect.stdout
        finally:
            subprocess.run(["podman", "rm", "-f", container], capture_output=True, timeout=60)
            if local_worker is not None:
                os.killpg(local_worker.pid, signal.SIGTERM)
                try:
                    local_worker.wait(20)
                except subprocess.TimeoutExpired:
                    os.killpg(local_worker.pid, signal.SIGKILL)
                    local_worker.wait()
    print(json.dumps({"seconds": round(time.monotonic() - started)}))

"""What stops and starts the run's one Compose stack, last of the Compose tests (the stack is
not the same afterwards): runs and the registry survive ``kit down``/``kit up`` with the podman
API the kit starts itself, a killed scheduler container is restarted by its restart policy, and
``kit down`` leaves no container, network or podman socket behind."""

from __future__ import annotations

import subprocess
import time

import mlflow
import psutil
import pytest

from kit.cli import main
from kit.client import connect
from kit.stack import podman, standin_images
from kit.stack.compose import ComposeStack
from kit.stack.health import mlflow_probe
from tests.compose.live import containers, log_in_to_compose_mlflow

pytestmark = pytest.mark.compose


def test_runs_and_the_registry_survive_down_and_up_with_podman_started_by_the_kit(
    compose_stack: ComposeStack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """`kit up` again as a user with only podman installed would: no DOCKER_HOST, no socket
    running, no image variables. The kit starts podman's API in its state folder and, no registry
    answering, builds the stand-in images (cached by content here: seconds) and uses them."""
    before = connect().latest_run("ml_lifecycle")
    assert main(["down"]) == 0
    assert containers(compose_stack.project_dir) == []
    for name in ("DOCKER_HOST", *standin_images.IMAGE_VARIABLES):
        monkeypatch.delenv(name, raising=False)
    kit_socket = compose_stack.podman_dir / "podman.sock"
    assert not kit_socket.exists()
    capsys.readouterr()
    started = time.monotonic()
    # Airflow healthy is what this test is about (the fixture's own `up` waited for every
    # container's check); MLflow is asked below, with time to answer.
    assert main(["up", "--stack", "compose", "--wait", "airflow"]) == 0
    print(f"kit up with the kit's own podman socket: {time.monotonic() - started:.1f} s")
    said = capsys.readouterr()
    assert "starting podman's API" in said.err and "images ready" in said.err, said.err
    assert podman.answers(compose_stack.podman_dir)
    assert standin_images.recorded(compose_stack.state_dir)["AIRFLOW_IMAGE_NAME"].startswith(
        "localhost/airflow-notebook-kit:"
    )
    after = connect().latest_run("ml_lifecycle")
    assert after is not None and (after.run_id, after.state) == (before.run_id, "success")
    mlflow_url = compose_stack.endpoints().mlflow_url
    deadline = time.monotonic() + 180
    while mlflow_probe(mlflow_url)() is not None and time.monotonic() < deadline:
        time.sleep(2)
    mlflow.set_tracking_uri(mlflow_url)
    log_in_to_compose_mlflow(compose_stack, monkeypatch)
    versions = mlflow.MlflowClient().search_model_versions("name='breast_cancer_classifier'")
    assert versions


def test_a_crashed_scheduler_is_restarted_by_its_restart_policy(
    compose_stack: ComposeStack,
) -> None:
    """The scheduler process dies (SIGKILL from the host, as the OOM killer would): its container
    exits on its own, so `restart: always` applies (`podman kill` would be a stop by hand)."""
    (scheduler,) = [c for c in containers(compose_stack.project_dir) if "airflow-scheduler" in c]
    inspected = subprocess.run(
        ["podman", "inspect", "--format", "{{.State.Pid}} {{.RestartCount}}", scheduler],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    init_pid, restarts = (int(x) for x in inspected.stdout.split())
    for child in psutil.Process(init_pid).children():  # dumb-init's child: the scheduler
        child.kill()
    deadline = time.monotonic() + 240
    while True:
        healthy = {c.name: c.healthy for c in compose_stack.status().components}
        counted = subprocess.run(
            ["podman", "inspect", "--format", "{{.RestartCount}}", scheduler],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        if int(counted) > restarts and healthy.get("airflow-scheduler"):
            break
        assert time.monotonic() < deadline, f"the scheduler was not restarted: {healthy}"
        time.sleep(3)
    run = connect().run("example_pipeline", timeout=600, progress=False)
    assert run.state == "success"


def test_kit_down_stops_the_podman_socket_the_kit_started(
    compose_stack: ComposeStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The socket `kit up` started (test above) goes with `kit down`, and nothing of the stack
    stays. (Last in the module: the fixture's own `down` then finds nothing to stop.)"""
    assert podman.answers(compose_stack.podman_dir)
    monkeypatch.delenv("DOCKER_HOST")
    assert main(["down"]) == 0
    assert containers(compose_stack.project_dir) == []
    assert not (compose_stack.podman_dir / "podman.sock").exists()
    assert not podman.answers(compose_stack.podman_dir)

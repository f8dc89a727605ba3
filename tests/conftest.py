"""Shared fixtures: one real embedded stack (Airflow 3 + MLflow on the default PostgreSQL) per test
session, on free ports."""

from __future__ import annotations

import contextlib
import os
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from kit.stack import EmbeddedStack, StackSettings
from kit.stack.ports import free_ports

REPO = Path(__file__).resolve().parent.parent

# As in the stack's processes: MLflow's telemetry phones home and races between threads.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The live Compose tests run last, and their container images start building now: a cold
    build takes minutes, which the rest of the suite then covers."""
    live = [item for item in items if item.get_closest_marker("compose")]
    if not live:
        return
    items[:] = [item for item in items if not item.get_closest_marker("compose")] + live
    from tests.compose.live import build_images_in_background

    build_images_in_background()


def stack_settings(root: Path, **extra: object) -> StackSettings:
    """Settings for a stack whose state and dags live under ``root``, on ports free right now."""
    ports = free_ports(7)
    dags = root / "dags"
    dags.mkdir(parents=True, exist_ok=True)
    values: dict[str, object] = {
        "project_dir": REPO,
        "state_dir": root / "state",
        "dags_dir": dags,
        "airflow_port": ports[0],
        "mlflow_port": ports[1],
        "scheduler_health_port": ports[2],
        "worker_log_port": ports[3],
        "trigger_log_port": ports[4],
        # The default shape runs PostgreSQL (and --celery Redis): never on a fixed port in tests.
        "postgres_port": ports[5],
        "redis_port": ports[6],
        # 8 pre-forked LocalExecutor workers instead of the seed's 32: same code path, less memory.
        "parallelism": 8,
    }
    values.update(extra)
    return StackSettings.from_env(**values)


def log_in_to_mlflow(stack: EmbeddedStack, patch: pytest.MonkeyPatch) -> str:
    """This process's MLflow clients log in to ``stack``'s MLflow as its admin (MLflow has
    logins: kit.stack.mlflow_auth); its URL. The tracking URI is left to each test."""
    from kit.client import mlflow_environment

    for key, value in mlflow_environment(stack.settings.state_dir).items():
        if key != "MLFLOW_TRACKING_URI":
            patch.setenv(key, value)
    return stack.settings.mlflow_url


@contextlib.contextmanager
def running_stack(settings: StackSettings) -> Iterator[EmbeddedStack]:
    """A stack up for the duration of the block, the test process logged in to its MLflow as
    admin (restored after); down afterwards, with nothing left running."""
    running = EmbeddedStack(settings)
    try:
        with pytest.MonkeyPatch.context() as patch:
            running.up(timeout=600, progress=False)
            log_in_to_mlflow(running, patch)
            yield running
    finally:
        running.down()
    assert running.leftover_processes() == [], f"{settings.state_dir}: processes left behind"


MLFLOW_LOGIN_PREFIX = "MLFLOW_TRACKING_"


@pytest.fixture(autouse=True)
def _keep_mlflow_login_to_each_test() -> Iterator[None]:
    """``use_mlflow()`` (``kit lineage`` run in-process, MlflowAdmin) logs the whole process in,
    as users want: after each test the MLFLOW_TRACKING_* variables are back to what they were
    (the shared stacks' logins included), so no test hands its login or URI to the next."""
    saved = {k: v for k, v in os.environ.items() if k.startswith(MLFLOW_LOGIN_PREFIX)}
    yield
    for key in [k for k in os.environ if k.startswith(MLFLOW_LOGIN_PREFIX)]:
        if key not in saved:
            del os.environ[key]
    os.environ.update(saved)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStack]:
    with running_stack(stack_settings(tmp_path_factory.mktemp("stack"))) as running:
        yield running


@pytest.fixture(scope="session")
def client(stack: EmbeddedStack):
    from kit.client import connect

    return connect(stack.settings.state_dir)


def chain_dag_source(dag_id: str, *, message: str = "hello from the kit") -> str:
    """A small real DAG: three chained tasks passing a value along, the last one printing it."""
    return textwrap.dedent(
        f"""
        from airflow.sdk import dag, task

        @dag(dag_id={dag_id!r}, schedule=None, catchup=False, tags=["kit-test"])
        def pipeline():
            @task
            def extract():
                return 21

            @task
            def transform(x):
                return x * 2

            @task
            def load(y):
                print({message!r}, y)
                return {{"answer": y}}

            load(transform(extract()))

        pipeline()
        """
    )


def run_a_chain(stack: EmbeddedStack, dag_id: str):
    """Write the chain DAG ``dag_id`` into ``stack``'s dags/, have Airflow load it, run it once
    and wait: the client and the finished run."""
    from kit.client import connect

    path = stack.settings.dags_dir / f"{dag_id}.py"
    path.write_text(chain_dag_source(dag_id))
    client = connect(stack.settings.state_dir)
    client.make_visible(dag_id, path, timeout=180)
    return client, client.run(dag_id, timeout=300, progress=False)


@pytest.fixture
def write_dag(stack: EmbeddedStack):
    def write(dag_id: str, source: str | None = None) -> Path:
        path = stack.settings.dags_dir / f"{dag_id}.py"
        path.write_text(source if source is not None else chain_dag_source(dag_id))
        return path

    return write

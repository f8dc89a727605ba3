"""Many promotions at once on real MLflow servers with logins, over REST: the SQLite stack's kind
(an ``mlflow server`` on SQLite, started here on loopback as the kit starts it) and the session
stack's (on PostgreSQL).
Every round must end with the exact best version as champion, and every promotion says so."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

import pytest

from kit.stack.embedded import EmbeddedStack
from kit.stack.mlflow_auth import (
    ADMIN_USER,
    MlflowAuth,
    config_text,
    server_environment,
    sqlite_auth_uri,
    without_logins,
)
from kit.stack.ports import free_ports
from tests.mlops.race import check, race

ROUNDS, PROMOTIONS = 4, 10


SQLITE_ADMIN_PASSWORD = "race-admin-password"


@pytest.fixture(scope="module")
def sqlite_mlflow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An ``mlflow server`` on SQLite, as ``kit up --sqlite`` runs it (with logins: its auth
    tables in basic_auth.db beside mlflow.db), in a temporary folder."""
    root = tmp_path_factory.mktemp("mlflow-sqlite")
    config = root / "basic_auth.ini"
    auth = MlflowAuth(sqlite_auth_uri(root), SQLITE_ADMIN_PASSWORD, "race-tasks-password")
    config.write_text(config_text(auth))
    (port,) = free_ports(1)
    server = subprocess.Popen(
        [
            sys.executable, "-m", "kit.stack.mlflow_server",
            "--host", "127.0.0.1", "--port", str(port),
            "--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}",
            "--artifacts-destination", str(root / "artifacts"), "--workers", "1",
        ],
        env={
            **without_logins(os.environ),
            **server_environment(config, "race-flask-key"),
            "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
        },
        stdout=subprocess.DEVNULL,
        stderr=(root / "server.log").open("w"),
        start_new_session=True,
    )  # fmt: skip
    uri = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(f"{uri}/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                assert server.poll() is None, (root / "server.log").read_text()
                assert time.monotonic() < deadline, "mlflow server did not answer in 180 s"
                time.sleep(0.5)
        yield uri
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(60)
        except subprocess.TimeoutExpired:  # uvicorn's graceful stop can lag on a loaded machine
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(30)


def test_concurrent_promotions_on_sqlite_end_on_the_best(
    sqlite_mlflow: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", sqlite_mlflow)
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", ADMIN_USER)
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", SQLITE_ADMIN_PASSWORD)
    check(race(sqlite_mlflow, "race_sqlite", ROUNDS, PROMOTIONS, seed=1))


def test_concurrent_promotions_on_postgresql_end_on_the_best(
    stack: EmbeddedStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    uri = stack.settings.mlflow_url
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    check(race(uri, "race_postgres", ROUNDS, PROMOTIONS, seed=2))

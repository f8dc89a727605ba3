"""The one stack state (kit.stack.state) and the one choice of backend (kit.stack.get_stack):
pure, no process started."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kit.client import connect
from kit.stack import (
    EmbeddedStack,
    StackError,
    StackNotRunning,
    StackSettings,
    StackState,
    get_stack,
    open_stack,
    read_state,
    saved_kind,
)
from kit.stack.compose import ComposeStack
from kit.stack.state import write_state
from tests.conftest import REPO


def state(tmp_path: Path, kind: str = "embedded", **extra) -> StackState:
    passwords = tmp_path / "passwords.json"
    passwords.write_text(json.dumps({"admin": "s3cret"}))
    return StackState(
        kind=kind,
        airflow_url="http://127.0.0.1:18080",
        mlflow_url="http://127.0.0.1:15000",
        username="admin",
        password_file=passwords,
        dags_dir=tmp_path / "dags",
        project_dir=tmp_path,
        **extra,
    )


def test_the_state_round_trips_with_its_backend_fields(tmp_path: Path) -> None:
    written = state(tmp_path, ports={"airflow_port": 18080}, database="postgres")
    path = write_state(tmp_path / "state", written)
    assert path == tmp_path / "state" / "stack.json"
    read = read_state(tmp_path / "state")
    assert read == written and read.password() == "s3cret"
    assert read.backend() == {"ports": {"airflow_port": 18080}, "database": "postgres"}
    assert read.endpoints().airflow_url == "http://127.0.0.1:18080"
    assert saved_kind(tmp_path / "state") == "embedded"


def test_no_state_means_no_stack_was_started(tmp_path: Path) -> None:
    with pytest.raises(StackNotRunning, match="run `kit up` first"):
        read_state(tmp_path)
    assert saved_kind(tmp_path) is None


@pytest.mark.parametrize(
    ("text", "says"),
    [("{not json", "is not readable"), ('{"kind": "embedded"}', "does not describe a stack")],
)
def test_a_broken_state_names_the_file_and_the_fix(tmp_path: Path, text: str, says: str) -> None:
    (tmp_path / "stack.json").write_text(text)
    with pytest.raises(StackError, match=says) as err:
        read_state(tmp_path)
    assert str(tmp_path / "stack.json") in str(err.value) and "kit up" in str(err.value)


def test_an_unreadable_password_says_where_it_looked(tmp_path: Path) -> None:
    written = state(tmp_path)
    written.password_file.write_text("{}")
    with pytest.raises(StackError, match="password of 'admin' is not readable from"):
        written.password()


def test_the_saved_backend_is_the_one_used(tmp_path: Path) -> None:
    settings = StackSettings.from_env(state_dir=tmp_path / "state", project_dir=tmp_path)
    write_state(settings.state_dir, state(tmp_path, "compose", ports={"airflow_port": 18080}))
    stack = get_stack("auto", settings)
    assert isinstance(stack, ComposeStack) and stack._port("airflow-apiserver") == 18080
    assert isinstance(open_stack(settings.state_dir), ComposeStack)
    with pytest.raises(StackError, match="choose the shape of the embedded stack"):
        get_stack("auto", settings, shape={"database": "sqlite"})
    assert isinstance(get_stack("embedded", settings), EmbeddedStack)  # asked for explicitly


def test_an_embedded_state_keeps_its_ports_and_shape_unless_told(tmp_path: Path) -> None:
    settings = StackSettings.from_env(state_dir=tmp_path / "state", project_dir=tmp_path)
    ports = {"airflow_port": 18080, "mlflow_port": 15000}
    write_state(
        settings.state_dir,
        state(tmp_path, ports=ports, database="sqlite", executor="local", shape="sqlite"),
    )
    stack = get_stack("auto", settings)
    assert isinstance(stack, EmbeddedStack)
    assert (stack.settings.airflow_port, stack.settings.database) == (18080, "sqlite")
    moved = get_stack("auto", settings, ports={"airflow_port": 18081, "mlflow_port": None})
    assert (moved.settings.airflow_port, moved.settings.mlflow_port) == (18081, 15000)


def test_connect_to_a_compose_stack_that_is_down_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No Docker engine answers on this address: the stack's own check, not "run kit up first".
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path / 'no-engine.sock'}")
    written = state(tmp_path, "compose").model_copy(update={"project_dir": REPO})
    write_state(tmp_path / "state", written)
    with pytest.raises(StackNotRunning, match="the Compose stack is not running"):
        connect(tmp_path / "state")


def test_the_mlflow_login_rides_in_the_state_and_an_older_state_has_none(tmp_path: Path) -> None:
    mlflow_file = tmp_path / "mlflow_passwords.json"
    mlflow_file.write_text(json.dumps({"admin": "ml-s3cret-123"}))
    written = state(tmp_path, mlflow_username="admin", mlflow_password_file=mlflow_file)
    write_state(tmp_path / "state", written)
    endpoints = read_state(tmp_path / "state").endpoints()
    assert endpoints.mlflow_password() == "ml-s3cret-123"
    assert endpoints.mlflow_environment() == {
        "MLFLOW_TRACKING_URI": "http://127.0.0.1:15000",
        "MLFLOW_TRACKING_USERNAME": "admin",
        "MLFLOW_TRACKING_PASSWORD": "ml-s3cret-123",
    }
    # A state written by a kit whose MLflow had no logins: the URI alone, and a clear error.
    older = state(tmp_path).endpoints()
    assert older.mlflow_environment() == {"MLFLOW_TRACKING_URI": "http://127.0.0.1:15000"}
    with pytest.raises(StackError, match="has no logins"):
        older.mlflow_password()

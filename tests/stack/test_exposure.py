"""Beyond loopback only with logins: the decision (pure) and both stacks refusing before anything
starts."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kit.stack.base import StackError
from kit.stack.component_commands import published
from kit.stack.compose import ComposeStack
from kit.stack.compose_project import COMPOSE_FILE
from kit.stack.embedded import EmbeddedStack
from kit.stack.exposure import (
    Published,
    airflow_anonymous,
    is_loopback,
    mlflow_anonymous,
    refuse_anonymous_beyond_loopback,
)
from tests.conftest import REPO, stack_settings

CONFIG = REPO / "config" / "airflow.cfg"
FAB = "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"


@pytest.mark.parametrize(
    ("address", "loopback"),
    [("127.0.0.1", True), ("127.0.0.2", True), ("::1", True), ("[::1]", True),
     ("localhost", True), ("0.0.0.0", False), ("::", False), ("192.168.1.5", False),
     ("my-host.example.org", False)],
)  # fmt: skip
def test_loopback_addresses(address: str, loopback: bool) -> None:
    assert is_loopback(address) is loopback


def test_mlflow_asks_for_a_login_only_with_its_auth_app() -> None:
    assert mlflow_anonymous(["server", "--host", "0.0.0.0"]) is not None
    assert mlflow_anonymous(["server", "--app-name", "basic-auth"]) is None
    assert mlflow_anonymous("server --app-name=basic-auth --port 5000") is None
    assert mlflow_anonymous(["server", "--app-name", "something-else"]) is not None


def test_airflow_asks_for_a_login_unless_its_configuration_lets_everyone_in() -> None:
    assert airflow_anonymous(CONFIG, {}) is None  # the project's airflow.cfg
    everyone = {
        "AIRFLOW__CORE__AUTH_MANAGER": "airflow.api_fastapi.auth.managers.simple."
        "simple_auth_manager.SimpleAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
    }
    # Under FAB (the project's) that SimpleAuthManager option changes nothing.
    assert airflow_anonymous(CONFIG, everyone | {"AIRFLOW__CORE__AUTH_MANAGER": FAB}) is None
    assert "all_admins" in (airflow_anonymous(CONFIG, everyone) or "")
    fab = {"AIRFLOW__CORE__AUTH_MANAGER": FAB, "AIRFLOW__FAB__AUTH_ROLE_PUBLIC": "Viewer"}
    assert "auth_role_public" in (airflow_anonymous(CONFIG, fab) or "")


def test_the_refusal_names_each_open_service_and_the_way_out() -> None:
    services = [Published("api-server", None), Published("mlflow", "no login app")]
    refuse_anonymous_beyond_loopback("127.0.0.1", "KIT_BIND_HOST", services)  # loopback: fine
    refuse_anonymous_beyond_loopback("0.0.0.0", "KIT_BIND_HOST", services[:1])  # all log in
    with pytest.raises(StackError) as caught:
        refuse_anonymous_beyond_loopback("0.0.0.0", "KIT_BIND_HOST", services)
    message = str(caught.value)
    assert "KIT_BIND_HOST=0.0.0.0" in message and "  - mlflow: no login app" in message
    assert "api-server" not in message and "Nothing was started" in message


def test_the_native_stack_publishes_only_services_that_ask_for_a_login(tmp_path: Path) -> None:
    """As the kit starts them, Airflow (FAB) and MLflow (its login app) both ask."""
    settings = stack_settings(tmp_path, host="0.0.0.0")
    assert [(p.name, p.anonymous) for p in published(settings, {})] == [
        ("api-server", None),
        ("mlflow", None),
    ]


def test_native_up_refuses_a_public_role_beyond_loopback(tmp_path: Path, monkeypatch) -> None:
    """A FAB public role set in the user's shell would let anyone in: refused before anything
    starts, naming the service and the setting."""
    monkeypatch.setenv("AIRFLOW__FAB__AUTH_ROLE_PUBLIC", "Viewer")
    stack = EmbeddedStack(stack_settings(tmp_path, host="0.0.0.0"))
    with pytest.raises(StackError, match=r"KIT_BIND_HOST=0\.0\.0\.0 .*\n  - api-server: .*"):
        stack.up(timeout=5, progress=False)
    assert stack.leftover_processes() == []
    assert not (stack.settings.postgres_dir / "data").exists()  # nothing was started


def compose_project(tmp_path: Path, env: str) -> Path:
    project = tmp_path / "project"
    (project / "config").mkdir(parents=True)
    shutil.copy(REPO / COMPOSE_FILE, project / COMPOSE_FILE)
    shutil.copy(CONFIG, project / "config" / "airflow.cfg")
    (project / ".env").write_text(env)
    return project


def test_compose_up_refuses_before_it_needs_an_engine(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("KIT_BIND_ADDRESS", raising=False)
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    project = compose_project(tmp_path, "KIT_BIND_ADDRESS=0.0.0.0\n")
    stack = ComposeStack(project, tmp_path / "state", profiles=["email"], cli=["docker-compose"])
    with pytest.raises(StackError) as caught:
        stack.up(timeout=5, progress=False)
    message = str(caught.value)
    assert "KIT_BIND_ADDRESS=0.0.0.0" in message
    assert "  - mailpit: the mail catcher" in message
    assert "mlflow" not in message  # its login app is on its command line
    assert "airflow-apiserver" not in message  # it asks for a login
    # On loopback the same stack gets past the check (and stops at the missing engine).
    (project / ".env").write_text("KIT_BIND_ADDRESS=127.0.0.1\n")
    with pytest.raises(StackError, match="no Docker engine answers"):
        stack.up(timeout=5, progress=False)

"""The stack panel: a stand-in stack for up/down, and the session's real stack for status."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kit.stack.base import ComponentStatus, Endpoints, StackError, StackStatus
from kit.widgets import StackPanel
from kit.widgets.stackpanel import Identity, healthy_fraction, identity_html, status_rows


class FakeStack:
    """Follows the ``Stack`` protocol; starts and stops instantly (or fails when told)."""

    kind = "embedded"

    def __init__(self, password_file: Path, fail_up: bool = False) -> None:
        self.running = False
        self.fail_up = fail_up
        self.endpoints_ = Endpoints(
            "http://127.0.0.1:8080", "http://127.0.0.1:5000", "admin", password_file
        )

    def status(self) -> StackStatus:
        comps = [
            ComponentStatus("api-server", self.running, self.running or None, 11),
            ComponentStatus("scheduler", self.running, self.running or None, 12),
        ]
        return StackStatus(self.kind, self.running, self.endpoints_, comps)

    def up(self, *, timeout: float = 180.0, progress: bool = True) -> Endpoints:
        if self.fail_up:
            raise StackError("port 8080 is busy")
        self.running = True
        return self.endpoints_

    def down(self, *, timeout: float = 30.0) -> None:
        self.running = False


@pytest.fixture
def fake(tmp_path: Path) -> FakeStack:
    password_file = tmp_path / "passwords.json"
    password_file.write_text(json.dumps({"admin": "s3cret"}))
    return FakeStack(password_file)


def test_up_and_down_buttons_with_progress_and_links(fake: FakeStack) -> None:
    panel = StackPanel(fake, background=False)
    assert "down" in panel.summary.value and panel.down_button.disabled
    panel.up_button.click()
    assert fake.running
    assert "healthy" in panel.summary.value and "Stack up" in panel.message.value
    assert panel.progress.value == 1.0 and panel.progress.bar_style == "success"
    assert "http://127.0.0.1:8080" in panel.links.value and "5000" in panel.links.value
    assert panel.up_button.disabled and not panel.down_button.disabled
    assert "s3cret" not in panel.credentials.value and "admin" in panel.credentials.value
    # Nothing at the fake's URL accepts that login: the panel says so instead of failing.
    assert "Not logged in as <code>admin</code>" in panel.whoami.value
    panel.password_button.value = True
    assert "s3cret" in panel.credentials.value
    panel.down_button.click()
    assert not fake.running and "Stack stopped" in panel.message.value
    assert "Start the stack" in panel.links.value


def test_a_failed_start_is_shown(tmp_path: Path) -> None:
    stack = FakeStack(tmp_path / "missing.json", fail_up=True)
    panel = StackPanel(stack, background=False)
    panel.up_button.click()
    assert "port 8080 is busy" in panel.message.value
    assert panel.progress.bar_style == "danger" and not panel.up_button.disabled


def test_status_rows_and_fraction() -> None:
    status = StackStatus(
        "embedded",
        True,
        None,
        [ComponentStatus("a", True, True, 1), ComponentStatus("b", True, False, 2, "no answer")],
    )
    assert status_rows(status) == [("a", "healthy", "pid 1"), ("b", "unhealthy", "no answer")]
    assert healthy_fraction(status) == 0.5


@pytest.mark.stack
def test_the_panel_shows_the_running_session_stack(stack) -> None:
    panel = StackPanel(stack, background=False)
    assert "data-stack-state='up'" in panel.summary.value
    assert stack.settings.airflow_url in panel.links.value
    assert "api-server" in panel.table.value or "scheduler" in panel.table.value


def test_the_login_line() -> None:
    assert identity_html(None) == ""
    line = identity_html(Identity("viewer", ("Viewer", "team_a")))
    assert "Logged in as <code>viewer</code> (Viewer, team_a)" in line
    assert "data-logged-in='viewer'" in line
    assert identity_html(Identity("bob")).endswith("Logged in as <code>bob</code></span>")
    refused = identity_html(Identity("<b>", error="refused (HTTP 401) & more"))
    assert "Not logged in as <code>&lt;b&gt;</code>: refused (HTTP 401) &amp; more" in refused


@pytest.mark.stack
def test_the_panel_says_who_is_logged_in(stack, client) -> None:
    from kit.client.users import Users, generate_password

    panel = StackPanel(stack, background=False)
    assert "Logged in as <code>admin</code> (Admin)" in panel.whoami.value
    password = generate_password()
    Users(client).add("panel-viewer", "Viewer", password)
    try:
        panel = StackPanel(stack, user="panel-viewer", password=password, background=False)
        assert "Logged in as <code>panel-viewer</code> (Viewer)" in panel.whoami.value
        wrong = StackPanel(stack, user="panel-viewer", password="wrong", background=False)
        assert "Not logged in as <code>panel-viewer</code>" in wrong.whoami.value
    finally:
        Users(client).remove("panel-viewer")


def test_the_mlflow_login_is_shown_with_its_password_only_on_request(tmp_path: Path) -> None:
    fake = FakeStack(tmp_path / "passwords.json")
    (tmp_path / "passwords.json").write_text(json.dumps({"admin": "s3cret"}))
    mlflow_file = tmp_path / "mlflow_passwords.json"
    mlflow_file.write_text(json.dumps({"admin": "ml-s3cret-123"}))
    fake.endpoints_ = Endpoints(
        "http://127.0.0.1:8080",
        "http://127.0.0.1:5000",
        "admin",
        tmp_path / "passwords.json",
        mlflow_username="admin",
        mlflow_password_file=mlflow_file,
    )
    panel = StackPanel(fake, background=False)
    panel.up_button.click()
    assert "MLflow login: user <code>admin</code>" in panel.credentials.value
    assert "ml-s3cret-123" not in panel.credentials.value
    assert str(mlflow_file) in panel.credentials.value
    panel.password_button.value = True
    assert "ml-s3cret-123" in panel.credentials.value

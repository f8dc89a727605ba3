"""Users and logins of kit.client (pure parts): the body FAB's API takes, the messages, where the
kit keeps a generated password, and whom ``connect()`` logs in as."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from airflow.providers.fab.auth_manager.api_fastapi.datamodels.users import UserBody

from kit.client import AuthFailed, ClientError, Forbidden, login
from kit.client.users import (
    RoleNotFound,
    User,
    missing_role_message,
    password_file,
    save_password,
    saved_password,
    user_body,
)


def test_the_body_is_what_fab_s_api_accepts() -> None:
    body = user_body("alice", "Viewer", "pw-1")
    # FAB's own request model (strict: an unknown field is refused with 422).
    made = UserBody.model_validate(body)
    assert made.username == "alice" and made.password.get_secret_value() == "pw-1"
    assert [r.name for r in made.roles or []] == ["Viewer"]
    assert made.email == "alice@kit.localhost"
    assert user_body("bob", "Op", "x", email="bob@example.org")["email"] == "bob@example.org"
    with pytest.raises(ValueError, match="surrounding spaces"):
        user_body(" alice", "Viewer", "pw")
    with pytest.raises(ValueError, match="empty"):
        user_body("alice", "Viewer", "")


def test_a_user_from_fab_s_answer() -> None:
    data = {"username": "op1", "email": "op1@x", "first_name": "op1", "last_name": "kit",
            "roles": [{"name": "Op"}, {"name": "team_a"}], "active": True}  # fmt: skip
    assert User.from_json(data) == User("op1", "op1@x", ("Op", "team_a"), True)
    assert User.from_json({"username": "n", "roles": None}).roles == ()


def test_a_missing_role_names_the_roles_and_how_to_add_one() -> None:
    known = ["Viewer", "Admin", "Op", "User", "Public", "team_a"]
    text = missing_role_message("viewer", known, "http://127.0.0.1:8080")
    assert "no role 'viewer'" in text and "Did you mean 'Viewer'?" in text
    assert "Admin, Op, Public, User, Viewer, team_a" in text
    assert "http://127.0.0.1:8080/auth/roles/list/" in text and "POST /auth/fab/v1/roles" in text
    error = RoleNotFound("team_b", known, "http://h")
    assert isinstance(error, ClientError) and error.known == known
    assert "Did you mean" not in str(error)


def test_a_generated_password_is_kept_for_its_owner_only(tmp_path: Path) -> None:
    path = save_password(tmp_path, "alice", "pw-1")
    assert path == password_file(tmp_path, "alice") == tmp_path / "users" / "alice.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert saved_password(tmp_path, "alice") == "pw-1"
    assert saved_password(tmp_path, "bob") is None
    for bad in ("../alice", ".hidden", ""):
        with pytest.raises(ValueError, match="user name"):
            password_file(tmp_path, bad)


def test_whom_connect_logs_in_as(tmp_path: Path) -> None:
    def admin_password() -> str:
        return "admin-pw"

    assert login(tmp_path, "admin", admin_password, None, None) == ("admin", "admin-pw")
    assert login(tmp_path, "admin", admin_password, "admin", None) == ("admin", "admin-pw")
    assert login(tmp_path, "admin", admin_password, "bob", "given") == ("bob", "given")
    save_password(tmp_path, "alice", "kept")
    assert login(tmp_path, "admin", admin_password, "alice", None) == ("alice", "kept")
    with pytest.raises(ClientError, match=r"no password for user 'carol'.*users/carol\.json"):
        login(tmp_path, "admin", admin_password, "carol", None)


def test_a_refusal_by_role_is_told_apart_from_a_failed_login() -> None:
    refused = Forbidden("http://h", "viewer", "POST /api/v2/dags/d/dagRuns")
    assert isinstance(refused, AuthFailed) and refused.status == 403
    assert "user 'viewer'" in str(refused) and "roles do not allow it" in str(refused)
    assert "POST /api/v2/dags/d/dagRuns" in str(refused)
    assert "refused the credentials" in str(AuthFailed("http://h", "viewer", 401))

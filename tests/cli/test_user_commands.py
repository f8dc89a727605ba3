"""`kit users` and `kit token`: their pure parts, their refusals without a stack, and (on the
session's stack) a user added, listed, logged in as and removed through the CLI."""

from __future__ import annotations

import io
import json
import stat

import httpx
import pytest

from kit.cli import EXIT_NOT_FOUND, EXIT_OK, EXIT_REFUSED, EXIT_STACK, EXIT_USAGE
from kit.cli.user_commands import read_secret, user_rows
from kit.client.users import User


def test_a_password_on_standard_input_is_its_first_line() -> None:
    assert read_secret(io.StringIO("pa ss\r\nrest"), "password") == "pa ss"
    with pytest.raises(ValueError, match="--password-stdin: standard input holds no password"):
        read_secret(io.StringIO(""), "password")


def test_the_list_shows_roles_and_which_passwords_the_kit_keeps() -> None:
    users = [
        User("admin", "admin@kit.localhost", ("Admin",), True),
        User("a-long-name", "x@y", ("Viewer", "team_a"), False),
    ]
    lines = user_rows(users, kept={"a-long-name"})
    assert lines[0].split() == ["user", "roles", "e-mail"]
    assert lines[1].startswith("admin        Admin ")
    assert "Viewer, team_a" in lines[2] and "(password kept by the kit)" in lines[2]
    assert lines[2].endswith("(inactive)") and "kept" not in lines[1]


def test_without_a_stack_each_command_says_so(kit, tmp_path) -> None:
    state = str(tmp_path / "none")
    for args in (
        ("users", "add", "bob", "--role", "Viewer"),
        ("users", "list"),
        ("users", "remove", "bob"),
        ("token",),
    ):
        done = kit(*args, "--state-dir", state)
        assert done.returncode == EXIT_STACK and "run `kit up` first" in done.stderr, args
    assert not (tmp_path / "none" / "users").exists()  # no password kept for nobody
    done = kit("users", "add", "bob", "--role", "Viewer", "--password-stdin", "--state-dir", state)
    assert done.returncode == EXIT_USAGE and "standard input holds no password" in done.stderr
    assert kit("users", "add", "bob").returncode == EXIT_USAGE  # --role is required


@pytest.mark.stack
def test_add_list_log_in_and_remove_through_the_cli(kit, stack) -> None:
    state = ["--state-dir", str(stack.settings.state_dir)]
    url = stack.settings.airflow_url
    done = kit("users", "add", "cli-viewer", "--role", "Viewer", *state)
    assert done.returncode == EXIT_OK, done.stderr
    kept = stack.settings.state_dir / "users" / "cli-viewer.json"
    assert str(kept) in done.stdout and stat.S_IMODE(kept.stat().st_mode) == 0o600
    password = json.loads(kept.read_text())["cli-viewer"]
    assert password not in done.stdout
    # A password given on standard input is not kept by the kit.
    done = kit(
        "users", "add", "cli-op", "--role", "Op", "--password-stdin", *state, stdin="op-pw\n"
    )
    assert done.returncode == EXIT_OK, done.stderr
    assert not (stack.settings.state_dir / "users" / "cli-op.json").exists()
    listed = kit("users", "list", *state)
    rows = {line.split()[0]: line for line in listed.stdout.splitlines()[1:]}
    assert "Admin" in rows["admin"] and "Op" in rows["cli-op"]
    assert "Viewer" in rows["cli-viewer"] and "password kept by the kit" in rows["cli-viewer"]
    # A missing role: the roles that exist, and how to add one; nothing kept.
    done = kit("users", "add", "cli-x", "--role", "viewer", *state)
    assert done.returncode == EXIT_USAGE and "Did you mean 'Viewer'?" in done.stderr
    assert "Admin, Op, Public, User, Viewer" in done.stderr
    assert not (stack.settings.state_dir / "users" / "cli-x.json").exists()
    # `kit token` for scripts: the admin's, a kept password's, one from standard input.
    logins = [
        ((), ""),
        (("--user", "cli-viewer"), ""),
        (("--user", "cli-op", "--password-stdin"), "op-pw\n"),
    ]
    for args, stdin in logins:
        done = kit("token", *args, *state, stdin=stdin)
        assert done.returncode == EXIT_OK, done.stderr
        answer = httpx.get(
            f"{url}/ui/auth/me", headers={"Authorization": f"Bearer {done.stdout.strip()}"}
        )
        assert answer.json()["username"] == (args[1] if args else "admin")
    done = kit("token", "--user", "cli-op", "--password-stdin", *state, stdin="wrong\n")
    assert done.returncode == EXIT_REFUSED and "HTTP 401" in done.stderr
    # Removed: its kept password goes too; the kit's own admin is refused.
    assert kit("users", "remove", "cli-viewer", *state).returncode == EXIT_OK
    assert not kept.exists()
    assert kit("users", "remove", "cli-viewer", *state).returncode == EXIT_NOT_FOUND
    assert kit("users", "remove", "cli-op", *state).returncode == EXIT_OK
    done = kit("users", "remove", "admin", *state)
    assert done.returncode == EXIT_USAGE and "the admin the kit logs in as" in done.stderr

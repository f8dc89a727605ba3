"""The kit's admin user in FAB's tables (pure parts): when `kit up` makes it, how the entry is
called (never with the password on its command line), and the configuration FAB runs with."""

from __future__ import annotations

import configparser
import importlib.util
import io
import stat
from pathlib import Path

import pytest

from kit.stack.admin_user import admin_digest, admin_needed, entry_command, record_admin
from kit.stack.databases import migrated_marker_name
from kit.stack.fab_admin import admin_email, read_password

REPO = Path(__file__).resolve().parents[2]


def test_the_marker_keeps_a_digest_of_the_login_never_the_password(tmp_path: Path) -> None:
    marker = tmp_path / ".kit-admin"
    assert admin_needed(marker, "admin", "pw-1")  # no marker: a new database, or an old state
    record_admin(marker, "admin", "pw-1")
    assert stat.S_IMODE(marker.stat().st_mode) == 0o600
    assert "pw-1" not in marker.read_text()
    assert not admin_needed(marker, "admin", "pw-1")
    # secrets.json's password edited, or another admin name: made again.
    assert admin_needed(marker, "admin", "pw-2") and admin_needed(marker, "root", "pw-1")
    assert admin_digest("admin", "pw-1") != admin_digest("admin", "pw-2")


def test_the_entry_gets_the_user_name_on_its_command_line_and_nothing_else() -> None:
    plain = entry_command("admin", migrate=False)
    assert plain[-3:] == ["-m", "kit.stack.fab_admin", "admin"]
    both = entry_command("admin", migrate=True)
    assert both[-2:] == ["--migrate", "admin"] and len(both) == len(plain) + 1


def test_the_entry_reads_the_first_line_of_standard_input() -> None:
    assert read_password(io.StringIO("s3cret pass\nignored\n")) == "s3cret pass"
    assert read_password(io.StringIO("no-newline")) == "no-newline"
    with pytest.raises(SystemExit, match="no password on standard input"):
        read_password(io.StringIO("\n"))
    assert admin_email("admin") == "admin@kit.localhost"


def test_a_state_migrated_without_fab_is_migrated_again() -> None:
    versions = {"airflow": "3.3.2", "fab": "3.10.2"}
    postgres = migrated_marker_name("postgres", versions)
    sqlite = migrated_marker_name("sqlite", versions)
    # The markers of kits that ran SimpleAuthManager: FAB's tables are missing behind them.
    assert postgres != ".airflow-migrated-3.3.2" and postgres.startswith(".airflow-migrated-3.3.2")
    assert sqlite != ".migrated-3.3.2" and sqlite.endswith("-fab-3.10.2")
    assert migrated_marker_name("postgres", {**versions, "fab": "3.11.0"}) != postgres


def test_every_stack_runs_fab_s_auth_manager() -> None:
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.read(REPO / "config" / "airflow.cfg")
    manager = cfg.get("core", "auth_manager")
    assert manager == "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"
    assert not any(key.startswith("simple_auth_manager") for key in cfg["core"])
    module, _, name = manager.rpartition(".")
    spec = importlib.util.find_spec(module)  # installed, from the lock (not imported here)
    assert spec is not None and spec.origin is not None
    assert f"class {name}(" in Path(spec.origin).read_text()

"""The `kit` command: help, exit codes scripts can rely on, and real runs through the CLI.

The commands run through ``kit.cli.main()`` in this process (what the console script calls), so
each costs its work and not a new interpreter's imports; one test runs the installed script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kit.cli import build_parser
from kit.stack.embedded import COMPONENTS

COMMANDS = ["up", "down", "status", "credentials", "logs", "run", "demo", "users", "token"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(kit, command: str) -> None:
    done = kit(command, "--help")
    assert done.returncode == 0 and "usage: kit" in done.stdout


def test_the_installed_console_script_runs() -> None:
    script = Path(sys.executable).parent / "kit"
    done = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "usage: kit" in done.stdout
    wrong = subprocess.run([str(script), "nope"], capture_output=True, text=True, timeout=120)
    assert wrong.returncode == 2 and "invalid choice" in wrong.stderr


def test_the_parser_knows_every_command() -> None:
    parser = build_parser()
    choices = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert set(COMMANDS) <= set(choices)


def test_status_json_and_exit_code(kit, stack) -> None:
    done = kit("status", "--json", "--state-dir", str(stack.settings.state_dir))
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["healthy"] is True
    assert [c["name"] for c in data["components"]] == ["postgres", *COMPONENTS]
    assert data["shape"] == "postgres+local"


def test_status_of_a_stack_that_is_not_there(kit, tmp_path) -> None:
    done = kit("status", "--state-dir", str(tmp_path / "none"), "--stack", "embedded")
    assert done.returncode == 3 and "stopped" in done.stdout


def test_credentials_say_how_to_log_in(kit, stack) -> None:
    done = kit("credentials", "--state-dir", str(stack.settings.state_dir))
    assert done.returncode == 0
    assert stack.settings.airflow_url in done.stdout and "user:     admin" in done.stdout


def test_run_wait_prints_a_summary_and_exit_codes(kit, stack, client, write_dag) -> None:
    path = write_dag("kit_cli_chain")
    client.make_visible("kit_cli_chain", path, timeout=120)
    state = str(stack.settings.state_dir)
    done = kit("run", "kit_cli_chain", "--wait", "--timeout", "300", "--state-dir", state)
    assert done.returncode == 0, done.stdout + done.stderr
    for text in (
        "Run state: success",
        "extract",
        "transform",
        "load",
        "task_id=load/attempt=1.log",
    ):
        assert text in done.stdout, done.stdout
    missing = kit("run", "no_such_dag", "--state-dir", state)
    assert missing.returncode == 4 and "no DAG 'no_such_dag'" in missing.stderr
    bad_conf = kit("run", "kit_cli_chain", "--conf", "{not json", "--state-dir", state)
    assert bad_conf.returncode == 2 and "--conf is not valid JSON" in bad_conf.stderr


def test_logs_lists_and_shows_component_logs(kit, stack) -> None:
    state = str(stack.settings.state_dir)
    listing = kit("logs", "--state-dir", state)
    assert listing.returncode == 0 and "scheduler" in listing.stdout
    shown = kit("logs", "api-server", "--state-dir", state)
    assert shown.returncode == 0 and shown.stdout.strip()
    assert kit("logs", "nope", "--state-dir", state).returncode == 4

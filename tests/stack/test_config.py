"""config/airflow.cfg: clean for Airflow 3, and it carries every setting of the seed."""

from __future__ import annotations

import configparser
import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

CFG = REPO / "config" / "airflow.cfg"
MAPPING = REPO / "docs" / "seed-mapping.md"

# Every setting of the seed's airflow.cfg (5.1.2) and every Airflow variable of its compose (5.1.1).
SEED_SETTINGS = [
    "[core] dags_folder", "[core] base_log_folder", "[core] logging_level", "[core] executor",
    "[core] parallelism", "[core] max_active_tasks_per_dag", "[core] max_active_runs_per_dag",
    "[scheduler] dag_dir_list_interval", "[scheduler] child_process_timeout",
    "[scheduler] catchup_by_default", "[scheduler] max_tis_per_query",
    "[webserver] web_server_port", "[webserver] web_server_host", "[webserver] secret_key",
    "[webserver] authenticate", "[webserver] auth_backend", "[email] email_backend",
    "[logging] remote_logging", "[logging] remote_base_log_folder",
    "AIRFLOW__CORE__EXECUTOR", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "AIRFLOW__CORE__FERNET_KEY",
    "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION", "AIRFLOW__CORE__LOAD_EXAMPLES",
    "AIRFLOW__API__AUTH_BACKENDS", "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK",
    "_PIP_ADDITIONAL_REQUIREMENTS",
]  # fmt: skip


def test_airflow_config_lint_finds_nothing(tmp_path: Path) -> None:
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path), "AIRFLOW_CONFIG": str(CFG)}
    done = subprocess.run(
        [str(Path(sys.executable).parent / "airflow"), "config", "lint"],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "No issues found" in done.stdout, done.stdout[-2000:]


def test_the_seed_intent_holds_under_airflow_3_names() -> None:
    cfg = configparser.ConfigParser()
    cfg.read(CFG)
    expect = {
        ("core", "executor"): "LocalExecutor",
        ("core", "parallelism"): "32",
        ("core", "max_active_tasks_per_dag"): "16",
        ("core", "max_active_runs_per_dag"): "16",
        ("core", "dags_are_paused_at_creation"): "True",
        ("core", "load_examples"): "False",
        ("logging", "logging_level"): "INFO",
        ("logging", "base_log_folder"): "/opt/airflow/logs",
        ("dag_processor", "refresh_interval"): "300",
        ("scheduler", "catchup_by_default"): "False",
        ("scheduler", "max_tis_per_query"): "512",
        ("scheduler", "enable_health_check"): "True",
        ("scheduler", "scheduler_health_check_server_port"): "8974",
        ("api", "port"): "8080",
    }
    for (section, key), value in expect.items():
        assert cfg.get(section, key) == value, (section, key)
    # Secrets never live in the file.
    for section, key in [("core", "fernet_key"), ("api", "secret_key"), ("api_auth", "jwt_secret"),
                         ("database", "sql_alchemy_conn")]:  # fmt: skip
        assert not cfg.has_option(section, key), f"[{section}] {key} must come from the environment"
    values = [cfg.get(section, key) for section in cfg.sections() for key in cfg.options(section)]
    assert "your-secret-key-here" not in values


def test_the_mapping_table_covers_every_seed_setting() -> None:
    text = MAPPING.read_text()
    main_table = text.split("\n## ")[0]  # the seed table; later sections add Airflow 3 extras
    rows = [line for line in main_table.splitlines() if line.startswith("|")]
    first_cells = [row.split("|")[1] for row in rows]
    for setting in SEED_SETTINGS:
        assert any(setting in cell for cell in first_cells), f"{setting} is not in {MAPPING.name}"
    # Each row names where it went, a value and why: four filled columns.
    for row in rows[2:]:
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        assert len(cells) == 4 and all(cells), row
    assert re.search(r"refresh_interval", text)

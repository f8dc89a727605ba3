"""A typo in config/airflow.cfg or an AIRFLOW__* variable stops `kit up` before anything starts."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kit.stack.airflow_env import airflow_environment
from kit.stack.config_check import check_config_file, check_environment
from kit.stack.secrets import load_or_create
from tests.conftest import REPO, stack_settings

CONFIG = REPO / "config" / "airflow.cfg"


def broken(tmp_path: Path, old: str, new: str) -> Path:
    """A copy of the kit's config with one edit; the edited line's number is the one checked."""
    text = CONFIG.read_text()
    assert old in text
    path = tmp_path / "airflow.cfg"
    path.write_text(text.replace(old, new, 1))
    return path


def line_of(path: Path, fragment: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if fragment in line)


def test_the_kits_config_and_its_environment_for_every_shape_are_clean(tmp_path: Path) -> None:
    assert check_config_file(CONFIG) == []
    secrets = load_or_create(tmp_path / "secrets.json")
    for shape in ({}, {"database": "postgres"}, {"database": "postgres", "executor": "celery"}):
        settings = stack_settings(tmp_path / str(len(shape)), **shape)
        assert check_environment(airflow_environment(settings, secrets)) == [], shape


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("parallelism = 32", "paralelism = 32", "[core] has no option 'paralelism'; did you mean "
         "'parallelism'?"),
        ("parallelism = 32", "parallelism = thirty-two", "[core] parallelism: 'thirty-two' is not "
         "an integer"),
        ("load_examples = False", "load_examples = nope", "'nope' is not a boolean"),
        ("logging_level = INFO", "logging_level = INFO\nbase_log_folder_typo = x",
         "[logging] has no option 'base_log_folder_typo'; did you mean 'base_log_folder'?"),
        ("[core]\n", "[core]\nbase_log_folder = /tmp/logs\n",
         "[core] has no option 'base_log_folder'; it is an option of [logging]"),
        ("[scheduler]", "[schedular]", "unknown section [schedular]; did you mean [scheduler]?"),
    ],
)  # fmt: skip
def test_a_typo_is_named_with_its_line_and_a_fix(tmp_path: Path, old, new, message) -> None:
    path = broken(tmp_path, old, new)
    problems = check_config_file(path, label="config/airflow.cfg")
    assert len(problems) == 1, problems
    fragment = new.splitlines()[-1] if "\n" in new.strip() else new.strip()
    assert problems[0].where == f"config/airflow.cfg:{line_of(path, fragment)}"
    assert message in problems[0].message


def test_a_file_that_is_not_ini_is_refused_with_its_line(tmp_path: Path) -> None:
    path = broken(tmp_path, "parallelism = 32", "parallelism = 32\nparallelism = 16")
    [problem] = check_config_file(path, label="airflow.cfg")
    assert problem.where == f"airflow.cfg:{line_of(path, 'parallelism = 16')}"
    assert "parallelism" in problem.message and "already exists" in problem.message


def test_environment_overrides_are_checked_like_the_file() -> None:
    problems = check_environment(
        {
            "AIRFLOW__CORE__PARALELISM": "8",
            "AIRFLOW__CORE__PARALLELISM": "many",
            "AIRFLOW__API_AUTH__JWT_SECRET": "x",  # an option whose name ends in _SECRET
            "AIRFLOW__CORE__FERNET_KEY_CMD": "cat /run/fernet",  # the value comes from a command
            "AIRFLOW_CONN_MY_DB": "postgres://",  # connections are not configuration
        }
    )
    assert [str(p) for p in problems] == [
        "environment variable AIRFLOW__CORE__PARALELISM: [core] has no option 'paralelism'; "
        "did you mean 'parallelism'?",
        "environment variable AIRFLOW__CORE__PARALLELISM: [core] parallelism: 'many' is not an "
        "integer",
    ]


def _project_with(tmp_path: Path, config: Path) -> Path:
    project = tmp_path / "project"
    (project / "config").mkdir(parents=True)
    shutil.copy(config, project / "config" / "airflow.cfg")
    return project


def _kit_up(project: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kit.cli", "up", "--stack", "embedded", "--quiet"],
        cwd=project,
        env={**os.environ, "KIT_PROJECT_DIR": str(project), "KIT_STATE_DIR": str(project / ".kit"),
             **env},
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip


def test_kit_up_refuses_a_typo_and_starts_nothing(tmp_path: Path) -> None:
    project = _project_with(tmp_path, broken(tmp_path, "parallelism = 32", "paralelism = 32"))
    done = _kit_up(project)
    assert done.returncode != 0
    line = line_of(project / "config" / "airflow.cfg", "paralelism")
    assert f"config/airflow.cfg:{line}: [core] has no option 'paralelism'" in done.stderr
    assert "nothing was started" in done.stderr
    assert not (project / ".kit" / "stack.json").exists(), "kit up recorded a stack it refused"
    assert not list((project / ".kit" / "run").glob("*")), "kit up started processes"


def test_kit_up_refuses_a_bad_environment_override(tmp_path: Path) -> None:
    project = _project_with(tmp_path, CONFIG)
    done = _kit_up(project, AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIM="1")
    assert done.returncode != 0
    assert "environment variable AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIM" in done.stderr
    assert "did you mean 'scheduler_idle_sleep_time'?" in done.stderr
    assert not list((project / ".kit" / "run").glob("*"))

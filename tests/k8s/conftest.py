"""The k8s tests' fixtures: the `kit` runner of tests/cli, and values made from the project's
own airflow.cfg with valid options."""

from __future__ import annotations

from pathlib import Path

import pytest

from kit.k8s.airflow_cfg import Settings, read_settings
from kit.k8s.values import Options
from tests.cli.conftest import kit  # noqa: F401  (the fixture, shared)

REPO = Path(__file__).resolve().parents[2]
AIRFLOW_CFG = REPO / "config" / "airflow.cfg"
GIT_URL = "https://git.example.org/team/project.git"


@pytest.fixture(scope="session")
def settings() -> Settings:
    return read_settings(AIRFLOW_CFG.read_text(encoding="utf-8"))


@pytest.fixture
def options() -> Options:
    return Options(
        git_url=GIT_URL, image_repository="registry.example.org/team/kit", image_tag="3.3.2-a1b2c3"
    )

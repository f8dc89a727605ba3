"""Fixtures of the tutorial tests: a project copy to run them in; the browser harness's Lab."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.conftest import chromium, lab  # noqa: F401 - JupyterLab + chromium fixtures
from tests.tutorials.project import REPO, make_project

OUTPUT = REPO / "test-output" / "tutorials"


@pytest.fixture(scope="session")
def tutorial_output() -> Path:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    return OUTPUT


@pytest.fixture(scope="module")
def tutorial_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project for the tutorials to write into (pipelines/, artifacts/, .env)."""
    return make_project(tmp_path_factory.mktemp("tutorials") / "project")

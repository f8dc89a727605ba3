"""A throw-away project for the widget tests: a notebook with a parameters cell, empty dags/."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest_pipeline import airflow_env  # noqa: F401 - fixture for DAG file previews

REPO = Path(__file__).resolve().parents[2]
SQUARE = REPO / "notebooks" / "examples" / "square.ipynb"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "notebooks").mkdir(parents=True)
    (root / "dags").mkdir()
    # The same relative path as in the repo, which the stack's workers see as the project.
    (root / "notebooks" / "examples").mkdir()
    shutil.copy(SQUARE, root / "notebooks" / "examples" / "square.ipynb")
    return root

"""Every test here loads DAG files in-process (Airflow's DagBag): a throw-away AIRFLOW_HOME."""

from __future__ import annotations

import sysconfig
from pathlib import Path

import pytest

from tests.conftest_pipeline import airflow_env  # noqa: F401 - shared fixture

SITE = Path(sysconfig.get_paths()["purelib"])
EXAMPLES = SITE / "airflow" / "example_dags"
STANDARD_EXAMPLES = SITE / "airflow" / "providers" / "standard" / "example_dags"


@pytest.fixture(autouse=True)
def _airflow(airflow_env):  # noqa: ANN001, ANN202, F811 - the shared fixture
    return airflow_env

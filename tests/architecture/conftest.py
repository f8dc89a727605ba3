from tests.conftest_pipeline import airflow_env  # noqa: F401 - shared fixture

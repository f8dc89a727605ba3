"""The kit's reports keep URLs and paths whole when the output is a pipe or a file (logs, CI)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kit.stack.base import Endpoints
from kit.summary import print_endpoints


def test_a_long_run_url_and_password_path_stay_on_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    deep = tmp_path / ("state-" + "x" * 60) / "passwords.json"
    endpoints = Endpoints("http://127.0.0.1:18080", "http://127.0.0.1:15000", "admin", deep)
    run_id = "manual__2026-12-02T04:20:37.123456+00:00_" + "a" * 40
    print_endpoints(endpoints, dag_id="a_rather_long_pipeline_name", run_id=run_id)
    lines = capsys.readouterr().out.splitlines()
    url = f"http://127.0.0.1:18080/dags/a_rather_long_pipeline_name/runs/{run_id}"
    assert len(url) > 80  # longer than a non-terminal console's width
    assert any(url in line for line in lines), lines
    assert any(str(deep) in line for line in lines), lines

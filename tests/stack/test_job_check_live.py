"""kit.stack.job_check (the Compose stack's DAG-processor and triggerer health check) against the
session stack's real triggerer: the same answers and exit codes as `airflow jobs check`, without
importing rfc3987_syntax (what it saves is measured by bench/bench_job_check.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.stack


def _check(command: list[str], env: dict[str, str], *args: str) -> tuple[int, str, bool]:
    """(exit code, last line of output, whether rfc3987_syntax was imported)."""
    done = subprocess.run(
        [*command, "--job-type", "TriggererJob", *args],
        env={**env, "PYTHONPROFILEIMPORTTIME": "1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    said = (done.stdout + done.stderr.replace("import time:", "")).strip().splitlines()
    answer = [line for line in said if "alive job" in line.lower()]
    return done.returncode, (answer or said or [""])[-1].strip(), "rfc3987_syntax" in done.stderr


def test_the_lean_job_check_answers_as_airflows_own(stack: Any) -> None:
    env = stack.environment()
    airflow = [str(Path(sys.executable).with_name("airflow")), "jobs", "check"]
    lean = [sys.executable, "-m", "kit.stack.job_check"]
    for args, code, answer in (
        (("--allow-multiple", "--limit", "0"), 0, "alive job"),
        (("--hostname", "nobody.invalid"), 1, "No alive jobs found."),
    ):
        theirs, ours = _check(airflow, env, *args), _check(lean, env, *args)
        assert theirs[:2] == ours[:2], (theirs, ours)
        assert ours[0] == code and answer in ours[1], ours
        assert theirs[2] and not ours[2], "rfc3987_syntax: imported by Airflow's, not by ours"

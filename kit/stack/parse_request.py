"""Ask Airflow to parse a DAG file now, by recording a priority-parse request in its metadata
database, as its reparse API does. The API needs a DAG it already knows; this also works for a new
file in a bundle where no DAG is known yet. The stacks run it where Airflow's database is reachable:
a local process (embedded) or a process in a container (Compose)."""

from __future__ import annotations

import subprocess
import sys

from kit.stack.base import StackError

CODE = """
import sys
from airflow.models.dagbag import DagPriorityParsingRequest
from airflow.utils.session import create_session
with create_session() as session:
    session.add(DagPriorityParsingRequest(bundle_name=sys.argv[1], relative_fileloc=sys.argv[2]))
"""


def command(
    relative_fileloc: str, bundle: str = "dags-folder", python: str = "python"
) -> list[str]:
    """The command line that records the request (Airflow importable, its database configured)."""
    return [python, "-c", CODE, bundle, relative_fileloc]


def request_parse(env: dict[str, str], relative_fileloc: str, bundle: str = "dags-folder") -> None:
    """Record the request from a local process with the stack's environment ``env``."""
    done = subprocess.run(
        command(relative_fileloc, bundle, sys.executable),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        raise StackError(
            f"could not ask Airflow to parse {relative_fileloc}:\n{done.stderr[-2000:]}"
        )

"""Ask Airflow to parse a DAG file now, by recording a priority-parse request in its metadata
database, as its reparse API does. The API needs a DAG it already knows; this also works for a new
file in a bundle where no DAG is known yet. The stacks run it where Airflow's database is reachable:
a local process (embedded) or a process in a container (Compose).

The request is a row of Airflow's private ``DagPriorityParsingRequest`` model. The process that
records it first checks the model (``priority_parse_problem``); when it does not hold, no row is
written, one log line says so, and the file is found at Airflow's next listing of the folder. The
native DAG processor runs the same check at start, for `kit status --verbose`.
"""

from __future__ import annotations

import inspect
import subprocess
import sys

from kit import fast_paths
from kit.bundle.config import BUNDLE_NAME
from kit.stack.base import StackError

PATH = "priority-parse"
EXIT_UNSUPPORTED = 3  # the recording process found the model not as expected: nothing recorded


def priority_parse_problem(model: type | None) -> str | None:
    """What does not hold of Airflow's ``DagPriorityParsingRequest`` (None: a row can be made
    with ``bundle_name`` and ``relative_fileloc``). Also run, as source, where it is recorded."""
    if model is None:
        return "Airflow has no airflow.models.dagbag.DagPriorityParsingRequest"
    columns = getattr(getattr(model, "__table__", None), "columns", None)
    names = set(columns.keys()) if columns is not None else set()
    missing = [f for f in ("bundle_name", "relative_fileloc") if f not in names]
    if missing:
        return f"Airflow's DagPriorityParsingRequest has no column {', '.join(missing)}"
    import inspect as _inspect

    params = _inspect.signature(model).parameters
    takes_any = any(p.kind is p.VAR_KEYWORD for p in params.values())
    if not takes_any and not all(f in params for f in ("bundle_name", "relative_fileloc")):
        return f"DagPriorityParsingRequest takes ({', '.join(params)}), not its two columns"
    return None


_RECORD = """
import sys
try:
    from airflow.models.dagbag import DagPriorityParsingRequest as model
except ImportError:
    model = None
problem = priority_parse_problem(model)
if problem:
    print(problem)
    sys.exit({exit})
from airflow.utils.session import create_session
with create_session() as session:
    session.add(model(bundle_name=sys.argv[1], relative_fileloc=sys.argv[2]))
"""


def code() -> str:
    """The program that checks the model and records the request (argv: bundle, file)."""
    return inspect.getsource(priority_parse_problem) + _RECORD.format(exit=EXIT_UNSUPPORTED)


def command(relative_fileloc: str, bundle: str = BUNDLE_NAME, python: str = "python") -> list[str]:
    """The command line that records the request (Airflow importable, its database configured)."""
    return [python, "-c", code(), bundle, relative_fileloc]


def outcome(returncode: int, stdout: str, stderr: str, relative_fileloc: str) -> None:
    """What a recording process's exit means: done, the fast path off (told in one line, no
    error: Airflow finds the file itself), or an error."""
    if returncode == EXIT_UNSUPPORTED:
        fast_paths.decide(PATH, stdout.strip() or "the model check failed")
        return
    if returncode != 0:
        raise StackError(f"could not ask Airflow to parse {relative_fileloc}:\n{stderr[-2000:]}")


def request_parse(env: dict[str, str], relative_fileloc: str, bundle: str = BUNDLE_NAME) -> None:
    """Record the request from a local process with the stack's environment ``env``."""
    done = subprocess.run(
        command(relative_fileloc, bundle, sys.executable),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    outcome(done.returncode, done.stdout, done.stderr, relative_fileloc)


def check_at_start() -> bool:
    """In the DAG processor, Airflow imported: check and record the model (cheap)."""
    try:
        from airflow.models.dagbag import DagPriorityParsingRequest as model
    except ImportError:
        model = None  # type: ignore[assignment,misc]
    problem = priority_parse_problem(model)
    return fast_paths.check(PATH, problem, on="a new DAG file is parsed when the kit asks")

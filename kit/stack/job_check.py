"""``python -m kit.stack.job_check --job-type TriggererJob --hostname HOST``: Airflow's own
``airflow jobs check``, with ``rfc3987_syntax`` deferred (kit.stack.lean_imports).

The Compose stack's DAG processor and triggerer have no health endpoint: their checks are this
command line, every 30 s in each container for as long as the stack runs. Airflow's console script
imports jsonschema, which builds rfc3987_syntax's Lark grammar at import (a third of the check's
CPU, bench/bench_job_check.py). The check itself, its options, output and exit codes are
Airflow's: only the import differs.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> None:
    """Run ``airflow jobs check ARGV`` after the lean import (exits as Airflow's command does)."""
    from kit.stack.lean_imports import import_airflow_cli

    import_airflow_cli()
    from airflow.__main__ import main as airflow_main

    sys.argv = ["airflow", "jobs", "check", *(sys.argv[1:] if argv is None else argv)]
    airflow_main()


if __name__ == "__main__":
    main()

"""Benchmark of the Compose stack's command-line health check: ``python -m kit.stack.job_check``
against Airflow's own ``airflow jobs check``, doing the same work.

Both run Airflow's ``jobs check`` command: its imports, its configuration, one query of the job
table. The kit's defers ``rfc3987_syntax`` (kit.stack.lean_imports); nothing else differs. The
DAG processor and the triggerer each run it every 30 s for as long as a Compose stack runs, so
its CPU is a steady cost of an idle stack. Measured here natively, against a migrated SQLite
metadata database in a temporary AIRFLOW_HOME with no job (both answer "No alive jobs found."
and exit 1), the two commands alternating so that both see the same machine.

Run: .venv/bin/python bench/bench_job_check.py   (prints the table, updates BENCHMARKS.md)
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench._report import update_section  # noqa: E402

ROUNDS = 7
ARGS = ["--job-type", "TriggererJob", "--hostname", "bench.invalid"]
AIRFLOW = [str(Path(sys.executable).with_name("airflow")), "jobs", "check", *ARGS]
KIT = [sys.executable, "-m", "kit.stack.job_check", *ARGS]


def run_once(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child) of one run; it must answer as expected."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 1 or "No alive jobs found." not in done.stderr:
        raise SystemExit(f"{command[0]}: unexpected answer {done.returncode}: {done.stderr[-800:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-job-check-") as home:
        env = {
            **os.environ,
            "AIRFLOW_HOME": home,
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "PYTHONPATH": str(REPO),
        }
        subprocess.run(
            [AIRFLOW[0], "db", "migrate"], env=env, capture_output=True, check=True, timeout=600
        )
        runs: dict[str, list[tuple[float, float]]] = {"airflow": [], "kit": []}
        run_once(AIRFLOW, env)  # warm the file cache for both
        for _ in range(ROUNDS):
            runs["airflow"].append(run_once(AIRFLOW, env))
            runs["kit"].append(run_once(KIT, env))
    med = {
        name: (statistics.median(w for w, _ in got), statistics.median(c for _, c in got))
        for name, got in runs.items()
    }
    (a_wall, a_cpu), (k_wall, k_cpu) = med["airflow"], med["kit"]
    print(f"airflow jobs check: {a_wall:.2f} s wall, {a_cpu:.2f} s CPU")
    print(f"kit.stack.job_check: {k_wall:.2f} s wall, {k_cpu:.2f} s CPU")
    print(f"ratio (kit / airflow): wall {k_wall / a_wall:.2f}, CPU {k_cpu / a_cpu:.2f}")
    per_hour = 2 * 3600 / 30  # two containers, one check every 30 s
    lines = [
        "## Compose health check: `kit.stack.job_check` against `airflow jobs check`",
        "",
        f"Median of {ROUNDS} runs each, alternating, after a warm-up. Both run Airflow's "
        "`jobs check` (imports, configuration, one query of the job table) against a migrated "
        "SQLite database with no job. The kit's defers `rfc3987_syntax`'s grammar; "
        "the work is otherwise the same. The DAG processor and the triggerer each run one "
        "every 30 s for as long as a Compose stack runs.",
        "",
        "| check | wall | CPU | CPU an hour, two containers |",
        "|---|---:|---:|---:|",
        f"| `airflow jobs check` | {a_wall:.2f} s | {a_cpu:.2f} s | {a_cpu * per_hour:.0f} s |",
        f"| `python -m kit.stack.job_check` | {k_wall:.2f} s | {k_cpu:.2f} s | "
        f"{k_cpu * per_hour:.0f} s |",
        f"| ratio (kit / airflow) | {k_wall / a_wall:.2f} | {k_cpu / a_cpu:.2f} | |",
    ]
    update_section("job-check", "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()

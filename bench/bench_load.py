"""Load: 50 concurrent runs of a small DAG and 8 concurrent ML lifecycles, at once, within the
seed's limits (`parallelism` 32, `max_active_runs_per_dag` 16, `max_active_tasks_per_dag` 16),
on the embedded (SQLite) and the native PostgreSQL stack, side by side.

For each: how many runs succeeded (a stack with a failed run keeps its logs); the limits are
checked from the task instances' own start and end times; throughput is task instances per minute
of wall time; memory is the stack's peak PSS (all its processes, kernels included), sampled every
2 s. The baseline of each ratio is the embedded
stack, measured in the same run.

    .venv/bin/python bench/bench_load.py [--small-runs 50] [--lifecycles 8]
"""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._report import update_section  # noqa: E402
from tests.load.workload import LIMITS, measure, most_at_once  # noqa: E402


def main() -> None:
    # A SIGTERM (a killed benchmark) unwinds like Ctrl-C, so each stack is taken down.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small-runs", type=int, default=50)
    parser.add_argument("--lifecycles", type=int, default=8)
    args = parser.parse_args()
    results, seen_by_shape = {}, {}
    for shape in ("embedded", "postgres"):
        root = Path(tempfile.mkdtemp(prefix=f"bench-load-{shape}-"))
        try:
            result = measure(shape, root, args.small_runs, args.lifecycles)
        except BaseException:
            print(f"{shape}: failed; its logs are kept in {root / 'state' / 'logs'}")
            raise
        if result.not_successful():  # reported in the table; the logs say why
            print(f"{shape}: runs not successful {result.not_successful()}; logs in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
        seen = most_at_once(result.runs)
        assert all(seen[name] <= limit for name, limit in LIMITS.items()), seen
        results[shape], seen_by_shape[shape] = result, seen
    base = results["embedded"]
    rows = []
    for label, which in (
        (f"{args.small_runs} runs of a 3-task chain", "small"),
        (f"{args.lifecycles} ML lifecycles", "big"),
        ("both loads together", "runs"),
    ):
        per_min = {s: r.per_minute(which) for s, r in results.items()}
        rows.append(
            f"| {label}: task instances per minute | {per_min['embedded']:.1f} | "
            f"{per_min['postgres']:.1f} | {per_min['postgres'] / per_min['embedded']:.2f} |"
        )
        walls = {s: r.wall(which) for s, r in results.items()}
        rows.append(
            f"| {label}: wall time, s | {walls['embedded']:.0f} | {walls['postgres']:.0f} | "
            f"{walls['postgres'] / walls['embedded']:.2f} |"
        )
    ok = {s: len(r.runs) - len(r.not_successful()) for s, r in results.items()}
    rows.insert(
        0,
        f"| runs that succeeded, of {len(base.runs)} | {ok['embedded']} | {ok['postgres']} | |",
    )
    peak = {s: r.peak_bytes / 2**30 for s, r in results.items()}
    rows.append(
        f"| peak memory of the stack (PSS), GiB | {peak['embedded']:.2f} | {peak['postgres']:.2f} "
        f"| {peak['postgres'] / peak['embedded']:.2f} |"
    )
    for name, limit in LIMITS.items():
        per = " (per run in Airflow 3)" if name == "max_active_tasks_per_dag" else ""
        rows.append(
            f"| most at once: {name}{per} (limit {limit}) | {seen_by_shape['embedded'][name]} | "
            f"{seen_by_shape['postgres'][name]} | |"
        )
    rows.append(
        "| most at once: tasks of one DAG, all its runs (no limit in Airflow 3) | "
        f"{seen_by_shape['embedded']['tasks_of_one_dag']} | "
        f"{seen_by_shape['postgres']['tasks_of_one_dag']} | |"
    )
    table = "\n".join(
        ["| measurement | embedded (SQLite) | native PostgreSQL | PostgreSQL / embedded |",
         "|---|---:|---:|---:|", *rows]
    )  # fmt: skip
    print(table)
    update_section(
        "load",
        "## Load: concurrent runs within the seed's limits\n\n`bench/bench_load.py`: "
        f"{args.small_runs} concurrent runs of a 3-task chain and {args.lifecycles} concurrent "
        "`ml_lifecycle` runs (4 training notebooks each), all triggered at once; wall times from "
        "the first trigger to the last run's end; `parallelism` 32 as in the seed; no limit "
        "was exceeded. Baseline: the embedded stack "
        f"({base.task_instances('small')} + {base.task_instances('big')} task instances)."
        "\n\n" + table,
    )


if __name__ == "__main__":
    main()

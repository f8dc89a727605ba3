"""Load on a busy machine: 50 concurrent runs of a small DAG and 8 concurrent ML lifecycles, at
once, within the seed's limits (`parallelism` 32, `max_active_runs_per_dag` 16,
`max_active_tasks_per_dag` 16), while a CPU-bound process per core keeps the machine busy: the
default embedded stack (PostgreSQL from the wheel) and SQLite (`kit up --sqlite`), side by side.

For each: how many runs succeeded (a stack with a failed run keeps its logs), HTTP 5xx answers
(counted by the client and in the api-server's access log); the limits are checked from the task
instances' own start and end times; throughput is task instances per minute of wall time; memory
is the stack's peak PSS (all its processes, kernels included), sampled every 2 s. The baseline of
each ratio is SQLite, measured in the same run.

    .venv/bin/python bench/bench_load.py [--small-runs 50] [--lifecycles 8] [--no-report]
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

SHAPES = {"default": "default (PostgreSQL wheel)", "sqlite": "SQLite (`kit up --sqlite`)"}


def main() -> None:
    # A SIGTERM (a killed benchmark) unwinds like Ctrl-C, so each stack is taken down.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small-runs", type=int, default=50)
    parser.add_argument("--lifecycles", type=int, default=8)
    parser.add_argument("--no-report", action="store_true", help="print only, no BENCHMARKS.md")
    args = parser.parse_args()
    results, seen_by_shape, failed = {}, {}, {}
    for shape in SHAPES:
        root = Path(tempfile.mkdtemp(prefix=f"bench-load-{shape}-"))
        try:
            result = measure(shape, root, args.small_runs, args.lifecycles)
        except Exception as exc:  # a shape that cannot finish the load is a figure too
            failed[shape] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}"
            print(f"{shape}: failed ({failed[shape]}); its logs are kept in {root}")
            continue
        if result.not_successful() or result.logged_5xx:  # in the table; the logs say why
            print(
                f"{shape}: runs not successful {result.not_successful()}, "
                f"{len(result.logged_5xx)} 5xx logged; logs kept in {root}"
            )
        else:
            shutil.rmtree(root, ignore_errors=True)
        seen = most_at_once(result.runs)
        assert all(seen[name] <= limit for name, limit in LIMITS.items()), seen
        results[shape], seen_by_shape[shape] = result, seen
    table = _table(results, seen_by_shape, failed, args) + _server_errors(results)
    print(table)
    if args.no_report:
        return
    update_section(
        "load",
        "## Load on a busy machine: concurrent runs within the seed's limits\n\n"
        f"`bench/bench_load.py`: {args.small_runs} concurrent runs of a 3-task chain and "
        f"{args.lifecycles} concurrent `ml_lifecycle` runs (4 training notebooks each), all "
        "triggered at once, while a CPU-bound process per core keeps the machine busy; wall "
        "times from the first trigger to the last run's end; `parallelism` 32 as in the seed. "
        "5xx: answers counted by the client / lines in the api-server's access log. Baseline "
        "of the ratios: SQLite, measured in the same run.\n\n" + table,
    )


def _server_errors(results: dict) -> str:
    """What the api-server logged for its 5xx answers, per shape (a few distinct lines)."""
    notes = []
    for shape, result in results.items():
        if not result.logged_5xx:
            continue
        distinct = list(dict.fromkeys(line[:240] for line in result.logged_5xx))
        quoted = "\n".join(f"    {line}" for line in distinct[:3])
        notes.append(
            f"{SHAPES[shape]}: {len(result.logged_5xx)} 5xx in the api-server's log "
            f"({len(distinct)} distinct lines; the first {min(3, len(distinct))}):\n\n{quoted}"
        )
    return "".join(f"\n\n{note}" for note in notes)


def _table(results: dict, seen_by_shape: dict, failed: dict, args: argparse.Namespace) -> str:
    def cells(fmt, value, *, ratio_too: bool = True) -> str:
        """One row's cells: each shape's figure (or why it has none), then default/SQLite."""
        got = {s: value(results[s]) for s in results}
        out = [fmt(got[s]) if s in got else f"failed: {failed[s]}" for s in SHAPES]
        ratio = (
            f"{got['default'] / got['sqlite']:.2f}"
            if ratio_too and len(got) == 2 and isinstance(got["sqlite"], float) and got["sqlite"]
            else ""
        )
        return " | ".join([*out, ratio])

    total = args.small_runs + args.lifecycles
    rows = [
        f"| runs that succeeded, of {total} | "
        + cells(str, lambda r: len(r.runs) - len(r.not_successful()))
        + " |",
        "| HTTP 5xx answers: client / api-server log | "
        + cells(str, lambda r: f"{r.client_5xx} / {len(r.logged_5xx)}")
        + " |",
    ]
    for label, which in (
        (f"{args.small_runs} runs of a 3-task chain", "small"),
        (f"{args.lifecycles} ML lifecycles", "big"),
        ("both loads together", "runs"),
    ):
        rows.append(
            f"| {label}: task instances per minute | "
            + cells(lambda v: f"{v:.1f}", lambda r, w=which: r.per_minute(w))
            + " |"
        )
        rows.append(
            f"| {label}: wall time, s | "
            + cells(lambda v: f"{v:.0f}", lambda r, w=which: float(r.wall(w)))
            + " |"
        )
    rows.append(
        "| peak memory of the stack (PSS), GiB | "
        + cells(lambda v: f"{v:.2f}", lambda r: r.peak_bytes / 2**30)
        + " |"
    )
    rows.append(
        "| machine CPU time left idle during the load | "
        + cells(lambda v: f"{v:.1%}", lambda r: r.idle_fraction, ratio_too=False)
        + " |"
    )
    rows.append(
        "| CPU time taken by the busy-machine processes, s | "
        + cells(lambda v: f"{v:.0f}", lambda r: r.busy_cpu_seconds)
        + " |"
    )
    for name, limit in LIMITS.items():
        per = " (per run in Airflow 3)" if name == "max_active_tasks_per_dag" else ""
        got = [str(seen_by_shape[s][name]) if s in seen_by_shape else "" for s in SHAPES]
        rows.append(f"| most at once: {name}{per} (limit {limit}) | {' | '.join(got)} | |")
    got = [str(seen_by_shape[s]["tasks_of_one_dag"]) if s in seen_by_shape else "" for s in SHAPES]
    rows.append(
        f"| most at once: tasks of one DAG, all its runs (no limit in Airflow 3) | "
        f"{' | '.join(got)} | |"
    )
    header = f"| measurement | {' | '.join(SHAPES.values())} | default / SQLite |"
    return "\n".join([header, "|---|---:|---:|---:|", *rows])


if __name__ == "__main__":
    main()

"""Load: 50 concurrent runs of a small DAG and 8 concurrent ML lifecycles, within the seed's limits
(`parallelism` 32, `max_active_runs_per_dag` 16, `max_active_tasks_per_dag` 16), on the embedded
(SQLite) and the native PostgreSQL stack, side by side.

For each: every run must succeed; the limits are checked from the task instances' own start and end
times; throughput is task instances per minute of wall time; memory is the stack's peak PSS (all
its processes, kernels included), sampled every 2 s. The baseline of each ratio is the embedded
stack, measured in the same run.

    .venv/bin/python bench/bench_load.py [--small-runs 50] [--lifecycles 8]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._report import update_section  # noqa: E402
from kit.client import connect  # noqa: E402
from kit.stack import EmbeddedStack  # noqa: E402
from kit.stack.airflow_env import STACK_MARKER, stack_id  # noqa: E402
from kit.stack.processes import processes_with_marker  # noqa: E402
from tests.conftest import chain_dag_source  # noqa: E402
from tests.stack._native import export_the_lifecycle, native_settings  # noqa: E402

LIMITS = {"parallelism": 32, "max_active_tasks_per_dag": 16, "max_active_runs_per_dag": 16}


def max_overlap(intervals: list[tuple[datetime, datetime]]) -> int:
    """The largest number of intervals open at one instant (an end before a start at a tie)."""
    events = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals])
    best = current = 0
    for _, step in events:
        current += step
        best = max(best, current)
    return best


class MemorySampler(threading.Thread):
    """Peak total PSS of every process of the stack (found by its environment marker)."""

    def __init__(self, stack: EmbeddedStack) -> None:
        super().__init__(daemon=True)
        self.marker = (STACK_MARKER, stack_id(stack.settings))
        self.peak = 0
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(2.0):
            total = 0
            for proc in processes_with_marker(*self.marker):
                try:
                    total += proc.memory_full_info().pss
                except psutil.Error:
                    continue
            self.peak = max(self.peak, total)


def run_all(client, dag_id: str, count: int, timeout: float) -> list:
    run_ids = [client.trigger(dag_id).run_id for _ in range(count)]
    return [client.wait(dag_id, run_id, timeout=timeout, progress=False) for run_id in run_ids]


def check_limits(runs: list) -> dict[str, int]:
    """The highest concurrency seen, per limit; raises if one was exceeded."""
    tasks = [(t.start, t.end, r.dag_id) for r in runs for t in r.tasks if t.start and t.end]
    per_dag = defaultdict(list)
    for start, end, dag_id in tasks:
        per_dag[dag_id].append((start, end))
    runs_per_dag = defaultdict(list)
    for run in runs:
        if run.start and run.end:
            runs_per_dag[run.dag_id].append((run.start, run.end))
    seen = {
        "parallelism": max_overlap([(s, e) for s, e, _ in tasks]),
        "max_active_tasks_per_dag": max(max_overlap(v) for v in per_dag.values()),
        "max_active_runs_per_dag": max(max_overlap(v) for v in runs_per_dag.values()),
    }
    for name, value in seen.items():
        assert value <= LIMITS[name], f"{name}: {value} running at once, limit {LIMITS[name]}"
    return seen


def measure(shape: str, root: Path, small_runs: int, lifecycles: int) -> dict[str, object]:
    extra = {"database": "postgres"} if shape == "postgres" else {}
    # parallelism None: config/airflow.cfg's 32, the seed's value (the tests use 8).
    stack = EmbeddedStack(native_settings(root, parallelism=None, **extra))
    sampler = MemorySampler(stack)
    try:
        stack.up(timeout=900, progress=False)
        sampler.start()
        client = connect(stack.settings.state_dir)
        chain = stack.settings.dags_dir / "kit_load_chain.py"
        chain.write_text(chain_dag_source("kit_load_chain"))
        client.make_visible("kit_load_chain", chain, timeout=300)
        lifecycle = export_the_lifecycle(stack, client, root)
        started = time.monotonic()
        small = run_all(client, "kit_load_chain", small_runs, timeout=3600)
        small_wall = time.monotonic() - started
        started = time.monotonic()
        big = run_all(client, lifecycle, lifecycles, timeout=7200)
        big_wall = time.monotonic() - started
    finally:
        sampler.stopping.set()
        stack.down()
    for run in small + big:
        assert run.state == "success", (run.dag_id, run.run_id, run.state)
    return {
        "small_tis": sum(len(r.tasks) for r in small),
        "small_wall": small_wall,
        "big_tis": sum(len(r.tasks) for r in big),
        "big_wall": big_wall,
        "seen": check_limits(small + big),
        "peak_gib": sampler.peak / 2**30,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small-runs", type=int, default=50)
    parser.add_argument("--lifecycles", type=int, default=8)
    args = parser.parse_args()
    results = {}
    for shape in ("embedded", "postgres"):
        with tempfile.TemporaryDirectory() as tmp:
            results[shape] = measure(shape, Path(tmp), args.small_runs, args.lifecycles)
    base = results["embedded"]
    rows = []
    for label, key_tis, key_wall in (
        (f"{args.small_runs} runs of a 3-task chain", "small_tis", "small_wall"),
        (f"{args.lifecycles} ML lifecycles", "big_tis", "big_wall"),
    ):
        per_min = {s: r[key_tis] / (r[key_wall] / 60) for s, r in results.items()}
        rows.append(
            f"| {label}: task instances per minute | {per_min['embedded']:.1f} | "
            f"{per_min['postgres']:.1f} | {per_min['postgres'] / per_min['embedded']:.2f} |"
        )
        walls = {s: r[key_wall] for s, r in results.items()}
        rows.append(
            f"| {label}: wall time, s | {walls['embedded']:.0f} | {walls['postgres']:.0f} | "
            f"{walls['postgres'] / walls['embedded']:.2f} |"
        )
    peak = {s: r["peak_gib"] for s, r in results.items()}
    rows.append(
        f"| peak memory of the stack (PSS), GiB | {peak['embedded']:.2f} | {peak['postgres']:.2f} "
        f"| {peak['postgres'] / peak['embedded']:.2f} |"
    )
    seen = {s: r["seen"] for s, r in results.items()}
    for name, limit in LIMITS.items():
        rows.append(
            f"| most at once: {name} (limit {limit}) | {seen['embedded'][name]} | "
            f"{seen['postgres'][name]} | |"
        )
    table = "\n".join(
        ["| measurement | embedded (SQLite) | native PostgreSQL | PostgreSQL / embedded |",
         "|---|---:|---:|---:|", *rows]
    )  # fmt: skip
    print(table)
    update_section(
        "load",
        "## Load: concurrent runs within the seed's limits\n\n`bench/bench_load.py`: "
        f"{args.small_runs} concurrent runs of a 3-task chain, then {args.lifecycles} concurrent "
        "`ml_lifecycle` runs (4 training notebooks each), `parallelism` 32 as in the seed; every "
        "run succeeded and no limit was exceeded. Baseline: the embedded stack "
        f"({base['small_tis']} + {base['big_tis']} task instances).\n\n" + table,
    )


if __name__ == "__main__":
    main()

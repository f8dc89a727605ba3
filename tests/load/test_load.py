"""The seed's load on the default embedded stack (PostgreSQL from the wheel) on a busy machine: 50
chain runs and 4 ML lifecycles triggered at once while a CPU-bound process keeps every core busy
all succeed, with no HTTP 5xx answer from the api-server, and no limit of the seed is exceeded at
any instant (from the task instances' own times).

Four lifecycles, not the benchmark's eight, to keep the suite's minutes (509 s instead of 727 s on
the 2-core machine): they still press `max_active_runs_per_dag` to its 16 and put more tasks at once
than one DAG may run (24 seen); the full load, which presses `parallelism` to its 32, is
bench/bench_load.py (SQLite beside it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.load.workload import LIMITS, measure, most_at_once


@pytest.mark.load
@pytest.mark.timeout(3600)
def test_the_seeds_load_on_a_busy_machine_succeeds_without_5xx_within_the_limits(
    tmp_path: Path,
) -> None:
    result = measure("default", tmp_path, small_runs=50, lifecycles=4)

    assert (len(result.small), len(result.big)) == (50, 4)
    assert result.not_successful() == [], "\n\n".join(result.failures)
    seen = most_at_once(result.runs)
    print(
        f"default: {result.task_instances('runs')} task instances in {result.wall('runs'):.0f} s "
        f"({result.per_minute('runs'):.1f}/min), peak {result.peak_bytes / 2**30:.2f} GiB, "
        f"most at once {seen}, busy processes took {result.busy_cpu_seconds:.0f} CPU s, "
        f"machine idle {result.idle_fraction:.1%}, "
        f"5xx: client {result.client_5xx}, api-server log {len(result.logged_5xx)}"
    )
    # The machine really was busy: no core stood idle, and the busy loops got their share.
    assert result.idle_fraction < 0.05
    assert result.busy_cpu_seconds > result.wall("runs") * 0.2
    assert result.client_5xx == 0
    assert result.logged_5xx == (), result.logged_5xx[:5]
    for name, limit in LIMITS.items():
        assert seen[name] <= limit, f"{name}: {seen[name]} at once, the limit is {limit}"
    # The load did press on the limits (else respecting them would prove nothing).
    assert seen["max_active_runs_per_dag"] == LIMITS["max_active_runs_per_dag"], seen
    assert seen["parallelism"] > LIMITS["max_active_tasks_per_dag"], seen
    assert result.peak_bytes > 2**30  # every process of the stack was counted, kernels too

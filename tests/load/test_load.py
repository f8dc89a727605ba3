"""The seed's load on the embedded (SQLite) and the native PostgreSQL stack: 50 chain runs and 8
ML lifecycles triggered at once all succeed, and no limit of the seed is exceeded at any instant
(from the task instances' own times). Figures: bench/bench_load.py, BENCHMARKS.md."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.load.workload import LIMITS, measure, most_at_once


@pytest.mark.load
@pytest.mark.timeout(3600)
@pytest.mark.parametrize("shape", ["embedded", "postgres"])
def test_the_seeds_load_finishes_within_the_seeds_limits(shape: str, tmp_path: Path) -> None:
    result = measure(shape, tmp_path, small_runs=50, lifecycles=8)

    assert (len(result.small), len(result.big)) == (50, 8)
    assert result.not_successful() == []
    seen = most_at_once(result.runs)
    print(
        f"{shape}: {result.task_instances('runs')} task instances in {result.wall('runs'):.0f} s "
        f"({result.per_minute('runs'):.1f}/min), peak {result.peak_bytes / 2**30:.2f} GiB, "
        f"most at once {seen}"
    )
    for name, limit in LIMITS.items():
        assert seen[name] <= limit, f"{name}: {seen[name]} at once, the limit is {limit}"
    # The load did press on the limits (else respecting them would prove nothing).
    assert seen["max_active_runs_per_dag"] == LIMITS["max_active_runs_per_dag"], seen
    assert seen["parallelism"] > LIMITS["max_active_tasks_per_dag"], seen
    assert result.peak_bytes > 2**30  # every process of the stack was counted, kernels too

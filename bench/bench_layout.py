"""Benchmark of the preview layout: 200 tasks (goal: under 0.5 s), against 20 tasks in the same run.

Run: .venv/bin/python bench/bench_layout.py   (prints the table, updates BENCHMARKS.md)
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._report import update_section  # noqa: E402
from kit.preview import Node, TaskGraph, layout, render_svg  # noqa: E402


def random_dag(n: int, seed: int = 7) -> TaskGraph:
    rng = random.Random(seed)
    nodes = tuple(
        Node(f"task_{i:03d}", rng.choice(["python", "bash", "notebook"])) for i in range(n)
    )
    edges = {
        (f"task_{rng.randrange(max(0, i - 20), i):03d}", f"task_{i:03d}")
        for i in range(1, n)
        for _ in range(rng.randint(1, 2))
    }
    return TaskGraph(f"random_{n}", nodes, tuple(sorted(edges)))


def median_time(fn, repeats: int = 5) -> float:  # noqa: ANN001
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    small, large = random_dag(20), random_dag(200)
    t_small = median_time(lambda: layout(small))
    t_large = median_time(lambda: layout(large))
    t_svg = median_time(lambda: render_svg(large))
    met = "met" if t_large < 0.5 else "**missed**"
    text = "\n".join([
        "## Preview layout",
        "",
        "`bench/bench_layout.py`: `kit.preview.layout` (Graphviz `dot`, layered left to right, "
        "median of 5) of a random 200-task DAG against a 20-task one, same run.",
        "",
        "| layout | time | vs 20 tasks |",
        "|---|---:|---:|",
        f"| 20 tasks (baseline) | {t_small * 1000:.1f} ms | 1.0x |",
        f"| 200 tasks | **{t_large * 1000:.1f} ms** (goal < 500 ms: {met}) | "
        f"{t_large / t_small:.1f}x |",
        f"| 200 tasks, layout + SVG | {t_svg * 1000:.1f} ms | {t_svg / t_small:.1f}x |",
    ])  # fmt: skip
    print(text)
    update_section("layout", text)


if __name__ == "__main__":
    main()

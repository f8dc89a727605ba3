"""Benchmark of ``kit import``: what the conversion and its proof cost.

``kit import`` loads the DAG file with Airflow's DagBag, serializes it, converts it to a spec,
renders the spec with the kit's code generator, loads and serializes that export, converts it
back and compares both serialized forms. The baseline does the part of that work no import can
skip, in the same run: load and serialize the source file, then load and serialize a copy of it
(the proof needs two DAGs). The ratio is what the conversion, the code generation and the
comparison add on top.

DAGs: Airflow's ``example_complex`` (plain operators), the kit's ``ml_lifecycle`` (notebook, python,
MLflow and approval tasks, a fan-out) and ``example_pipeline``.

Run: .venv/bin/python bench/bench_import.py   (prints the table, updates BENCHMARKS.md)
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench._report import update_section  # noqa: E402

ROUNDS = 5
SITE = Path(sysconfig.get_paths()["purelib"])
DAGS = {
    "example_complex (Airflow's)": SITE / "airflow" / "example_dags" / "example_complex.py",
    "ml_lifecycle (the kit's)": REPO / "dags" / "ml_lifecycle.py",
    "example_pipeline (the kit's)": REPO / "dags" / "example_pipeline.py",
}


def median_seconds(work: Callable[[], object], rounds: int = ROUNDS) -> float:
    """The median wall time of ``work`` over ``rounds`` runs, after one warm-up run."""
    work()
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="bench-import-home-"))
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    from kit.dagimport.importer import import_dag_file, pick_dag, serialize

    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        for name, source in DAGS.items():
            copy = Path(tmp) / f"copy_{source.name}"
            shutil.copy(source, copy)

            def baseline(source: Path = source, copy: Path = copy) -> None:
                serialize(pick_dag(source, None))
                serialize(pick_dag(copy, None))

            def kit_import(source: Path = source) -> None:
                import_dag_file(source, project_dir=REPO)

            base = median_seconds(baseline)
            took = median_seconds(kit_import)
            tasks = len(import_dag_file(source, project_dir=REPO).spec.tasks)
            rows.append((name, tasks, took, base))
            print(f"{name}: import {took:.3f} s, baseline {base:.3f} s, ratio {took / base:.2f}")

    lines = [
        "## `kit import`: convert, export and prove against loading both DAGs",
        "",
        f"Median of {ROUNDS} runs after a warm-up, in one process. *kit import* is the whole "
        "command's work (load, serialize, convert, render the spec, load and serialize the "
        "export, convert it back, compare). The baseline, same run, is the floor of any proof: "
        "Airflow's DagBag load and serialization of the source file and of a copy of it.",
        "",
        "| DAG | tasks | kit import | baseline: load + serialize twice | ratio |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, tasks, took, base in rows:
        lines.append(f"| {name} | {tasks} | {took:.3f} s | {base:.3f} s | {took / base:.2f} |")
    update_section("import", "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()

"""Benchmarks of the code generator.

1. validate + render + write for 10, 100 and 500 tasks;
2. DagBag import time of a generated 100-task DAG against a hand-written equivalent, same run.

Run: .venv/bin/python bench/bench_codegen.py   (prints the tables, updates BENCHMARKS.md)
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench._report import update_section  # noqa: E402


def spec_data(n: int) -> dict:
    """A layered pipeline: python and bash tasks, results passed along, one fan-out per 10."""
    tasks = []
    for i in range(n):
        upstream = [f"t{i - 1}"] if i else []
        if i >= 3 and i % 3 == 0:
            upstream.append(f"t{i - 3}")
        if i % 2:
            task = {"id": f"t{i}", "kind": "bash", "settings": {"command": f"echo {i}"}}
        else:
            kwargs = {"rows": i}
            if upstream:
                kwargs["prev"] = {"$result": upstream[0]}
            task = {
                "id": f"t{i}",
                "kind": "python",
                "settings": {"callable": "kit.runtime.examples:summarize", "kwargs": kwargs},
            }
        if i % 10 == 5:
            task["fan_out"] = {"grid": {"SEED": [1, 2, 3]}}
        task["upstream"] = upstream
        tasks.append(task)
    return {
        "dag_id": f"bench_{n}",
        "start_date": "2024-01-01",
        "schedule": "@daily",
        "params": {"n": {"type": "integer", "default": 1}},
        "tasks": tasks,
    }


def hand_written(n: int) -> str:
    """What a person would write for ``spec_data(n)`` (same tasks, edges and arguments)."""
    lines = [
        "from datetime import timedelta",
        "",
        "import pendulum",
        "",
        "from airflow.providers.standard.operators.bash import BashOperator",
        "from airflow.sdk import Param, dag, task",
        "",
        "",
        f'@dag(dag_id="hand_{n}", schedule="@daily",',
        '     start_date=pendulum.datetime(2024, 1, 1, tz="UTC"), catchup=False,',
        '     default_args={"owner": "airflow", "retries": 0,',
        '                   "retry_delay": timedelta(minutes=5)},',
        '     params={"n": Param(1, type="integer")})',
        f"def hand_{n}():",
    ]
    body = []
    for i in range(n):
        ups = [f"t{i - 1}"] if i else []
        if i >= 3 and i % 3 == 0:
            ups.append(f"t{i - 3}")
        mapped = i % 10 == 5
        if i % 2:
            if mapped:
                body.append(
                    f'    t{i} = BashOperator.partial(task_id="t{i}", bash_command="echo {i}",'
                    "        append_env=True)"
                    '.expand(env=[{"SEED": "1"}, {"SEED": "2"}, {"SEED": "3"}])'
                )
            else:
                body.append(f'    t{i} = BashOperator(task_id="t{i}", bash_command="echo {i}")')
            for up in ups:
                body.append(f"    {up} >> t{i}")
        else:
            args = "prev, " if ups else ""
            lines.append(f'    @task(task_id="t{i}")')
            lines.append(f"    def f{i}({args}{'overrides' if mapped else ''}):")
            lines.append("        from kit.runtime.examples import summarize")
            lines.append(f"        return summarize(rows={i}{', prev=prev' if ups else ''})")
            call_args = (
                f"prev={ups[0]}.output"
                if ups and int(ups[0][1:]) % 2
                else (f"prev={ups[0]}" if ups else "")
            )
            body.append(f"    t{i} = f{i}({call_args})")
            for up in ups[1:]:
                body.append(f"    {up} >> t{i}")
    lines += body
    lines += ["", "", f"hand_{n}()", ""]
    return "\n".join(lines)


def time_export(n: int, repeats: int = 3) -> float:
    from kit.codegen import export
    from kit.spec import spec_from_mapping

    spec = spec_from_mapping(spec_data(n))
    times = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            export(spec, project_dir=Path(tmp))
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def time_dagbag(path: Path, repeats: int = 7) -> float:
    from airflow.dag_processing.dagbag import DagBag

    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        bag = DagBag(dag_folder=str(path), safe_mode=False, load_op_links=False)
        times.append(time.perf_counter() - start)
        assert not bag.import_errors, bag.import_errors
        assert len(bag.dags) == 1
    return statistics.median(times)


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="kit-bench-"))
    os.environ.setdefault("AIRFLOW_HOME", str(tmp / "airflow"))
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"

    export_rows, baseline = [], None
    for n in (10, 100, 500):
        seconds = time_export(n)
        baseline = baseline or seconds
        export_rows.append(f"| {n} tasks | {seconds * 1000:.1f} ms | {seconds / baseline:.1f}x |")

    from kit.codegen import render
    from kit.spec import spec_from_mapping

    generated = tmp / "generated" / "bench_100.py"
    generated.parent.mkdir()
    generated.write_text(render(spec_from_mapping(spec_data(100))))
    hand = tmp / "hand" / "hand_100.py"
    hand.parent.mkdir()
    hand.write_text(hand_written(100))
    time_dagbag(hand, repeats=1)  # warm-up: Airflow's own imports
    # Alternated, one import of each at a time: other work on the machine falls on both.
    pairs = [(time_dagbag(hand, repeats=1), time_dagbag(generated, repeats=1)) for _ in range(7)]
    t_hand = statistics.median(h for h, _ in pairs)
    t_gen = statistics.median(g for _, g in pairs)
    ratio = t_gen / t_hand
    text = "\n".join([
        "## Code generation",
        "",
        "`bench/bench_codegen.py`: validate + render + write (`kit.codegen.export`, median of 3) "
        "of a layered pipeline of python and bash tasks with a fan-out every 10 tasks, against "
        "its 10-task time; and Airflow's DagBag import of the generated 100-task DAG against a "
        "hand-written equivalent (same tasks, edges and arguments), 7 of each, alternated; "
        "medians.",
        "",
        "| validate + render + write | time | vs 10 tasks |",
        "|---|---:|---:|",
        *export_rows,
        "",
        "| DagBag import, 100-task DAG | time |",
        "|---|---:|",
        f"| hand-written equivalent (baseline) | {t_hand * 1000:.1f} ms |",
        f"| generated by the kit | {t_gen * 1000:.1f} ms |",
        f"| ratio generated / hand-written | **{ratio:.2f}** (goal ≤ 1.1: "
        f"{'met' if ratio <= 1.1 else '**missed**'}) |",
    ])  # fmt: skip
    print(text)
    update_section("codegen", text)


if __name__ == "__main__":
    main()

"""Notebooks at scale, side by side: N runs of one small notebook as one mapped task, on the
kit's embedded stack (its `notebook` task kind, fanned out over a grid) against the same notebook
run by Airflow's own `PapermillOperator` (mapped with `expand_kwargs`) on `airflow standalone`,
in the same run, at the same `parallelism` on both sides.

For each N: the wall time from the trigger to the run's end (Airflow's end date), the per-task
overhead, the median task duration (Airflow's), and the peak memory of each stack (the sum of the
PSS of all its processes, kernels included, sampled every second during the run).

    .venv/bin/python bench/bench_notebook_scale.py [--sizes 10,100,500] [--kit-only 500]
        [--parallelism 8] [--no-report]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import nbformat
import psutil
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._report import update_section  # noqa: E402
from bench.bench_stack import Standalone  # noqa: E402
from kit.client import connect  # noqa: E402
from kit.client.airflow import AirflowClient  # noqa: E402
from kit.client.errors import ServerDown  # noqa: E402
from kit.codegen import export  # noqa: E402
from kit.stack import EmbeddedStack  # noqa: E402
from kit.stack.airflow_env import STACK_MARKER, stack_id  # noqa: E402
from kit.stack.processes import processes_with_marker, session_members  # noqa: E402
from tests.conftest import REPO, stack_settings  # noqa: E402
from tests.runtime.conftest import write_notebook  # noqa: E402

GOAL_N, GOAL_RATIO = 100, 0.5
PARAMETERS = "i = 0"
WORK = "total = sum(range(10_000)) + i\nprint(total)"

PAPERMILL_DAG = """\
import pendulum

from airflow.providers.papermill.operators.papermill import PapermillOperator
from airflow.sdk import DAG

with DAG(
    dag_id={dag_id!r},
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
):
    PapermillOperator.partial(task_id="nb", input_nb={notebook!r}).expand_kwargs(
        [{{"output_nb": f"{out}/nb[{{i}}].ipynb", "parameters": {{"i": i}}}} for i in range({n})]
    )
"""


@dataclass
class Result:
    """One run of N notebook tasks."""

    n: int
    wall: float  # trigger to the run's end, s
    cells: float  # the notebooks' cells' own execution time, summed over the N notebooks, s
    median_task: float  # Airflow's task instance duration, median, s
    peak_mib: float  # peak of the stack's total PSS during the run
    idle_mib: float  # the stack's total PSS just before the trigger
    parallelism: int

    @property
    def overhead(self) -> float:
        """Seconds of wall time each task adds beyond its cells' work, ``parallelism`` at once:
        (wall - cells / parallelism) / N."""
        return (self.wall - self.cells / self.parallelism) / self.n


class PeakMemory(threading.Thread):
    """Peak total PSS of ``processes()``, sampled every ``every`` seconds while running."""

    def __init__(self, processes: Callable[[], list[psutil.Process]], every: float = 1.0) -> None:
        super().__init__(daemon=True)
        self.processes, self.every = processes, every
        self.peak = 0
        self.stopping = threading.Event()

    def total(self) -> int:
        found = {p.pid: p for p in self.processes()}
        total = 0
        for proc in found.values():
            with contextlib.suppress(psutil.Error):
                total += proc.memory_full_info().pss
        return total

    def run(self) -> None:
        while not self.stopping.is_set():
            self.peak = max(self.peak, self.total())
            self.stopping.wait(self.every)

    def __enter__(self) -> PeakMemory:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.join()


def cell_seconds(notebooks: list[Path]) -> float:
    """The cells' own execution time (papermill's per-cell ``duration``) over ``notebooks``."""
    total = 0.0
    for path in notebooks:
        book = nbformat.read(path, as_version=4)
        for cell in book.cells:
            total += float(cell.get("metadata", {}).get("papermill", {}).get("duration") or 0.0)
    return total


def finished(client: AirflowClient, dag_id: str, run_id: str) -> bool:
    """Whether the run has ended; an api-server too busy to answer (the run goes on without
    us: its wall time is read from its own end date) is asked again."""
    try:
        return client.get_run(dag_id, run_id, with_tasks=False).finished
    except ServerDown as exc:
        print(f"{dag_id}: {exc}; asking again", flush=True)
        return False


def run_once(
    client: AirflowClient,
    dag_id: str,
    n: int,
    processes: Callable[[], list[psutil.Process]],
    outputs: Callable[[str], list[Path]],
    parallelism: int,
) -> Result:
    """Trigger ``dag_id`` (N mapped notebook tasks), wait for its end; the run's figures."""
    with PeakMemory(processes) as memory:
        idle = memory.total()
        triggered = datetime.now(UTC)
        run_id = client.trigger(dag_id).run_id
        deadline = time.monotonic() + 120 + 20 * n
        while not finished(client, dag_id, run_id):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{dag_id} {run_id} not done in time")
            time.sleep(1.0)
    run = client.get_run(dag_id, run_id)
    done = [t for t in run.tasks if t.state == "success"]
    if run.state != "success" or len(done) != n:
        raise RuntimeError(f"{dag_id}: run {run.state}, {len(done)} of {n} tasks succeeded")
    found = outputs(run_id)
    if len(found) != n:
        raise RuntimeError(f"{dag_id}: {len(found)} output notebooks, expected {n}")
    assert run.end is not None
    return Result(
        n=n,
        wall=(run.end - triggered).total_seconds(),
        cells=cell_seconds(found),
        median_task=statistics.median(t.duration or 0.0 for t in done),
        peak_mib=memory.peak / 2**20,
        idle_mib=idle / 2**20,
        parallelism=parallelism,
    )


def kit_spec(n: int, notebook: Path) -> dict:
    """One notebook task fanned out over ``i`` in 0..N-1: N mapped task instances."""
    return {
        "dag_id": f"scale_kit_{n}",
        "tasks": [
            {
                "id": "nb",
                "kind": "notebook",
                "settings": {"notebook": str(notebook), "parameters": {"i": 0}},
                "fan_out": {"grid": {"i": list(range(n))}},
            }
        ],
    }


def on_the_kit(root: Path, notebook: Path, sizes: list[int], parallelism: int) -> list[Result]:
    stack = EmbeddedStack(stack_settings(root / "kit", parallelism=parallelism))
    marker = (STACK_MARKER, stack_id(stack.settings))

    def processes() -> list[psutil.Process]:
        return session_members(stack.pids.all()) + processes_with_marker(*marker)

    results = []
    try:
        stack.up(timeout=600, progress=False, wait="all")
        client = connect(stack.settings.state_dir, timeout=120)  # as standalone's below
        for n in sizes:
            spec = root / f"scale_kit_{n}.yaml"
            spec.write_text(yaml.safe_dump(kit_spec(n, notebook)))
            made = export(spec, project_dir=REPO, dags_dir=stack.settings.dags_dir,
                          pipelines_dir=root / "pipelines")  # fmt: skip
            client.make_visible(made.dag_id, made.dag_path, timeout=300)
            artifacts = REPO / "artifacts" / made.dag_id
            try:
                results.append(run_once(
                    client, made.dag_id, n, processes,
                    lambda run_id, a=artifacts: sorted((a / run_id).glob("nb[[]*.ipynb")),
                    parallelism,
                ))  # fmt: skip
            finally:
                shutil.rmtree(artifacts, ignore_errors=True)
            print(f"kit, N={n}: {results[-1]}", flush=True)
    finally:
        stack.down()
    return results


def on_standalone(root: Path, notebook: Path, sizes: list[int], parallelism: int) -> list[Result]:
    alone = Standalone(root / "standalone")
    alone.env["AIRFLOW__CORE__PARALLELISM"] = str(parallelism)
    for n in sizes:  # written before the start: its DAG processor parses them as it starts
        out = root / "standalone" / "out" / str(n)
        out.mkdir(parents=True)
        source = PAPERMILL_DAG.format(
            dag_id=f"scale_papermill_{n}", notebook=str(notebook), out=str(out), n=n
        )
        (root / "standalone" / "dags" / f"scale_papermill_{n}.py").write_text(source)
    results = []
    try:
        alone.start()
        passwords = root / "standalone" / "home" / "simple_auth_manager_passwords.json.generated"
        password = json.loads(passwords.read_text())["admin"]
        client = AirflowClient(alone.url, "admin", password, timeout=120)
        for n in sizes:
            dag_id = f"scale_papermill_{n}"
            deadline = time.monotonic() + 300
            while not any(d.dag_id == dag_id for d in client.list_dags()):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"standalone did not load {dag_id}; see {alone.log}")
                time.sleep(1.0)
            out = root / "standalone" / "out" / str(n)
            results.append(run_once(
                client, dag_id, n, alone.family,
                lambda _run_id, o=out: sorted(o.glob("nb[[]*.ipynb")), parallelism,
            ))  # fmt: skip
            print(f"standalone, N={n}: {results[-1]}", flush=True)
    finally:
        alone.kill()
    return results


def report(kit: list[Result], alone: list[Result], kit_only: list[int], parallelism: int) -> str:
    """The section: the table, the ratio at each N, growth with N, and the goal."""
    by_n = {r.n: r for r in alone}
    rows = []
    for k in kit:
        a = by_n.get(k.n)
        if a is None:
            why = "not run"
            if by_n:
                last = max(by_n)
                per_task = by_n[last].wall / last
                why = f"not run (at N={last}: {per_task:.1f} s per task; ~{per_task * k.n:.0f} s)"
            rows.append(
                f"| {k.n} | {k.wall:.1f} | {why} | | {k.overhead:.2f} | | {k.median_task:.2f} | "
                f"| {k.peak_mib:.0f} | | |"
            )
            continue
        rows.append(
            f"| {k.n} | {k.wall:.1f} | {a.wall:.1f} | **{k.wall / a.wall:.2f}** | "
            f"{k.overhead:.2f} | {a.overhead:.2f} | {k.median_task:.2f} | {a.median_task:.2f} | "
            f"{k.peak_mib:.0f} | {a.peak_mib:.0f} | {k.peak_mib / a.peak_mib:.2f} |"
        )
    table = [
        "| N | kit wall, s | standalone + PapermillOperator wall, s | kit / standalone | "
        "kit overhead per task, s | standalone's | kit median task, s | standalone's | "
        "kit peak MiB | standalone peak MiB | kit / standalone |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        *rows,
    ]
    first_k, first_a = kit[0], (alone[0] if alone else None)
    growth = ["| N | kit wall ×, vs N=" + str(first_k.n) + " | standalone's | kit peak memory × "
              "| standalone's |", "|---:|---:|---:|---:|---:|"]  # fmt: skip
    for k in kit:
        a = by_n.get(k.n)
        a_wall = f"{a.wall / first_a.wall:.1f}" if a and first_a else ""
        a_mem = f"{a.peak_mib / first_a.peak_mib:.2f}" if a and first_a else ""
        growth.append(
            f"| {k.n} | {k.wall / first_k.wall:.1f} | {a_wall} | "
            f"{k.peak_mib / first_k.peak_mib:.2f} | {a_mem} |"
        )
    k100, a100 = next((k for k in kit if k.n == GOAL_N), None), by_n.get(GOAL_N)
    if k100 and a100:
        ratio = k100.wall / a100.wall
        verdict = "met" if ratio <= GOAL_RATIO else "missed"
        goal = (
            f"Goal: at N = {GOAL_N} the kit takes at most {GOAL_RATIO:.2f} of standalone + "
            f"PapermillOperator's wall time: **{ratio:.2f}: {verdict}**."
        )
    else:
        goal = f"Goal (N = {GOAL_N}, kit ≤ {GOAL_RATIO:.2f} of standalone): not measured."
    idle = (
        f"Idle, just before the first trigger: the kit's stack {first_k.idle_mib:.0f} MiB"
        + (f", standalone {first_a.idle_mib:.0f} MiB" if first_a else "")
        + "."
    )
    only = (
        f" N = {', '.join(map(str, kit_only))} ran on the kit only (asked with --kit-only: "
        "standalone's estimate is its per-task wall time at its largest N times N)."
        if kit_only
        else ""
    )
    return "\n\n".join([
        "## Notebooks at scale: the kit against standalone + PapermillOperator",
        "`bench/bench_notebook_scale.py`: N runs of one small notebook (a parameter `i`, one cell "
        "summing 10 000 numbers) as one mapped task: on the kit's embedded stack (default "
        "shape, its `notebook` kind fanned out over `i`; each task also tracks an MLflow run and "
        "renders the output notebook's HTML page) and by `PapermillOperator` "
        "(apache-airflow-providers-papermill, `expand_kwargs`) on `airflow standalone` (SQLite, "
        f"LocalExecutor), one after the other in the same run; `parallelism` {parallelism} on "
        "both (below the stacks' 16 tasks at once per run). Wall: from the trigger to the run's "
        "end date. Overhead per task: (wall − the cells' own execution time / parallelism) / N, "
        "the cells' time read from papermill's per-cell durations in the N output notebooks. "
        "Median task: Airflow's task instance durations. Peak memory: the sum of the PSS of all "
        "of the stack's processes (kernels included), sampled every second during the run."
        + only,
        "\n".join(table),
        "How each grows with N (against the smallest N):\n\n" + "\n".join(growth),
        idle + " " + goal,
    ])  # fmt: skip


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwinds: stacks taken down
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,500", help="N, comma-separated")
    parser.add_argument("--kit-only", default="", help="sizes run on the kit only")
    parser.add_argument("--parallelism", type=int, default=8)
    parser.add_argument("--no-report", action="store_true", help="print only, no BENCHMARKS.md")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    kit_only = [int(s) for s in args.kit_only.split(",") if s]
    with tempfile.TemporaryDirectory(prefix="bench-nb-scale-") as tmp:
        root = Path(tmp)
        notebook = write_notebook(root / "small.ipynb", PARAMETERS, WORK)
        kit = on_the_kit(root, notebook, sorted(set(sizes) | set(kit_only)), args.parallelism)
        alone = on_standalone(root, notebook, [n for n in sizes if n not in kit_only],
                              args.parallelism)  # fmt: skip
    text = report(kit, alone, kit_only, args.parallelism)
    print(text)
    if not args.no_report:
        update_section("notebook-scale", text)


if __name__ == "__main__":
    main()

"""Benchmark of the designer's live preview: after an edit of a 200-task pipeline, how long until
validation + layout + SVG are back (goal: under 300 ms).

Two kinds of edit: a setting (the graph is unchanged, so the cached layout is reused) and a link
(the graph changes, so Graphviz lays it out again). Both go through ``PreviewEngine.preview``,
the call the designer makes on every change: as in tests and scripts (the layout waited for),
and as in a kernel (a loop runs: the preview comes back drawn on the previous layout, the new
layout follows from the background). Reference rows in the same run: dot alone, and the layout
as read before (shlex), so that the machine's load affects both sides alike.

Run: .venv/bin/python bench/bench_preview.py   (figures also go to BENCHMARKS.md)
"""

from __future__ import annotations

import asyncio
import os
import random
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kit.preview.graph import TaskGraph  # noqa: E402
from kit.preview.layout import dot_executable, dot_source, layout  # noqa: E402
from kit.widgets.draft import PipelineDraft  # noqa: E402
from kit.widgets.preview import PreviewEngine  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
GOAL_MS = 300.0
ROUNDS = 15
NOTES = """\
Where a link edit's time went: `dot` itself lays out these 200 tasks in about 15 ms (`dot -v`);
starting it costs as much again, and reading its output with `shlex` cost more than both (the
last reference row). The output is now split on whitespace (every field read is a name we chose
or a number). Cheaper `dot` settings (`nslimit`, `mclimit`, `remincross=false`, `searchsize`,
`splines=line`/`false`) were tried on this graph: at most 4 ms less, for worse drawings, so the
settings stay. In a kernel, from 50 tasks on, a link edit no longer waits for `dot` at all: the
preview comes back drawn on the previous positions (new links dashed, "laying out the new
links…"), one `dot` runs in the background for the latest graph only, and its layout replaces
the drawing when ready."""


def pipeline(project: Path, n: int = 200, seed: int = 7) -> PipelineDraft:
    """n tasks of the three built-in kinds, each linked to 1-2 of the 20 tasks before it."""
    rng = random.Random(seed)
    draft = PipelineDraft({"dag_id": "bench_200", "schedule": "@daily", "start_date": "2024-01-01"})
    draft.set_param("rows", {"type": "integer", "default": 100})
    for i in range(n):
        kind = rng.choice(["python", "bash", "notebook"])
        task_id = draft.add_task(kind, f"task_{i:03d}")
        if kind == "python":
            draft.set_setting(task_id, "callable", "kit.runtime.examples:make_dataset")
            draft.set_setting(task_id, "kwargs", {"rows": {"$param": "rows"}, "seed": i})
        elif kind == "bash":
            draft.set_setting(task_id, "command", f"echo {i}")
        else:
            draft.set_setting(task_id, "notebook", "notebooks/examples/square.ipynb")
            draft.set_setting(task_id, "parameters", {"x": i, "label": f"t{i}"})
        if i:
            ups = {f"task_{rng.randrange(max(0, i - 20), i):03d}" for _ in range(rng.randint(1, 2))}
            draft.set_task(task_id, "upstream", sorted(ups))
    return draft


def measure(engine: PreviewEngine, draft: PipelineDraft, edit) -> list[float]:
    times = []
    for round_ in range(ROUNDS):
        edit(draft, round_)
        started = time.perf_counter()
        preview = engine.preview(draft)
        times.append((time.perf_counter() - started) * 1000)
        assert preview.svg and preview.build.spec is not None
    return times


def measure_background(
    engine: PreviewEngine, draft: PipelineDraft, edit
) -> tuple[list[float], list[float]]:
    """As in a kernel: time until the preview is back (provisional drawing), and until the real
    layout is drawn (the designer's ``on_layout`` redraw included)."""
    back, final = [], []

    async def rounds() -> None:
        for round_ in range(ROUNDS):
            edit(draft, round_)
            ready = asyncio.Event()
            started = time.perf_counter()
            preview = engine.preview(draft, on_layout=ready.set)
            back.append((time.perf_counter() - started) * 1000)
            assert preview.pending
            await ready.wait()
            engine.draw(preview.build.graph, preview.build)
            final.append((time.perf_counter() - started) * 1000)

    asyncio.run(rounds())
    return back, final


def shlex_layout(graph: TaskGraph) -> list[list[str]]:
    """dot, then its output split with shlex: the layout's cost until now (for reference)."""
    done = subprocess.run(
        [dot_executable(), "-Tplain"],
        input=dot_source(graph),
        capture_output=True,
        text=True,
        check=True,
    )
    return [shlex.split(line) for line in done.stdout.splitlines()]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        (project / "notebooks" / "examples").mkdir(parents=True)
        (project / "dags").mkdir()
        shutil.copy(
            REPO / "notebooks" / "examples" / "square.ipynb", project / "notebooks" / "examples"
        )
        draft = pipeline(project)
        engine = PreviewEngine(project, project / "dags")
        first = engine.preview(draft)
        assert not first.build.errors, first.build.errors[:3]

        def edit_setting(d: PipelineDraft, i: int) -> None:
            d.set_setting(
                "task_100",
                "command" if d.task("task_100")["kind"] == "bash" else "kwargs",
                f"echo {i}" if d.task("task_100")["kind"] == "bash" else {"seed": i},
            )

        def edit_link(d: PipelineDraft, i: int) -> None:
            # Toggle a link: a new graph every round, so dot runs every time.
            ups = set(d.task("task_199").get("upstream", []))
            ups ^= {f"task_{150 + i:03d}"}
            d.set_task("task_199", "upstream", sorted(ups))

        runs_before = engine.layout_runs
        setting = measure(engine, draft, edit_setting)
        assert engine.layout_runs == runs_before  # the cached layout was reused
        link = measure(engine, draft, edit_link)
        assert engine.layout_runs == runs_before + ROUNDS
        link_back, link_final = measure_background(
            engine, draft, lambda d, i: edit_link(d, ROUNDS + i)
        )
        # Same run, same graph: Graphviz alone, to separate its share from the designer's.
        graph = draft.graph()
        dot_alone, before = [], []
        for _ in range(ROUNDS):
            started = time.perf_counter()
            layout(graph)
            dot_alone.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            shlex_layout(graph)
            before.append((time.perf_counter() - started) * 1000)
        load = os.getloadavg()[0]

    def row(name: str, times: list[float]) -> str:
        med, worst = statistics.median(times), max(times)
        verdict = "ok" if med < GOAL_MS else "OVER"
        return f"| {name} | {med:.1f} ms | {worst:.1f} ms | {verdict} |"

    table = "\n".join(
        [
            "| edit of a 200-task pipeline → preview back | median | worst | median < 300 ms |",
            "|---|---|---|---|",
            row("a setting (layout cached)", setting),
            row("a link, layout waited for (tests, scripts)", link),
            row("a link in a kernel: preview back (previous layout, new links dashed)", link_back),
            row("a link in a kernel: real layout drawn (background dot)", link_final),
            row("(reference: `kit.preview.layout` alone, same graph)", dot_alone),
            row("(reference: the same layout read with shlex, as before)", before),
        ]
    )
    text = (
        "## Designer preview\n\n"
        "`.venv/bin/python bench/bench_preview.py` — validation (incl. notebook and dags/ checks) "
        f"+ layout + SVG with invalid-task marks, {ROUNDS} edits each, 2-core VM "
        f"(1-min load average {load:.1f} during the run).\n\n{table}\n\n{NOTES}\n"
    )
    print(text)
    from bench._report import update_section

    update_section("preview", text)


if __name__ == "__main__":
    main()

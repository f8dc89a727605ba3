"""Benchmark of the pipeline canvas (kit/widgets/canvas): how long an edit of a 20- and a
200-task pipeline takes to redraw (goal: 300 ms at 200 tasks, as the preview's).

Two halves, measured separately since a kernel and a browser share the work:

- Python: ``canvas_graph`` (the JSON the canvas draws) after a link edit (``dot`` lays the graph
  out again) and after any other edit (problems, states: the cached layout is reused);
- the browser: the canvas's front end (``front_end()``, its JS parts joined) in Debian's
  headless chromium, on a page of its own with a stand-in for the widget model (no JupyterLab,
  so no kernel round trip in the figure): the first draw, an edit's redraw (positions move, a
  link and a mark appear: keyed by id, only changes are touched) and a run-state update;
  ``script`` is what the canvas reports as ``last_redraw_ms`` (its DOM work plus the browser's
  style and layout), ``frame`` runs until the next painted frame.

Run: .venv/bin/python bench/bench_canvas.py   (prints a table; BENCHMARKS.md is not touched)
"""

from __future__ import annotations

import base64
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kit.widgets.canvas import CanvasTask, canvas_graph, front_end  # noqa: E402
from kit.widgets.canvas import graph as canvas_module  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
CANVAS = REPO / "kit" / "widgets" / "canvas"
CHROMIUM = Path("/usr/bin/chromium")
GOAL_MS = 300.0
ROUNDS = 15
SIZES = (20, 200)

# A stand-in for the anywidget model: get/set/on/off/save_changes/send, change events fired on
# set as Backbone does.
HARNESS = """
window.kitCanvas = async (esmBase64, state) => {
  const module = await import("data:text/javascript;base64," + esmBase64);
  const handlers = new Map();
  const model = {
    state: { ...state }, sent: [],
    get(key) { return this.state[key]; },
    set(key, value) {
      const old = this.state[key];
      this.state[key] = value;
      if (old !== value) for (const fn of handlers.get("change:" + key) || []) fn();
    },
    on(name, fn) { if (!handlers.has(name)) handlers.set(name, []); handlers.get(name).push(fn); },
    off(name, fn) { handlers.set(name, (handlers.get(name) || []).filter((f) => f !== fn)); },
    save_changes() {},
    send(content) { this.sent.push(content); },
  };
  const el = document.getElementById("host");
  el.replaceChildren(); // one canvas at a time
  module.default.render({ model, el });
  window.kitModel = model;
};
window.kitRedraw = async (graph, mode) => {
  const model = window.kitModel;
  if (mode) model.state.mode = mode;
  const started = performance.now();
  model.set("graph", graph);
  await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
  return { script: model.get("last_redraw_ms"), frame: performance.now() - started };
};
"""


def pipeline(n: int, seed: int = 7) -> tuple[list[CanvasTask], list[tuple[str, str]]]:
    """n tasks of the three built-in kinds, each linked to 1-2 of the 20 tasks before it."""
    rng = random.Random(seed)
    tasks = [
        CanvasTask(f"task_{i:03d}", rng.choice(["python", "bash", "notebook"])) for i in range(n)
    ]
    links: list[tuple[str, str]] = []
    for i in range(1, n):
        for j in rng.sample(range(max(0, i - 20), i), k=min(i, rng.choice([1, 2]))):
            links.append((f"task_{j:03d}", f"task_{i:03d}"))
    return tasks, links


def median_ms(fn, rounds: int = ROUNDS) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def python_side(n: int) -> dict[str, float]:
    tasks, links = pipeline(n)
    extra = (tasks[0].id, tasks[-1].id)

    def link_edit() -> None:
        canvas_module._layouts.clear()  # as after a new link: dot runs
        canvas_graph(tasks, [*links, extra])

    canvas_graph(tasks, links)
    return {
        "link edit (dot)": median_ms(link_edit),
        "other edit (cached layout)": median_ms(
            lambda: canvas_graph(tasks, links, problems={tasks[1].id: "bad"})
        ),
    }


def start_canvas(page) -> None:
    """A fresh canvas on the harness page, with an empty graph."""
    esm = base64.b64encode(front_end().encode()).decode()
    page.evaluate(
        "([esm, state]) => window.kitCanvas(esm, state)",
        [
            esm,
            {
                "graph": {},
                "mode": "edit",
                "selected": "",
                "palette": {},
                "message": "",
                "can_undo": True,
                "can_redo": False,
                "height": "600px",
                "redraws": 0,
            },
        ],
    )


def redraw(page, graph: dict[str, Any], mode: str | None = None) -> dict[str, float]:
    """Give the canvas ``graph`` (as a sync from Python does): ``script`` (what the canvas reports
    as ``last_redraw_ms``) and ``frame`` (until the next painted frame), in ms."""
    if mode is None:
        return page.evaluate("g => window.kitRedraw(g)", graph)
    return page.evaluate("([g, m]) => window.kitRedraw(g, m)", [graph, mode])


@contextmanager
def canvas_page() -> Iterator[Any]:
    """Headless chromium on a page with the canvas's CSS and the stand-in model (a Playwright
    page; the browser is closed after the block)."""
    from playwright.sync_api import sync_playwright

    css = (CANVAS / "canvas.css").read_text()
    with tempfile.TemporaryDirectory() as profile, sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(
            profile,
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"],
            viewport={"width": 1400, "height": 900},
        )
        try:
            page = browser.new_page()
            page.set_content(
                f"<html><head><style>{css}</style></head>"
                '<body><div id="host" style="width:1200px"></div>'
                f"<script>{HARNESS}</script></body></html>"
            )
            yield page
        finally:
            browser.close()


def browser_side(page, n: int) -> dict[str, dict[str, float]]:
    tasks, links = pipeline(n)
    extra = (tasks[0].id, tasks[-1].id)
    before = canvas_graph(tasks, links)
    after = canvas_graph(tasks, [*links, extra], problems={tasks[1].id: "bad"})
    states = canvas_graph(
        tasks,
        links,
        states={t.id: ("success", "running", "queued")[i % 3] for i, t in enumerate(tasks)},
    )
    start_canvas(page)
    results: dict[str, list[dict[str, float]]] = {"first draw": [], "edit": [], "run states": []}
    for _ in range(ROUNDS):
        redraw(page, {"nodes": [], "edges": []}, "edit")
        results["first draw"].append(redraw(page, before))
        results["edit"].append(redraw(page, after))
        results["edit"].append(redraw(page, before))
        results["run states"].append(redraw(page, states, "run"))
        page.evaluate("() => { window.kitModel.state.mode = 'edit'; }")
    drawn = page.locator(".kit-node").count()
    assert drawn == n, f"{drawn} nodes drawn for {n} tasks"
    return {
        name: {key: statistics.median(r[key] for r in rows) for key in ("script", "frame")}
        for name, rows in results.items()
    }


def main() -> None:
    rows: list[tuple[int, str, str, float]] = []
    for n in SIZES:
        for name, ms in python_side(n).items():
            rows.append((n, "python: canvas_graph", name, ms))
    with canvas_page() as page:
        for n in SIZES:
            for name, figures in browser_side(page, n).items():
                rows.append((n, "browser: script", name, figures["script"]))
                rows.append((n, "browser: frame", name, figures["frame"]))

    print(
        f"Pipeline canvas redraw, median of {ROUNDS} rounds (ms); goal at 200 tasks: {GOAL_MS:.0f}"
    )
    print(f"{'tasks':>5}  {'where':<22} {'what':<28} {'ms':>8}")
    for n, where, what, ms in rows:
        print(f"{n:>5}  {where:<22} {what:<28} {ms:>8.1f}")
    by = {(n, where, what): ms for n, where, what, ms in rows}
    for n in SIZES:
        total = (
            by[(n, "python: canvas_graph", "link edit (dot)")] + by[(n, "browser: frame", "edit")]
        )
        verdict = "within the goal" if total <= GOAL_MS else "OVER the goal"
        print(f"{n:>5} tasks: a link edit, Python + browser frame = {total:.1f} ms ({verdict})")


if __name__ == "__main__":
    main()

"""Run view logic: states, colours, progress, the API's task graph, marks on the SVG (pure)."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from kit.client.models import DagRun, TaskRun
from kit.preview.graph import Node, TaskGraph
from kit.preview.svg import render_svg
from kit.widgets.codeview import diff_html, diff_summary, diff_text
from kit.widgets.runview import (
    INVALID_STYLE,
    SVG_NS,
    aggregate_state,
    graph_from_api_tasks,
    mark_svg,
    mlflow_run_url,
    outputs_from_result,
    run_progress,
    state_style,
    task_states,
)


def ti(task_id: str, state: str | None, map_index: int = -1) -> TaskRun:
    return TaskRun(task_id, map_index, state, 1, None, None, None, None)


def test_mapped_instances_show_the_most_telling_state() -> None:
    assert aggregate_state(["success", "running", "success"]) == "running"
    assert aggregate_state(["success", "failed", "running"]) == "failed"
    assert aggregate_state(["success", "success"]) == "success"
    assert aggregate_state([None, "success"]) == "none"
    assert aggregate_state([]) == "none"
    states = task_states([ti("a", "success"), ti("b", "success", 0), ti("b", "queued", 1)])
    assert states == {"a": "success", "b": "queued"}


def test_state_colours_differ_and_unknown_states_fall_back() -> None:
    assert state_style("success").fill != state_style("failed").fill
    assert state_style("something new") == state_style(None)


def test_progress_counts_finished_instances() -> None:
    run = DagRun("d", "r", "running", tasks=(ti("a", "success"), ti("b", "running")))
    progress = run_progress(run, expected_tasks=3)
    assert (progress.done, progress.total, progress.failed) == (1, 3, 0)
    done = DagRun("d", "r", "failed", tasks=(ti("a", "success"), ti("b", "failed")))
    assert run_progress(done).fraction == 1.0 and run_progress(done).failed == 1


def test_graph_from_the_api_task_list() -> None:
    graph = graph_from_api_tasks(
        "d",
        [
            {"task_id": "b", "downstream_task_ids": [], "operator_name": "@task"},
            {"task_id": "a", "downstream_task_ids": ["b", "gone"], "is_mapped": True},
        ],
    )
    assert [n.id for n in graph.nodes] == ["a", "b"]
    assert graph.edges == (("a", "b"),)
    assert graph.node("a").mapped


def test_mark_svg_recolours_the_task_boxes_and_keeps_the_rest() -> None:
    graph = TaskGraph("d", (Node("a", "bash"), Node("b", "python", True)), (("a", "b"),))
    svg = render_svg(graph)
    marked = mark_svg(svg, {"a": state_style("success"), "b": INVALID_STYLE}, notes={"b": "bad"})
    root = ET.fromstring(marked)
    groups = {
        g.get("data-task-id"): g for g in root.iter(f"{{{SVG_NS}}}g") if g.get("class") == "task"
    }
    assert groups["a"].get("data-state") == "success"
    assert groups["b"].get("data-state") == "invalid"
    rects_b = list(groups["b"].iter(f"{{{SVG_NS}}}rect"))
    assert len(rects_b) == 2 and all(r.get("stroke") == INVALID_STYLE.stroke for r in rects_b)
    assert "bad" in groups["b"].find(f"{{{SVG_NS}}}title").text
    assert len(list(root.iter(f"{{{SVG_NS}}}path"))) >= 1  # the edge is still drawn


def test_outputs_are_found_in_task_results() -> None:
    found = outputs_from_result({"output_notebook": "/x/out.ipynb", "m": {"mlflow_run_id": "abc"}})
    assert (found.output_notebook, found.mlflow_run_id) == ("/x/out.ipynb", "abc")
    assert outputs_from_result(42).output_notebook is None
    assert mlflow_run_url("http://m:5000/", "abc", "3") == "http://m:5000/#/experiments/3/runs/abc"


def test_diff_against_the_file_on_disk() -> None:
    assert diff_text("a\n", "a\n", "f.py") == ""
    diff = diff_text("a\nb\n", "a\nc\n", "f.py")
    assert "-b\n" in diff and "+c\n" in diff and "f.py (on disk)" in diff
    assert diff_text(None, "x\n", "f.py").startswith("--- /dev/null")
    assert diff_summary(None, "x\ny\n") == "new file (2 lines)"
    assert diff_summary("a\nb\n", "a\nc\n") == "changed: +1 -1 lines against the file on disk"
    assert "#e6ffed" in diff_html(diff) and "&lt;" in diff_html("+<tag>")

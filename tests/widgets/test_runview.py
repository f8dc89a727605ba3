"""Run view logic: states, colours, progress, the API's task graph, marks on the SVG (pure)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from kit.client import AirflowClient
from kit.client.models import DagRun, DagTask, TaskRun
from kit.client.protocol import AirflowApi
from kit.preview.graph import Node, TaskGraph
from kit.preview.svg import render_svg
from kit.widgets.codeview import diff_html, diff_summary, diff_text
from kit.widgets.runview import (
    INVALID_STYLE,
    SVG_NS,
    aggregate_state,
    graph_from_dag_tasks,
    label_for_task,
    mark_svg,
    mlflow_run_url,
    outputs_from_result,
    run_progress,
    state_style,
    task_states,
)
from tests.fakes.airflow_api import FakeAirflow
from tests.fakes.airflow_world import FakeTask


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


def test_graph_from_the_dag_tasks_airflow_loaded() -> None:
    graph = graph_from_dag_tasks(
        "d",
        [
            DagTask("b", "@task", False, upstream=("a",), downstream=()),
            DagTask("a", None, True, upstream=(), downstream=("b", "gone")),
        ],
    )
    assert [n.id for n in graph.nodes] == ["a", "b"]
    assert graph.edges == (("a", "b"),)  # a link to a task not listed is dropped
    assert graph.node("a").mapped and graph.node("a").kind == "task"
    assert graph.node("b").kind == "@task"


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


def test_a_registering_tasks_result_names_its_model_version() -> None:
    result = {"name": "bc", "version": 3, "registered_uri": "models:/bc/3", "run_id": "r"}
    assert outputs_from_result(result).registered_model == "bc/3"
    assert outputs_from_result({"model_uri": "models:/m-1"}).registered_model is None


def test_the_lineage_table_links_each_step_and_marks_what_is_unknown() -> None:
    from kit.lineage.chain import build, parse_ref
    from kit.widgets.runview import lineage_html
    from tests.lineage.test_chain import SHA, sources

    page = lineage_html(build(parse_ref("bc@champion"), sources()))
    assert "Lineage of bc@champion</b> (complete)" in page and SHA in page
    assert page.count("<tr") == 8 and "href='http://mlflow:5000/#/models/bc/versions/3'" in page
    broken = lineage_html(build(parse_ref("bc@gone"), sources()))
    assert "incomplete" in broken and "unknown: alias @gone" in broken


def test_diff_against_the_file_on_disk() -> None:
    assert diff_text("a\n", "a\n", "f.py") == ""
    diff = diff_text("a\nb\n", "a\nc\n", "f.py")
    assert "-b\n" in diff and "+c\n" in diff and "f.py (on disk)" in diff
    assert diff_text(None, "x\n", "f.py").startswith("--- /dev/null")
    assert diff_summary(None, "x\ny\n") == "new file (2 lines)"
    assert diff_summary("a\nb\n", "a\nc\n") == "changed: +1 -1 lines against the file on disk"
    assert "#e6ffed" in diff_html(diff) and "&lt;" in diff_html("+<tag>")


@pytest.fixture
def airflow(tmp_path: Path) -> Iterator[AirflowClient]:
    """A real client on the shared fake Airflow API: DAG d (a -> mapped m), run r1 finished,
    m[0] a notebook task with an output notebook."""
    with FakeAirflow() as fake:
        fake.add_dag("d", task_ids=("a", "m"), downstream={"a": ("m",)}, mapped=frozenset("m"))
        run = fake.add_run("d", "r1")
        run.tasks = [FakeTask("a"), FakeTask("m", map_index=0), FakeTask("m", map_index=1)]
        fake.finish_run("d", "r1")
        run.tasks[2].state = "failed"
        notebook = tmp_path / "artifacts" / "d" / "r1" / "m[0].try1.ipynb"
        run.tasks[1].result = {"output_notebook": str(notebook), "n": 1}
        for task in run.tasks:
            task.log = [{"timestamp": None, "event": f"log of {task.task_id} #{task.map_index}"}]
        yield AirflowClient(fake.url, "admin", "pw", dags_dir=tmp_path, timeout=2.0)


def test_clicking_a_task_in_the_run_graph_picks_it(airflow: AirflowClient) -> None:
    from kit.widgets import RunMonitor
    from kit.widgets.graphview import ClickableGraph

    assert isinstance(airflow, AirflowApi)
    monitor = RunMonitor("d", client=airflow, background=False)  # the graph from Airflow's tasks
    view = monitor.graph_view
    assert isinstance(view, ClickableGraph) and "kit-run-graph" in view._dom_classes
    assert view.value.count('class="task"') == 2 and 'data-task-id="m"' in view.value
    assert view.value.count('class="edge"') == 1
    # What the front end does on a click: set `selected` to the box's data-task-id.
    view.selected = "a"
    assert monitor.task_pick.value == "a"
    assert "log of a #-1" in monitor.log_view.value
    view.selected = "m"  # a mapped task: its first instance
    assert monitor.task_pick.value == "m[0]"
    assert "log of m #0" in monitor.log_view.value
    # Its result names its output notebook: one click opens it in JupyterLab.
    assert "m[0].try1.ipynb" in monitor.task_info.value
    (link,) = monitor.notebook_link.outputs
    assert "kit-open-notebook" in link["data"]["text/html"]
    # The dropdown still works, and the graph outlines what it picked.
    monitor.task_pick.value = "m[1]"
    assert "log of m #1" in monitor.log_view.value and monitor.notebook_link.outputs == ()
    monitor.task_pick.value = "a"
    assert view.selected == "a"
    monitor.task_pick.value = "(pick a task)"
    assert view.selected == ""
    assert monitor.lineage_button.layout.display == "none"  # "a" returned nothing traceable
    view.selected = "not_in_run"
    assert monitor.task_pick.value == "(pick a task)"


def test_the_graph_widget_sends_clicks_on_task_boxes() -> None:
    from kit.widgets.graphview import _ESM

    # The boxes it listens to are the ones render_svg draws, with their task id.
    assert "g.task[data-task-id]" in _ESM and 'getAttribute("data-task-id")' in _ESM
    assert 'model.set("selected", group.getAttribute("data-task-id"))' in _ESM
    assert "model.save_changes()" in _ESM
    svg = render_svg(TaskGraph("d", (Node("a", "bash"),), ()))
    assert '<g class="task" data-task-id="a">' in svg


def test_a_click_picks_the_task_or_its_first_mapped_instance() -> None:
    labels = ["(pick a task)", "a", "m[0]", "m[1]", "mm"]
    assert label_for_task("a", labels) == "a"
    assert label_for_task("m", labels) == "m[0]"
    assert label_for_task("mm", labels) == "mm"
    assert label_for_task("x", labels) is None


def test_the_output_notebook_link_is_relative_to_the_kernels_folder() -> None:
    from kit.widgets.monitor import notebook_link_output

    out = notebook_link_output(
        "/p/artifacts/etl/manual__2026-12-01T10:00:00+00:00/train[1].try2.ipynb",
        Path("/p/notebooks"),
    )
    markup = out["data"]["text/html"]
    # JupyterLab resolves it against the notebook's folder and opens it in a tab of its own.
    assert (
        "href='../artifacts/etl/manual__2026-12-01T10%3A00%3A00%2B00%3A00/train%5B1%5D.try2.ipynb'"
        in markup
    )
    assert "train[1].try2.html" in markup and out["output_type"] == "display_data"


def test_the_lineage_button_shows_the_chain_of_a_registered_model(
    airflow: AirflowClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kit.lineage import sources as lineage_sources
    from kit.widgets import RunMonitor
    from tests.lineage.test_chain import SHA, sources

    monitor = RunMonitor("d", client=airflow, background=False)
    asked = []
    # The chain's reads of MLflow and Airflow: the fake world of the chain's own tests.
    monkeypatch.setattr(
        lineage_sources, "live_sources", lambda client, url: asked.append(url) or sources()
    )
    monitor._show_outputs("register", {"registered_uri": "models:/bc@champion", "version": 3})
    assert monitor.lineage_button.layout.display == ""
    monitor.lineage_button.click()
    assert asked and "Lineage of bc@champion" in monitor.lineage_view.value
    assert SHA in monitor.lineage_view.value

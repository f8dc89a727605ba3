"""The pipeline canvas without a browser: the graph JSON it draws and the intents it sends."""

from __future__ import annotations

import fnmatch
import json
import math
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import traitlets

import kit.widgets.canvas.graph as canvas_module
from kit.preview.graph import Node, TaskGraph
from kit.preview.layout import layout
from kit.spec.io import spec_from_mapping
from kit.widgets.canvas import (
    FRONT_END_PARTS,
    INTENT_FIELDS,
    CanvasTask,
    Intent,
    IntentError,
    PipelineCanvas,
    canvas_graph,
    canvas_graph_from_spec,
    palette,
    parse_intent,
)
from kit.widgets.canvas.widget import front_end as canvas_esm
from kit.widgets.runview import INVALID_STYLE, STATE_STYLES

REPO = Path(__file__).resolve().parents[2]
CANVAS_DIR = REPO / "kit" / "widgets" / "canvas"
TASKS = [CanvasTask("a", "bash"), CanvasTask("b", "python"), CanvasTask("c", "notebook")]
LINKS = [("a", "b"), ("b", "c")]


def by_id(graph: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {node["id"]: node for node in graph["nodes"]}


# ---- the graph JSON ---------------------------------------------------------------------


def test_positions_are_the_preview_dot_layout() -> None:
    graph = canvas_graph(TASKS, LINKS)
    reference = layout(
        TaskGraph("", (Node("a", "bash"), Node("b", "python"), Node("c", "notebook")), (*LINKS,))
    )
    nodes = by_id(graph)
    for tid, box in reference.boxes.items():
        assert (nodes[tid]["x"], nodes[tid]["y"]) == (round(box.x, 1), round(box.y, 1))
        assert nodes[tid]["w"] == round(box.width, 1)
        assert nodes[tid]["pinned"] is False
    assert nodes["a"]["x"] < nodes["b"]["x"] < nodes["c"]["x"]  # left to right, as the preview
    edges = {edge["id"]: edge for edge in graph["edges"]}
    assert set(edges) == {"a->b", "b->c"}
    assert edges["a->b"]["points"] == [
        [round(x, 1), round(y, 1)] for x, y in reference.edges[("a", "b")]
    ]
    assert graph["width"] >= nodes["c"]["x"] + nodes["c"]["w"] / 2
    json.dumps(graph)  # what the widget syncs: plain JSON


def test_stored_positions_win_and_their_links_lose_dot_routes() -> None:
    graph = canvas_graph(TASKS, LINKS, positions={"c": (400.0, 90)})
    nodes = by_id(graph)
    assert (nodes["c"]["x"], nodes["c"]["y"], nodes["c"]["pinned"]) == (400.0, 90.0, True)
    assert nodes["a"]["pinned"] is False
    edges = {edge["id"]: edge for edge in graph["edges"]}
    assert edges["b->c"]["points"] == []  # the front end draws it between the boxes
    assert len(edges["a->b"]["points"]) >= 2
    assert graph["height"] == pytest.approx(90 + nodes["c"]["h"] / 2)


def test_stored_positions_in_the_spec_layout_shapes() -> None:
    class Position:  # as kit.spec.model's, an object with x and y
        x, y = 300.0, 50.0

    graph = canvas_graph(TASKS, LINKS, positions={"a": {"x": 5, "y": 6}, "b": Position()})
    nodes = by_id(graph)
    assert (nodes["a"]["x"], nodes["a"]["y"]) == (5.0, 6.0)
    assert (nodes["b"]["x"], nodes["b"]["y"]) == (300.0, 50.0)
    assert nodes["c"]["pinned"] is False


def test_a_spec_is_drawn_with_the_preview_graph_and_its_layout_section() -> None:
    spec = spec_from_mapping(
        {
            "dag_id": "canvas_spec",
            "tasks": [
                {"id": "prepare", "kind": "bash", "settings": {"command": "echo hi"}},
                {
                    "id": "report",
                    "kind": "bash",
                    "settings": {"command": "echo done"},
                    "upstream": ["prepare"],
                },
            ],
        }
    )
    graph = canvas_graph_from_spec(spec, problems={"report": "bad"}, states={"prepare": "queued"})
    nodes = by_id(graph)
    assert list(nodes) == ["prepare", "report"]
    assert [edge["id"] for edge in graph["edges"]] == ["prepare->report"]
    assert nodes["report"]["problem"] == "bad"
    assert nodes["prepare"]["state"] == "queued"
    assert nodes["prepare"]["x"] < nodes["report"]["x"]
    if "layout" in type(spec).model_fields:  # the optional section of issue #17
        data = spec.model_dump(mode="json", exclude_none=True)
        data["layout"] = {"positions": {"report": {"x": 7.0, "y": 8.0}}}
        placed = spec_from_mapping(data)
        moved = by_id(canvas_graph_from_spec(placed))["report"]
        assert (moved["x"], moved["y"], moved["pinned"]) == (7.0, 8.0, True)


def test_dot_does_not_run_when_every_task_has_a_stored_position() -> None:
    def no_dot(_graph: TaskGraph):
        raise AssertionError("dot ran")

    positions = {"a": (10, 10), "b": (110, 10), "c": (210, 10)}
    graph = canvas_graph(TASKS, LINKS, positions=positions, layout_fn=no_dot)
    assert [(n["x"], n["y"]) for n in graph["nodes"]] == [(10, 10), (110, 10), (210, 10)]
    assert all(n["w"] > 0 and n["h"] > 0 for n in graph["nodes"])


@pytest.mark.parametrize("bad", [(1.0,), (math.nan, 2.0), ("1", "2"), (True, 2), None, "12"])
def test_a_malformed_stored_position_is_ignored(bad: Any) -> None:
    graph = canvas_graph(TASKS, LINKS, positions={"a": bad})
    assert by_id(graph)["a"]["pinned"] is False


def test_problems_and_states_are_carried_with_their_colours() -> None:
    graph = canvas_graph(
        TASKS, LINKS, problems={"b": ["callable: not set", "retries: negative"], "c": ""}
    )
    nodes = by_id(graph)
    assert nodes["b"]["problem"] == "callable: not set\nretries: negative"
    assert (nodes["b"]["fill"], nodes["b"]["stroke"]) == (INVALID_STYLE.fill, INVALID_STYLE.stroke)
    assert "problem" not in nodes["a"] and "problem" not in nodes["c"]

    states = {"a": "success", "b": "upstream_failed", "c": None}
    nodes = by_id(canvas_graph(TASKS, LINKS, states=states))
    assert nodes["a"]["state"] == "success"
    assert nodes["a"]["fill"] == STATE_STYLES["success"].fill
    assert nodes["b"]["state"] == "upstream_failed"
    assert nodes["b"]["state_label"] == "upstream failed"
    assert nodes["b"]["stroke"] == STATE_STYLES["upstream_failed"].stroke
    assert nodes["c"]["state"] == "no_status"


def test_labels_kinds_and_fan_out_are_carried() -> None:
    tasks = [CanvasTask("train", "notebook", label="train (grid)", mapped=True), TASKS[0]]
    nodes = by_id(canvas_graph(tasks, []))
    assert nodes["train"]["label"] == "train (grid)"
    assert nodes["train"]["mapped"] is True
    assert nodes["a"]["label"] == "a" and nodes["a"]["kind"] == "bash"
    assert nodes["train"]["fill"] != nodes["a"]["fill"]  # coloured by kind, as the preview


def test_links_to_unknown_tasks_self_links_and_repeats_are_dropped() -> None:
    graph = canvas_graph(TASKS, [("a", "b"), ("a", "b"), ("a", "a"), ("ghost", "c"), ("b", "c")])
    assert [edge["id"] for edge in graph["edges"]] == ["a->b", "b->c"]


def test_duplicate_task_ids_are_refused() -> None:
    with pytest.raises(ValueError, match="unique: a"):
        canvas_graph([TASKS[0], CanvasTask("a", "python")], [])


def test_layout_is_reused_while_tasks_and_links_stay(monkeypatch: pytest.MonkeyPatch) -> None:
    runs: list[TaskGraph] = []

    def counting(graph: TaskGraph):
        runs.append(graph)
        return layout(graph)

    monkeypatch.setattr(canvas_module, "layout", counting)
    monkeypatch.setattr(canvas_module, "_layouts", type(canvas_module._layouts)())
    canvas_graph(TASKS, LINKS)
    canvas_graph(TASKS, LINKS, problems={"a": "bad"}, states={"b": "running"})
    assert len(runs) == 1
    canvas_graph(TASKS, [*LINKS, ("a", "c")])
    assert len(runs) == 2


def test_an_empty_graph() -> None:
    assert canvas_graph([], []) == {
        "nodes": [],
        "edges": [],
        "groups": [],
        "width": 0.0,
        "height": 0.0,
    }


# ---- the intent protocol ----------------------------------------------------------------

VALID: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "add_link": ({"source": "a", "target": "c"}, {"source": "a", "target": "c"}),
    "remove_link": ({"source": "a", "target": "b"}, {"source": "a", "target": "b"}),
    "select": ({"task": "b"}, {"task": "b"}),
    "move": ({"task": "b", "x": 10, "y": 20.5}, {"task": "b", "x": 10.0, "y": 20.5}),
    "delete": ({"task": "b"}, {"task": "b"}),
    "duplicate": ({"task": "b"}, {"task": "b"}),
    "rename": ({"task": "b", "new_id": "clean"}, {"task": "b", "new_id": "clean"}),
    "add_task": (
        {"kind": "notebook", "notebook": "notebooks/x.ipynb"},
        {"kind": "notebook", "notebook": "notebooks/x.ipynb"},
    ),
    "undo": ({}, {}),
    "redo": ({}, {}),
    "auto_layout": ({}, {}),
    "open_log": ({"task": "c"}, {"task": "c"}),
}


def test_every_intent_is_covered_here() -> None:
    assert set(VALID) == set(INTENT_FIELDS)


@pytest.fixture
def canvas() -> tuple[PipelineCanvas, list[Intent]]:
    widget = PipelineCanvas(graph=canvas_graph(TASKS, LINKS))
    got: list[Intent] = []
    widget.on_intent(got.append)
    return widget, got


def front_end(widget: PipelineCanvas, content: Any) -> None:
    """A custom message as the comm delivers it (``model.send(content)`` in the front end)."""
    widget._handle_msg(
        {"content": {"data": {"method": "custom", "content": content}}, "buffers": []}
    )


@pytest.mark.parametrize("name", sorted(VALID))
def test_each_intent_reaches_the_callback_with_its_arguments(
    canvas: tuple[PipelineCanvas, list[Intent]], name: str
) -> None:
    widget, got = canvas
    sent, expected = VALID[name]
    widget.message = "an old refusal"
    front_end(widget, {"intent": name, **sent, "extra": "ignored"})
    assert got == [Intent(name, expected)]
    assert widget.message == ""  # a new request clears the old refusal


def test_add_task_without_a_notebook() -> None:
    assert parse_intent({"intent": "add_task", "kind": "bash"}) == Intent(
        "add_task", {"kind": "bash"}
    )


def test_select_sets_the_selected_trait_and_an_empty_task_clears_it(
    canvas: tuple[PipelineCanvas, list[Intent]],
) -> None:
    widget, got = canvas
    front_end(widget, {"intent": "select", "task": "b"})
    assert widget.selected == "b"
    front_end(widget, {"intent": "select", "task": ""})
    assert widget.selected == ""
    assert [i.args["task"] for i in got] == ["b", ""]


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (["add_link", "a", "b"], "must be an object, not list"),
        ({"intent": "explode"}, "unknown canvas intent 'explode'; known intents: add_link"),
        ({}, "unknown canvas intent None"),
        ({"intent": "add_link", "source": "a"}, "add_link: missing field 'target'"),
        ({"intent": "move", "task": "a", "x": "10", "y": 2}, "'x' must be a number, not str"),
        ({"intent": "move", "task": "a", "x": True, "y": 2}, "'x' must be a number, not bool"),
        ({"intent": "move", "task": "a", "x": math.inf, "y": 2}, "'x' must be a finite number"),
        ({"intent": "delete", "task": 3}, "'task' must be a string, not int"),
        ({"intent": "rename", "task": "a", "new_id": "  "}, "rename: field 'new_id' is empty"),
        ({"intent": "add_task", "kind": "bash", "notebook": 1}, "'notebook' must be a string"),
    ],
)
def test_a_malformed_message_is_refused_with_a_clear_message(
    canvas: tuple[PipelineCanvas, list[Intent]], content: Any, error: str
) -> None:
    widget, got = canvas
    with pytest.raises(IntentError, match=re.escape(error)):
        parse_intent(content)
    front_end(widget, content)  # through the comm: no exception, the message says why
    assert got == []
    assert error in widget.message


def test_run_mode_lets_only_selection_and_logs_through(
    canvas: tuple[PipelineCanvas, list[Intent]],
) -> None:
    widget, got = canvas
    widget.mode = "run"
    front_end(widget, {"intent": "delete", "task": "a"})
    assert got == []
    assert widget.message == "delete is not possible in run mode (the canvas is read-only)"
    front_end(widget, {"intent": "open_log", "task": "a"})
    assert got == [Intent("open_log", {"task": "a"})]


def test_a_failing_callback_is_reported_not_raised(
    canvas: tuple[PipelineCanvas, list[Intent]],
) -> None:
    widget, got = canvas

    def broken(intent: Intent) -> None:
        raise RuntimeError("no such task")

    widget.on_intent(broken)
    front_end(widget, {"intent": "delete", "task": "a"})
    assert got == [Intent("delete", {"task": "a"})]
    assert widget.message == "delete failed: no such task"
    widget.on_intent(broken, remove=True)
    front_end(widget, {"intent": "delete", "task": "b"})
    assert widget.message == ""


def test_a_callback_may_refuse_with_a_message(
    canvas: tuple[PipelineCanvas, list[Intent]],
) -> None:
    widget, _got = canvas

    def refuse(intent: Intent) -> None:
        widget.message = "link c → a would make a cycle c → a → b → c"

    widget.on_intent(refuse)
    front_end(widget, {"intent": "add_link", "source": "c", "target": "a"})
    assert widget.message == "link c → a would make a cycle c → a → b → c"


def test_mode_is_checked() -> None:
    widget = PipelineCanvas()
    widget.mode = "run"
    with pytest.raises(traitlets.TraitError, match="mode must be one of"):
        widget.mode = "watch"


# ---- the add-task menu ------------------------------------------------------------------


def test_palette_lists_notebooks_with_their_parameters_and_the_kinds(project: Path) -> None:
    (project / "notebooks" / "broken.ipynb").write_text("not json")
    found = palette(project)
    notebooks = {nb["path"]: nb for nb in found["notebooks"]}
    assert set(notebooks) == {"notebooks/examples/square.ipynb", "notebooks/broken.ipynb"}
    square = notebooks["notebooks/examples/square.ipynb"]
    assert square["has_parameters_cell"] is True
    assert {"name": "x", "type": "int", "default": "2", "help": ""} in square["parameters"]
    assert "not a readable notebook" in notebooks["notebooks/broken.ipynb"]["error"]
    assert {"notebook", "python", "bash", "mlflow_register"} <= set(found["kinds"])
    json.dumps(found)


# ---- the front end's files ----------------------------------------------------------------


def test_front_end_ships_as_package_data_and_needs_no_network() -> None:
    widget = PipelineCanvas()
    assert "export default { render }" in widget._esm
    assert ".kit-canvas" in widget._css
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    globs = pyproject["tool"]["setuptools"]["package-data"]["kit"]
    for name in (*FRONT_END_PARTS, "canvas.css"):
        rel = f"widgets/canvas/{name}"
        assert any(fnmatch.fnmatch(rel, g) for g in globs), f"{rel} is not package data"
    js = canvas_esm()
    # No module imported, nothing fetched; the only URL is SVG's namespace name.
    pattern = (
        r"^\s*import\b|\bimport\(|\bfetch\(|XMLHttpRequest|https?://(?!www\.w3\.org/2000/svg\b)"
    )
    assert not re.search(pattern, js, re.M)


def test_the_front_end_is_one_module_of_small_parts() -> None:
    parts = {name: (CANVAS_DIR / name).read_text() for name in FRONT_END_PARTS}
    assert sorted(parts) == sorted(p.name for p in CANVAS_DIR.glob("*.js"))  # none left out
    for name, text in parts.items():
        assert len(text.splitlines()) <= 500, f"{name} has over 500 lines"
        # Only the last part exports: the joined text is one module with one default export.
        exports = text.count("export default")
        assert exports == (1 if name == FRONT_END_PARTS[-1] else 0), name
    assert PipelineCanvas()._esm == canvas_esm() == "\n".join(parts.values())


def test_the_front_end_sends_every_intent_and_no_other() -> None:
    js = canvas_esm()
    sent = set(re.findall(r'intent: "(\w+)"', js)) | set(re.findall(r'taskIntent\("(\w+)"\)', js))
    assert sent == set(INTENT_FIELDS)

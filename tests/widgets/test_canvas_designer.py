"""The canvas in the designer, driven as its front end does (``handle_intent``): every intent
becomes a draft edit, every edit redraws the canvas, a refusal is said on the canvas."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kit.spec.io import spec_from_mapping
from kit.spec.problems import error, warning
from kit.widgets import Designer
from kit.widgets.canvas import PipelineCanvas, parse_intent
from kit.widgets.canvas_view import (
    apply_edit,
    notebook_settings,
    notebook_task_id,
    task_problems,
)
from kit.widgets.draft import DraftError, PipelineDraft
from kit.widgets.editors import NotebookForm

SQUARE = "notebooks/examples/square.ipynb"


def designer(project: Path, **kw: Any) -> Designer:
    return Designer(project_dir=project, dags_dir=project / "dags", background=False, **kw)


def nodes(d: Designer) -> dict[str, dict[str, Any]]:
    return {node["id"]: node for node in d.canvas.graph["nodes"]}


def edges(d: Designer) -> set[tuple[str, str]]:
    return {(edge["source"], edge["target"]) for edge in d.canvas.graph["edges"]}


def send(d: Designer, intent: str, **fields: Any) -> None:
    assert d.canvas.handle_intent({"intent": intent, **fields}) is not None, d.canvas.message


def three_tasks(d: Designer) -> None:
    """square (notebook) -> report (bash), prep (python) -> report, all made on the canvas."""
    send(d, "add_task", kind="notebook", notebook=SQUARE)
    send(d, "add_task", kind="bash")
    send(d, "rename", task="bash", new_id="report")
    send(d, "add_task", kind="python")
    send(d, "rename", task="python", new_id="prep")
    send(d, "add_link", source="square", target="report")
    send(d, "add_link", source="prep", target="report")


def test_the_canvas_is_the_designers_main_view(project: Path) -> None:
    d = designer(project)
    assert isinstance(d.canvas, PipelineCanvas)
    main = d.widget.children[4]
    assert "kit-designer-main" in main._dom_classes
    canvas_box, side = main.children
    assert canvas_box.children == (d.canvas,) and side.children == (d.tabs,)
    # The add-task menu lists the project's notebooks with their parameters.
    (entry,) = d.canvas.palette["notebooks"]
    assert entry["path"] == SQUARE
    assert [p["name"] for p in entry["parameters"]] == ["x", "label", "scale"]
    assert {"notebook", "python", "bash"} <= set(d.canvas.palette["kinds"])
    assert d.canvas.graph["nodes"] == [] and d.canvas.can_undo is False


def test_a_notebook_from_the_palette_comes_with_its_parameters(project: Path) -> None:
    d = designer(project)
    send(d, "add_task", kind="notebook", notebook=SQUARE)
    task = d.draft.task("square")  # named after the notebook
    assert task["kind"] == "notebook"
    assert task["settings"]["notebook"] == SQUARE
    # Pre-filled as papermill reads the parameters cell: x = 2, label = "square", scale = 1.0.
    assert task["settings"]["parameters"] == {"x": 2, "label": "square", "scale": 1.0}
    # The new task is selected and its form opens in the side panel, filled in.
    assert d.selected == "square" and d.canvas.selected == "square"
    assert d.side_panel.shown is d.tasks
    assert isinstance(d.tasks.form, NotebookForm)
    assert d.tasks.task_inputs["id"].value == "square"
    assert d.tasks.form.parameters["label"].value == "square"
    assert list(nodes(d)) == ["square"] and nodes(d)["square"]["kind"] == "notebook"
    assert d.canvas.can_undo is True
    assert d.build.ok, d.problems


def test_building_three_tasks_and_links_only_on_the_canvas(project: Path) -> None:
    d = designer(project)
    three_tasks(d)
    assert d.draft.task_ids == ["square", "report", "prep"]
    assert set(d.draft.links) == {("square", "report"), ("prep", "report")}
    assert edges(d) == {("square", "report"), ("prep", "report")}
    # The upstream boxes of the form agree with the links drawn.
    send(d, "select", task="report")
    assert d.selected == "report" and d.side_panel.shown is d.tasks
    assert d.tasks.task_inputs["upstream"]["square"].value is True
    assert d.tasks.task_inputs["upstream"]["prep"].value is True


def test_a_link_that_closes_a_cycle_is_refused_on_the_canvas(project: Path) -> None:
    d = designer(project)
    three_tasks(d)
    before = list(d.draft.links)
    send(d, "add_link", source="report", target="square")
    assert "cycle" in d.canvas.message and "report" in d.canvas.message
    assert d.draft.links == before and edges(d) == set(before)
    # The next request clears the refusal.
    send(d, "select", task="square")
    assert d.canvas.message == ""


def test_removing_a_link_and_undoing_it(project: Path) -> None:
    d = designer(project)
    three_tasks(d)
    send(d, "remove_link", source="prep", target="report")
    assert ("prep", "report") not in d.draft.links
    assert edges(d) == {("square", "report")}
    assert d.canvas.can_redo is False
    send(d, "undo")
    assert ("prep", "report") in d.draft.links
    assert edges(d) == {("square", "report"), ("prep", "report")}
    assert d.canvas.can_redo is True
    send(d, "redo")
    assert edges(d) == {("square", "report")}


def test_rename_refused_then_done_links_follow(project: Path) -> None:
    d = designer(project)
    three_tasks(d)
    send(d, "rename", task="prep", new_id="2bad")
    assert "not a valid task id" in d.canvas.message
    send(d, "rename", task="prep", new_id="square")
    assert "already a task 'square'" in d.canvas.message
    assert d.draft.task_ids == ["square", "report", "prep"]
    send(d, "rename", task="prep", new_id="prepare")
    assert d.canvas.message == ""
    assert ("prepare", "report") in d.draft.links and "prepare" in nodes(d)
    assert d.selected == "prepare"


def test_delete_duplicate_and_undo(project: Path) -> None:
    d = designer(project)
    three_tasks(d)
    send(d, "duplicate", task="square")
    assert d.draft.task_ids == ["square", "square_copy", "report", "prep"]
    assert ("square_copy", "report") not in d.draft.links  # a copy has the same upstream only
    assert d.selected == "square_copy" and "square_copy" in nodes(d)
    send(d, "delete", task="report")
    assert "report" not in nodes(d) and d.draft.links == []
    send(d, "undo")
    assert "report" in nodes(d)
    assert set(d.draft.links) == {("square", "report"), ("prep", "report")}
    send(d, "delete", task="nope")
    assert "no task 'nope'" in d.canvas.message


def test_moving_pins_a_task_and_auto_layout_forgets_it(project: Path) -> None:
    d = designer(project)
    three_tasks(d)
    laid_out = nodes(d)["prep"]
    send(d, "move", task="prep", x=500.5, y=40)
    assert d.draft.positions == {"prep": (500.5, 40.0)}
    moved = nodes(d)["prep"]
    assert (moved["x"], moved["y"], moved["pinned"]) == (500.5, 40.0, True)
    assert (moved["x"], moved["y"]) != (laid_out["x"], laid_out["y"])
    send(d, "auto_layout")
    assert d.draft.positions == {}
    assert nodes(d)["prep"]["pinned"] is False
    assert (nodes(d)["prep"]["x"], nodes(d)["prep"]["y"]) == (laid_out["x"], laid_out["y"])
    send(d, "undo")
    assert nodes(d)["prep"]["pinned"] is True


def test_invalid_tasks_are_marked_and_the_mark_goes_when_fixed(project: Path) -> None:
    d = designer(project)
    send(d, "add_task", kind="python")  # no callable yet: invalid
    assert "problem" in nodes(d)["python"]
    assert "callable" in nodes(d)["python"]["problem"]
    d.tasks.form.inputs["callable"].value = "kit.runtime.examples:make_dataset"
    assert "problem" not in nodes(d)["python"]


def test_nothing_to_undo_and_unknown_kind_are_said(project: Path) -> None:
    d = designer(project)
    send(d, "undo")
    assert d.canvas.message == "there is nothing to undo."
    send(d, "add_task", kind="no_such_kind")
    assert "no_such_kind" in d.canvas.message and d.draft.task_ids == []


def test_picking_a_task_in_the_list_outlines_it_on_the_canvas(project: Path) -> None:
    d = designer(project)
    three_tasks(d)
    d.tasks.task_list.value = "square"
    assert d.canvas.selected == "square"
    # A selection cleared on the canvas (Escape) leaves the form as it is.
    send(d, "select", task="")
    assert d.selected == "square"


def test_a_dag_file_shown_read_only_leaves_the_canvas_read_only(
    project: Path, airflow_env: Any
) -> None:
    dag = project / "dags" / "plain.py"
    dag.write_text(
        "from airflow.sdk import dag, task\n"
        "@dag(dag_id='plain', schedule=None)\n"
        "def p():\n"
        "    @task\n    def a(): return 1\n"
        "p()\n"
    )
    d = designer(project)
    send(d, "add_task", kind="bash")
    d.load(dag)
    assert d.read_only_path == dag, d.toolbar.status.value
    # Drawn as Airflow parsed it (no task: a() is never called; tests/widgets/test_foreign_dag.py
    # draws real ones), the draft left behind it.
    assert d.canvas.mode == "run" and d.canvas.graph["nodes"] == []
    assert d.canvas.handle_intent({"intent": "add_task", "kind": "bash"}) is None
    assert d.draft.task_ids == ["bash"]
    d.selected = None
    d.canvas.handle_intent({"intent": "select", "task": "bash"})
    assert d.selected is None  # a click on the canvas never opens the hidden draft's form
    # Loading a spec again makes it editable.
    data = PipelineDraft.blank("again")
    data["tasks"] = [{"id": "a", "kind": "bash", "settings": {"command": "true"}}]
    d.load(spec_from_mapping(data))
    assert d.canvas.mode == "edit" and list(nodes(d)) == ["a"]


# ---- pure parts -------------------------------------------------------------------------------


def test_notebook_task_ids() -> None:
    assert notebook_task_id("notebooks/02-training-notebook.ipynb") == "training_notebook"
    assert notebook_task_id("a/Square.ipynb") == "square"
    assert notebook_task_id("notebooks/123.ipynb") == "notebook"
    assert notebook_task_id("class.ipynb") == "notebook"


def test_notebook_settings_keep_literal_defaults_only(tmp_path: Path) -> None:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    cell = nbformat.v4.new_code_cell(
        "import datetime\nday = datetime.date.today()\nn: int = 3\nnames = ('a', 'b')\nnone = None"
    )
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell]
    nbformat.write(nb, tmp_path / "p.ipynb")
    settings = notebook_settings(tmp_path, "p.ipynb")
    assert settings == {"notebook": "p.ipynb", "parameters": {"n": 3, "names": ["a", "b"]}}
    with pytest.raises(DraftError, match="cannot read missing.ipynb"):
        notebook_settings(tmp_path, "missing.ipynb")


def test_apply_edit_on_a_bare_draft(tmp_path: Path) -> None:
    draft = PipelineDraft()

    def edit(**content: Any) -> str | None:
        return apply_edit(draft, parse_intent(content), project_dir=tmp_path)

    assert edit(intent="add_task", kind="bash") == "bash"
    assert edit(intent="add_task", kind="bash") == "bash_2"
    assert edit(intent="add_link", source="bash", target="bash_2") is None
    with pytest.raises(DraftError, match="cycle"):
        edit(intent="add_link", source="bash_2", target="bash")
    assert edit(intent="rename", task="bash_2", new_id=" last ") == "last"
    assert draft.links == [("bash", "last")]
    with pytest.raises(ValueError, match="not an edit"):
        edit(intent="select", task="bash")
    with pytest.raises(DraftError, match="nothing to redo"):
        edit(intent="redo")


def test_task_problems_are_errors_per_task() -> None:
    problems = [
        error("a", "settings.command", "is empty"),
        error("a", "", "twice"),
        warning("b", "doc", "short"),
        error(None, "dag_id", "bad"),
    ]
    assert task_problems(problems) == {"a": ["settings.command: is empty", "twice"]}


def test_links_drawn_in_a_row_are_undone_one_by_one() -> None:
    draft = PipelineDraft()
    for kind in ("bash", "bash", "bash"):
        draft.add_task(kind)
    draft.add_link("bash", "bash_3")
    draft.add_link("bash_2", "bash_3")  # same task, same field: still a step of its own
    draft.remove_link("bash", "bash_3")
    assert draft.history.undo_label == "remove link"
    draft.undo()
    assert draft.links == [("bash", "bash_3"), ("bash_2", "bash_3")]
    draft.undo()
    assert draft.links == [("bash", "bash_3")]
    assert draft.history.undo_label == "add link"
